#pragma once
// Parameter values between Python and C++: a bool, an int or a float, and
// nothing else (docs/parameters.md). The rules (type, range, read only) are
// the ParamTable's; this only carries the value across.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <variant>

#include "py_util.hpp"
#include "sil/ipc/param_info.hpp"

namespace sil::python {

inline py::object param_to_py(const ipc::ParamValue& value) {
  return std::visit(
      [](auto v) -> py::object {
        using T = decltype(v);
        if constexpr (std::is_same_v<T, bool>) {
          return py::bool_(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return py::float_(v);
        } else {
          return py::int_(v);
        }
      },
      value);
}

// `what` names the value in the error ("thermostat.hysteresis_c").
inline ipc::ParamValue param_from_py(py::handle value, const std::string& what) {
  if (PyBool_Check(value.ptr())) return value.ptr() == Py_True;
  if (PyFloat_Check(value.ptr())) return PyFloat_AsDouble(value.ptr());
  if (PyLong_Check(value.ptr())) {
    int overflow = 0;
    const long long number = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow == 0) {
      if (number == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
      return static_cast<std::int64_t>(number);
    }
    if (overflow > 0) {
      const unsigned long long big = PyLong_AsUnsignedLongLong(value.ptr());
      if (PyErr_Occurred() == nullptr) return static_cast<std::uint64_t>(big);
      PyErr_Clear();
    }
    throw py::value_error(what + ": " + py::repr(value).cast<std::string>() +
                          " does not fit any parameter type (int64 or uint64)");
  }
  throw py::type_error(what + ": a parameter value is a bool, an int or a float, got " + type_name(value));
}

}  // namespace sil::python
