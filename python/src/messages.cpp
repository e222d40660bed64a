// MsgId and the message classes, generated from the catalogue.
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "message_class.hpp"
#include "sil/ipc/catalogue.hpp"

namespace sil::python {

void add_messages(py::module_& module) {
  // Catalogue entries are named after their MsgId enumerator, so the enum
  // members can be derived from the catalogue as well.
  py::enum_<ipc::MsgId> ids(module, "MsgId", "Every message id of the catalogue; the values are the wire ids.");
  ipc::Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    ids.value(std::string(T::name).c_str(), T::id);
  });

  ipc::Catalogue::for_each([&](auto type) { bind_message<typename decltype(type)::type>(module); });

  module.def(
      "message_types",
      [] {
        py::list types;
        ipc::Catalogue::for_each([&](auto type) { types.append(py::type::of<typename decltype(type)::type>()); });
        return types;
      },
      "Every message class, in catalogue order.");
}

}  // namespace sil::python
