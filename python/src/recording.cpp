// The framing of recordings (magic, length, CRC-32C) through
// sil::record::FrameReader, the code the C++ tools use: Python never
// re-implements the validation, so both accept exactly the same files.
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

#include "bindings.hpp"
#include "py_util.hpp"
#include "sil/record/crc32c.hpp"
#include "sil/record/frame_reader.hpp"

namespace sil::python {

namespace {

// Iterates the records of a recording held in any buffer (bytes, an mmap).
// The buffer stays exported, so the file's bytes cannot change under the
// reader; the final status says why iteration stopped.
class RecordFrames {
 public:
  explicit RecordFrames(py::handle file) : view_(file, "RecordFrames()"), reader_(view_.bytes()) {}

  py::bytes next() {
    if (status_ != record::FrameStatus::ok) throw py::stop_iteration();
    std::span<const std::byte> record;
    status_ = reader_.next(record);
    if (status_ != record::FrameStatus::ok) throw py::stop_iteration();
    // One allocation, sized by a length FrameReader has checked against the
    // bytes in the buffer.
    return {reinterpret_cast<const char*>(record.data()), record.size()};
  }

  std::string status() const { return std::string(record::to_string(status_)); }
  std::size_t offset() const noexcept { return reader_.offset(); }

 private:
  ByteView view_;
  record::FrameReader reader_;
  record::FrameStatus status_ = record::FrameStatus::ok;
};

}  // namespace

void add_recording(py::module_& module) {
  py::class_<RecordFrames>(module, "RecordFrames",
                           "Iterates the serialized sil.record.Record of each frame of a recording in a buffer "
                           "(bytes, mmap), checking magic, lengths and CRC-32C. When iteration stops, .status says "
                           "why: 'end', 'torn tail', 'bad magic', 'record too long' or 'bad checksum'; .offset is "
                           "the byte offset of the frame last examined.")
      .def(py::init<py::handle>(), py::arg("file"))
      .def("__iter__", [](RecordFrames& self) -> RecordFrames& { return self; })
      .def("__next__", &RecordFrames::next)
      .def_property_readonly("status", &RecordFrames::status,
                             "'ok' while iterating; afterwards 'end', 'torn tail', 'bad magic', 'record too long' or "
                             "'bad checksum'.")
      .def_property_readonly("offset", &RecordFrames::offset,
                             "Byte offset of the frame last examined (0 for the magic).");

  module.def(
      "crc32c",
      [](py::handle data) {
        const ByteView view(data, "crc32c()");
        return record::crc32c(view.bytes());
      },
      py::arg("data"), "CRC-32C (Castagnoli) of data, the checksum of a recording's frames.");
  module.attr("RECORD_MAGIC") = py::bytes(record::kMagic.data(), record::kMagic.size());
  module.attr("MAX_RECORD_BYTES") = py::int_(record::kMaxRecordBytes);
}

}  // namespace sil::python
