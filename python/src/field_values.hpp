#pragma once
// Converts one payload field between its wire type and a Python value,
// checking what Python hands us: a payload field has a fixed width, and a
// value that does not fit must fail loudly rather than wrap or be cut.
#include <pybind11/pybind11.h>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "py_util.hpp"
#include "sil/ipc/field.hpp"
#include "sil/ipc/wire_types.hpp"

namespace sil::python {

// "RevisionResponse.git_revision": how errors name a field.
struct FieldRef {
  std::string_view message;
  std::string_view field;
  ipc::FieldKind kind;

  std::string str() const { return std::string(message) + "." + std::string(field); }
};

namespace detail {

// The arithmetic type a wire field holds: uint8_t for uint8_t, T for Le<T>.
template <class W>
struct ValueOf {
  using type = W;
};
template <class T>
struct ValueOf<ipc::Le<T>> {
  using type = T;
};

inline std::string repr_or(py::handle value, const char* fallback) {
  // repr of a huge int raises under Python's int-to-str digit limit.
  try {
    return py::repr(value).cast<std::string>();
  } catch (const py::error_already_set&) {
    return fallback;
  }
}

template <class V>
[[noreturn]] void out_of_range(py::handle value, const FieldRef& ref) {
  raise(PyExc_OverflowError, ref.str() + ": " + repr_or(value, "value") + " is out of range for " +
                                 std::string(ipc::to_string(ref.kind)) + " (" +
                                 std::to_string(std::numeric_limits<V>::min()) + ".." +
                                 std::to_string(std::numeric_limits<V>::max()) + ")");
}

template <std::integral V>
V integer_from(py::handle value, const FieldRef& ref) {
  // bool is an int to Python, but True in a counter field is a bug.
  if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr())) {
    throw py::type_error(ref.str() + " must be an int, got " + type_name(value));
  }
  const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!index) throw py::error_already_set();
  if constexpr (std::is_signed_v<V>) {
    int overflow = 0;
    const long long wide = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (wide == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
    if (overflow == 0 && wide >= std::numeric_limits<V>::min() && wide <= std::numeric_limits<V>::max()) {
      return static_cast<V>(wide);
    }
  } else {
    const unsigned long long wide = PyLong_AsUnsignedLongLong(index.ptr());
    if (PyErr_Occurred() == nullptr) {
      if (wide <= std::numeric_limits<V>::max()) return static_cast<V>(wide);
    } else if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();  // negative or wider than 64 bits: reported below with the range
    } else {
      throw py::error_already_set();
    }
  }
  out_of_range<V>(index, ref);
}

template <std::floating_point V>
V floating_from(py::handle value, const FieldRef& ref) {
  if (PyBool_Check(value.ptr()) || !(PyFloat_Check(value.ptr()) || PyIndex_Check(value.ptr()))) {
    throw py::type_error(ref.str() + " must be a float, got " + type_name(value));
  }
  const double wide = PyFloat_AsDouble(value.ptr());
  if (wide == -1.0 && PyErr_Occurred() != nullptr) {
    if (!PyErr_ExceptionMatches(PyExc_OverflowError)) throw py::error_already_set();
    PyErr_Clear();
    raise(PyExc_OverflowError, ref.str() + ": " + repr_or(value, "value") + " does not fit a " +
                                   std::string(ipc::to_string(ref.kind)));
  }
  if (std::isfinite(wide) && std::fabs(wide) > static_cast<double>(std::numeric_limits<V>::max())) {
    raise(PyExc_OverflowError, ref.str() + ": " + repr_or(value, "value") + " does not fit a " +
                                   std::string(ipc::to_string(ref.kind)));
  }
  return static_cast<V>(wide);
}

// surrogateescape both ways: bytes from the wire that are not UTF-8 come
// back as escapes and go out again unchanged.
inline py::object text_to_python(std::string_view text) {
  auto result = py::reinterpret_steal<py::object>(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape"));
  if (!result) throw py::error_already_set();
  return result;
}

template <std::size_t N>
void text_from(ipc::FixedString<N>& out, py::handle value, const FieldRef& ref) {
  if (!PyUnicode_Check(value.ptr())) throw py::type_error(ref.str() + " must be a str, got " + type_name(value));
  const auto encoded =
      py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(value.ptr(), "utf-8", "surrogateescape"));
  if (!encoded) {
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) throw py::error_already_set();
    const py::error_already_set error;  // takes the pending exception
    throw py::value_error(ref.str() + ": " + error.what());
  }
  char* data = nullptr;
  Py_ssize_t length = 0;
  if (PyBytes_AsStringAndSize(encoded.ptr(), &data, &length) != 0) throw py::error_already_set();
  const auto size = static_cast<std::size_t>(length);
  if (size > N) {
    throw py::value_error(ref.str() + " holds at most " + std::to_string(N) + " bytes of UTF-8, got " +
                          std::to_string(size));
  }
  // The wire text ends at the first NUL; anything after it would be lost.
  if (std::memchr(data, '\0', size) != nullptr) throw py::value_error(ref.str() + " must not contain NUL");
  out.assign(std::string_view(data, size));
}

}  // namespace detail

// F is a field descriptor (sil::ipc::Field<&T::member>).
template <class F>
py::object field_to_python(const typename F::Owner& message) {
  const auto& wire = F::get(message);
  if constexpr (F::kind == ipc::FieldKind::text) {
    return detail::text_to_python(wire.view());
  } else {
    using V = typename detail::ValueOf<typename F::Type>::type;
    const V value = wire;
    if constexpr (std::is_floating_point_v<V>) {
      return py::float_(static_cast<double>(value));
    } else {
      return py::int_(value);
    }
  }
}

template <class F>
void field_from_python(typename F::Owner& message, py::handle value, const FieldRef& ref) {
  auto& wire = F::get(message);
  if constexpr (F::kind == ipc::FieldKind::text) {
    detail::text_from(wire, value, ref);
  } else {
    using V = typename detail::ValueOf<typename F::Type>::type;
    if constexpr (std::is_floating_point_v<V>) {
      wire = detail::floating_from<V>(value, ref);
    } else {
      wire = detail::integer_from<V>(value, ref);
    }
  }
}

}  // namespace sil::python
