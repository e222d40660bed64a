// MsgId and the message classes, generated from the catalogue.
#include <pybind11/pybind11.h>

#include <string>

#include "bindings.hpp"
#include "message_class.hpp"
#include "param_values.hpp"
#include "system.hpp"
#include "sil/ipc/catalogue_info.hpp"

namespace sil::python {

void add_messages(py::module_& module) {
  // Catalogue entries are named after their MsgId enumerator, so the enum
  // members can be derived from the catalogue as well.
  py::enum_<ipc::MsgId> ids(module, "MsgId", py::module_local(), "Every message id of the catalogue; the values are the wire ids.");
  Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    ids.value(std::string(T::name).c_str(), T::id);
  });

  Catalogue::for_each([&](auto type) { bind_message<typename decltype(type)::type>(module); });

  module.def(
      "message_types",
      [] {
        py::list types;
        Catalogue::for_each([&](auto type) { types.append(py::type::of<typename decltype(type)::type>()); });
        return types;
      },
      "Every message class, in catalogue order.");

  // The layout table the control plane's GetCatalogue sends, from the same
  // descriptors; sil.catalogue builds decoders from either.
  module.def(
      "catalogue_info",
      [] {
        py::list messages;
        for (const auto& message : ipc::catalogue_info<Catalogue>().messages) {
          py::list fields;
          for (const auto& f : message.fields) {
            fields.append(py::make_tuple(std::string(f.name), std::string(ipc::to_string(f.kind)), f.offset, f.size,
                                         f.count));
          }
          messages.append(py::make_tuple(static_cast<unsigned>(message.id), std::string(message.name), message.size,
                                         fields));
        }
        return messages;
      },
      "[(id, name, size, [(field, kind, offset, size, count), ...]), ...] in catalogue order; count is 1 for "
      "scalars and the capacity in bytes for text.");

  // The parameter table the control plane's GetCatalogue sends.
  module.def(
      "params_info",
      [] {
        py::list params;
        for (const auto& p : Simulation::catalogue_info().params) {
          params.append(py::make_tuple(p.name, std::string(ipc::to_string(p.kind)), param_to_py(p.default_value),
                                       param_to_py(p.min), param_to_py(p.max), std::string(p.unit),
                                       std::string(p.description), p.read_only, p.restart));
        }
        return params;
      },
      "[(name, type, default, min, max, unit, description, read_only, restart), ...] in catalogue order "
      "(docs/parameters.md).");

  // The counters the control plane's GetCatalogue lists.
  module.def(
      "counters_info",
      [] {
        py::list counters;
        for (const auto& c : Simulation::catalogue_info().counters) {
          counters.append(py::make_tuple(c.name, std::string(c.description)));
        }
        return counters;
      },
      "[(name, description), ...] in catalogue order (docs/counters.md).");
}

}  // namespace sil::python
