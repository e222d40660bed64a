#pragma once
// Small helpers shared by the binding files: raising a Python exception of a
// type pybind11 has no C++ class for, and borrowing the bytes of any
// bytes-like object without copying them.
#include <pybind11/pybind11.h>

#include <cstddef>
#include <span>
#include <string>

namespace sil::python {

namespace py = pybind11;

// pybind11 maps only a few C++ exceptions to Python ones; OverflowError and
// the module's own DecodeError are raised through the C API instead.
[[noreturn]] inline void raise(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  throw py::error_already_set();
}

inline std::string type_name(py::handle value) { return Py_TYPE(value.ptr())->tp_name; }

// A contiguous read-only view of a bytes, bytearray, memoryview or any
// other buffer exporter, released when the view goes out of scope.
class ByteView {
 public:
  ByteView(py::handle object, const std::string& what) {
    if (PyUnicode_Check(object.ptr()) || !PyObject_CheckBuffer(object.ptr())) {
      throw py::type_error(what + " needs a bytes-like object (bytes, bytearray, memoryview), got " +
                           type_name(object));
    }
    // A non-contiguous buffer fails here with Python's own BufferError.
    if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  }
  ~ByteView() { PyBuffer_Release(&view_); }
  ByteView(const ByteView&) = delete;
  ByteView& operator=(const ByteView&) = delete;

  std::span<const std::byte> bytes() const noexcept {
    return {static_cast<const std::byte*>(view_.buf), static_cast<std::size_t>(view_.len)};
  }

 private:
  Py_buffer view_{};
};

}  // namespace sil::python
