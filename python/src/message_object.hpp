#pragma once
// Between catalogue messages and their Python objects, for every binding
// that takes or gives one (encode/decode, InprocSim, Receiver, StepLink).
#include <pybind11/pybind11.h>

#include <variant>

#include "system.hpp"

namespace sil::python {

namespace py = pybind11;

// Calls fn(const T&) with the payload of `object` when it is an instance of
// a catalogue message class T; false (fn not called) for anything else.
template <class Fn>
bool with_message(py::handle object, Fn&& fn) {
  bool found = false;
  Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    if (found || !py::isinstance<T>(object)) return;
    found = true;
    fn(object.cast<const T&>());
  });
  return found;
}

// The Python object for whichever message a catalogue variant holds.
template <class Variant>
py::object message_object(const Variant& message) {
  return std::visit([](const auto& payload) -> py::object { return py::cast(payload); }, message);
}

}  // namespace sil::python
