// The framing of recordings (magic, length, CRC-32C) through
// sil::record::FrameReader, the code the C++ tools use: Python never
// re-implements the validation, so both accept exactly the same files.
// RecordMessages also parses Message records here, with the C++ protobuf
// code, because building a Python protobuf object per message costs several
// times what the rest of reading does.
#include <pybind11/pybind11.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "bindings.hpp"
#include "py_util.hpp"
#include "sil/record/crc32c.hpp"
#include "sil/record/frame_reader.hpp"
#include "sil_record.pb.h"

namespace sil::python {

namespace {

py::bytes to_bytes(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The frames of a recording held in any buffer (bytes, an mmap). The buffer
// stays exported, so the file's bytes cannot change under the reader; the
// final status says why the frames ended.
class FrameCursor {
 public:
  FrameCursor(py::handle file, const char* what) : view_(file, what), reader_(view_.bytes()) {}

  // The next record's bytes, checked; or Python's StopIteration, for good.
  std::span<const std::byte> next_frame() {
    if (status_ != record::FrameStatus::ok) throw py::stop_iteration();
    std::span<const std::byte> record;
    status_ = reader_.next(record);
    if (status_ != record::FrameStatus::ok) throw py::stop_iteration();
    return record;
  }

  std::string status() const { return std::string(record::to_string(status_)); }
  std::size_t offset() const noexcept { return reader_.offset(); }

 private:
  ByteView view_;
  record::FrameReader reader_;
  record::FrameStatus status_ = record::FrameStatus::ok;
};

// Each frame's serialized sil.record.Record, as bytes: one allocation, sized
// by a length FrameReader has checked against the bytes in the buffer.
class RecordFrames : public FrameCursor {
 public:
  explicit RecordFrames(py::handle file) : FrameCursor(file, "RecordFrames()") {}

  py::bytes next() { return to_bytes(next_frame()); }
};

// Message records as tuples (sim_time_ns, wall_ns, msg_id, direction,
// payload). Any other record (the header, the footer, a kind this build
// does not know, bytes that do not parse) stops the iteration with that
// record's bytes in .held, for Python to judge; iterating again continues
// after it.
class RecordMessages : public FrameCursor {
 public:
  explicit RecordMessages(py::handle file) : FrameCursor(file, "RecordMessages()") {}

  py::tuple next() {
    held_.reset();
    const auto bytes = next_frame();
    if (!record_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !record_.has_message()) {
      held_ = bytes;
      throw py::stop_iteration();
    }
    const auto& message = record_.message();
    const std::string& payload = message.payload();
    return py::make_tuple(message.sim_time_ns(), message.wall_ns(), message.msg_id(),
                          static_cast<int>(message.direction()), py::bytes(payload.data(), payload.size()));
  }

  py::object held() const { return held_ ? py::object(to_bytes(*held_)) : py::object(py::none()); }

 private:
  record::Record record_;  // reused: parsing allocates only when a payload outgrows the last one
  std::optional<std::span<const std::byte>> held_;
};

// What both iterators have in Python: construction from a buffer,
// iteration, .status and .offset.
template <typename Iterator>
py::class_<Iterator> bind_frames(py::module_& module, const char* name, const char* doc) {
  return py::class_<Iterator>(module, name, py::module_local(), doc)
      .def(py::init<py::handle>(), py::arg("file"))
      .def("__iter__", [](Iterator& self) -> Iterator& { return self; })
      .def("__next__", &Iterator::next)
      // Lambdas, not member pointers: those would name FrameCursor, which
      // pybind11 does not know, as the type of self.
      .def_property_readonly("status", [](const Iterator& self) { return self.status(); },
                             "'ok' while iterating (or holding a record); afterwards 'end', 'torn tail', "
                             "'bad magic', 'record too long' or 'bad checksum'.")
      .def_property_readonly("offset", [](const Iterator& self) { return self.offset(); },
                             "Byte offset of the frame last examined (0 for the magic).");
}

}  // namespace

void add_recording(py::module_& module) {
  bind_frames<RecordFrames>(module, "RecordFrames",
                            "Iterates the serialized sil.record.Record of each frame of a recording in a buffer "
                            "(bytes, mmap), checking magic, lengths and CRC-32C. When iteration stops, .status "
                            "says why; .offset is the byte offset of the frame last examined.");
  bind_frames<RecordMessages>(module, "RecordMessages",
                              "Iterates the Message records of a recording in a buffer as (sim_time_ns, wall_ns, "
                              "msg_id, direction, payload) tuples, with the checks of RecordFrames. Any other "
                              "record stops the iteration with its bytes in .held (None otherwise); iterating "
                              "again continues after it.")
      .def_property_readonly("held", &RecordMessages::held,
                             "The serialized record that stopped the iteration, when it was not a Message "
                             "(or did not parse); else None.");

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
