#pragma once
// One Python class per catalogue message, built from the struct's field
// descriptors alone: nothing here names a message or a field, so a message
// added to the catalogue gets its class without touching the binding.
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "field_values.hpp"
#include "py_util.hpp"
#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"

namespace sil::python {

template <ipc::Message T>
struct FieldEntry {
  std::string name;
  std::string doc;
  ipc::FieldKind kind;
  std::size_t offset;
  std::size_t size;
  py::object (*get)(const T&);
  void (*set)(T&, py::handle, const FieldRef&);

  FieldRef ref() const { return {T::name, name, kind}; }
};

// Built once per type and kept for the life of the process: the property
// accessors of the class hold pointers into it.
template <ipc::Message T>
const std::vector<FieldEntry<T>>& field_table() {
  static const std::vector<FieldEntry<T>> table = [] {
    std::vector<FieldEntry<T>> entries;
    ipc::for_each_field<T>([&](auto descriptor, std::size_t offset) {
      using F = decltype(descriptor);
      const std::string kind(ipc::to_string(F::kind));
      entries.push_back({std::string(descriptor.name),
                         kind + ", " + std::to_string(F::size) + " bytes at offset " + std::to_string(offset),
                         F::kind, offset, F::size, &field_to_python<F>, &field_from_python<F>});
    });
    return entries;
  }();
  return table;
}

template <ipc::Message T>
const FieldEntry<T>* find_field(std::string_view name) {
  for (const auto& entry : field_table<T>()) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

template <ipc::Message T>
std::string field_names() {
  std::string names;
  for (const auto& entry : field_table<T>()) names += (names.empty() ? "" : ", ") + entry.name;
  return names;
}

// Whether a field left out of the keyword arguments is an error (the
// constructor: a payload with a silent zero in it is a wrong payload that
// looks right) or zero (Msg.zero(), where the caller asked for zeros).
enum class Missing { error, zero };

// The one path from keyword arguments to a payload, for the constructor and
// for zero(): the same checks and the same messages for both.
template <ipc::Message T>
T from_arguments(const py::args& args, const py::kwargs& kwargs, Missing missing) {
  const std::string type(T::name);
  const std::string call = type + (missing == Missing::zero ? ".zero()" : "()");
  if (!args.empty()) {
    throw py::type_error(call + " takes keyword arguments only (" + field_names<T>() + "), got " +
                         std::to_string(args.size()) + " positional");
  }
  const auto& table = field_table<T>();
  std::vector<bool> given(table.size(), false);
  T message{};
  for (const auto& [key, value] : kwargs) {
    const auto name = std::string(py::str(key));
    const auto* entry = find_field<T>(name);
    if (entry == nullptr) {
      throw py::type_error(call + " got an unexpected keyword argument '" + name + "' (fields: " +
                           field_names<T>() + ")");
    }
    entry->set(message, value, entry->ref());
    given[static_cast<std::size_t>(entry - table.data())] = true;
  }
  if (missing == Missing::error) {
    std::string absent;
    std::size_t count = 0;
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (given[i]) continue;
      absent += (absent.empty() ? "'" : ", '") + table[i].name + "'";
      ++count;
    }
    if (count != 0) {
      throw py::type_error(call + " missing " + std::to_string(count) + (count == 1 ? " field: " : " fields: ") +
                           absent + " (give every field, or use " + type +
                           ".zero(...) for zeros in the fields not given)");
    }
  }
  return message;
}

template <ipc::Message T>
std::string repr(const T& message) {
  std::string out = std::string(T::name) + "(";
  bool first = true;
  for (const auto& entry : field_table<T>()) {
    out += (first ? "" : ", ") + entry.name + "=" + py::repr(entry.get(message)).template cast<std::string>();
    first = false;
  }
  return out + ")";
}

template <ipc::Message T>
T from_bytes(py::handle data) {
  const ByteView view(data, std::string(T::name) + ".from_bytes()");
  if (view.bytes().size() != sizeof(T)) {
    throw py::value_error(std::string(T::name) + " needs exactly " + std::to_string(sizeof(T)) + " bytes, got " +
                          std::to_string(view.bytes().size()));
  }
  T message{};
  std::memcpy(&message, view.bytes().data(), sizeof(T));
  return message;
}

template <ipc::Message T>
void bind_message(py::module_& module) {
  const std::string class_name(T::name);
  const std::string doc = class_name + ": MsgId " + std::to_string(static_cast<unsigned>(T::id)) + ", " +
                          std::to_string(sizeof(T)) +
                          " payload bytes. Construct with every field as a keyword argument; " +
                          class_name + ".zero(**fields) for zeros in the fields not given.";
  py::class_<T> cls(module, class_name.c_str(), py::module_local(), doc.c_str());

  cls.def(py::init([](const py::args& args, const py::kwargs& kwargs) {
    return from_arguments<T>(args, kwargs, Missing::error);
  }));
  cls.def_static(
      "zero",
      [](const py::args& args, const py::kwargs& kwargs) { return from_arguments<T>(args, kwargs, Missing::zero); },
      "Every field zero, then the fields given as keyword arguments set (checked as the constructor checks them).");
  for (const auto& entry : field_table<T>()) {
    const auto* e = &entry;
    cls.def_property(
        e->name.c_str(), [e](const T& message) { return e->get(message); },
        [e](T& message, py::handle value) { e->set(message, value, e->ref()); }, e->doc.c_str());
  }

  cls.attr("ID") = py::cast(T::id);
  cls.attr("SIZE") = py::int_(sizeof(T));
  cls.attr("NAME") = py::str(class_name);

  cls.def("to_bytes", [](const T& message) {
    return py::bytes(reinterpret_cast<const char*>(&message), sizeof(T));
  }, "The payload bytes, exactly SIZE of them, without the MsgId header.");
  cls.def_static("from_bytes", &from_bytes<T>, py::arg("data"),
                 "The message whose payload is data; data must be exactly SIZE bytes.");
  cls.def_static(
      "fields",
      [] {
        py::list out;
        for (const auto& entry : field_table<T>()) {
          out.append(py::make_tuple(entry.name, std::string(ipc::to_string(entry.kind)), entry.offset, entry.size));
        }
        return out;
      },
      "[(name, kind, offset, size), ...] in wire order.");
  // Equality is byte equality: exactly what the peer would receive.
  cls.def("__eq__", [](const T& self, py::handle other) -> py::object {
    if (!py::isinstance<T>(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::bool_(std::memcmp(&self, &other.cast<const T&>(), sizeof(T)) == 0);
  });
  cls.attr("__hash__") = py::none();  // mutable, so unhashable like a list
  // A message is plain bytes: copy.copy and copy.deepcopy are the same copy.
  cls.def("__copy__", [](const T& self) { return self; });
  cls.def("__deepcopy__", [](const T& self, py::handle /*memo*/) { return self; }, py::arg("memo"));
  cls.def("__repr__", &repr<T>);
}

}  // namespace sil::python
