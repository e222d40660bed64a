// Recordings through sil::record::Reader and recover(), the code sil-sim
// uses: Python never re-implements the framing, the damage rules or the
// structure checks, so both accept exactly the same files. Message records
// are parsed here, with the C++ protobuf code, because building a Python
// protobuf object per message costs several times what the rest of reading
// does.
#include <pybind11/pybind11.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include "bindings.hpp"
#include "py_util.hpp"
#include "sil/record/crc32c.hpp"
#include "sil/record/frame_reader.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/recover.hpp"
#include "sil_record.pb.h"

namespace sil::python {

namespace {

py::bytes to_bytes(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Each frame's serialized sil.record.Record, as bytes, from a recording in
// any buffer (bytes, an mmap): one allocation, sized by a length FrameReader
// has checked against the bytes in the buffer. The buffer stays exported,
// so the file's bytes cannot change under the reader; the final status says
// why the frames ended.
class RecordFrames {
 public:
  explicit RecordFrames(py::handle file) : view_(file, "RecordFrames()"), reader_(view_.bytes(), record::is_record) {}

  py::bytes next() {
    if (status_ != record::FrameStatus::ok) throw py::stop_iteration();
    std::span<const std::byte> record;
    status_ = reader_.next(record);
    if (status_ != record::FrameStatus::ok) throw py::stop_iteration();
    return to_bytes(record);
  }

  std::string status() const { return std::string(record::to_string(status_)); }
  std::size_t offset() const noexcept { return reader_.offset(); }

 private:
  ByteView view_;
  record::FrameReader reader_;
  record::FrameStatus status_ = record::FrameStatus::ok;
};

// A recording read by sil::record::Reader, the reader sil-sim's replay
// uses, so Python accepts exactly the files and structure it does. The
// header is read at construction (its serialized sil.record.Header in
// .header, None if there is none); iterating gives the Message records as
// (sim_time_ns, wall_ns, msg_id, direction, payload) tuples; when it stops,
// .end says why and .footer holds the footer, if one was read.
class RecordReader {
 public:
  explicit RecordReader(py::handle file) : view_(file, "RecordReader()"), reader_(view_.bytes()) {
    if (reader_.next(record_)) header_ = record_.header().SerializeAsString();  // the Reader checks it is one
  }

  py::tuple next() {
    if (!next_message()) throw py::stop_iteration();
    const auto& message = record_.message();
    const std::string& payload = message.payload();
    return py::make_tuple(message.sim_time_ns(), message.wall_ns(), message.msg_id(),
                          static_cast<int>(message.direction()), py::bytes(payload.data(), payload.size()));
  }

  // Reads on to the end without handing out the messages.
  void finish() {
    while (next_message()) {
    }
  }

  py::object header() const { return header_ ? py::object(py::bytes(*header_)) : py::object(py::none()); }
  py::object footer() const { return footer_; }
  std::string end() const {
    switch (reader_.end()) {
      case record::ReadEnd::reading: return "reading";
      case record::ReadEnd::clean: return "clean";
      case record::ReadEnd::torn_tail: return "torn tail";
      case record::ReadEnd::corrupt: return "corrupt";
    }
    return "unknown";
  }
  const std::string& problem() const noexcept { return reader_.problem(); }
  std::size_t offset() const noexcept { return reader_.offset(); }

 private:
  // The next Message record into record_, keeping the footer on the way
  // (after it the Reader ends: cleanly, or with data after the footer).
  bool next_message() {
    while (reader_.next(record_)) {
      if (!record_.has_footer()) return true;
      const auto& footer = record_.footer();
      footer_ = py::make_tuple(footer.messages(), footer.dropped(), footer.end_sim_time_ns());
    }
    return false;
  }

  ByteView view_;
  record::Reader reader_;
  record::Record record_;  // reused: parsing allocates only when a payload outgrows the last one
  std::optional<std::string> header_;
  py::object footer_ = py::none();
};

py::dict to_dict(const record::Recovery& recovery) {
  py::list skipped;
  for (const auto& bytes : recovery.skipped) {
    py::dict entry;
    entry["offset"] = bytes.offset;
    entry["bytes"] = bytes.bytes;
    entry["frames"] = bytes.frames ? py::object(py::int_(*bytes.frames)) : py::object(py::none());
    entry["why"] = bytes.why;
    skipped.append(entry);
  }
  py::dict out;
  out["messages"] = recovery.messages;
  out["footer"] = recovery.footer;
  out["footer_offset"] =
      recovery.footer_offset ? py::object(py::int_(*recovery.footer_offset)) : py::object(py::none());
  out["skipped"] = skipped;
  return out;
}

}  // namespace

void add_recording(py::module_& module) {
  py::class_<RecordFrames>(module, "RecordFrames", py::module_local(),
                           "Iterates the serialized sil.record.Record of each frame of a recording in a buffer "
                           "(bytes, mmap), checking magic, lengths and CRC-32C, but not the records; for "
                           "measuring the framing alone. When iteration stops, .status says why; .offset is "
                           "the byte offset of the frame last examined.")
      .def(py::init<py::handle>(), py::arg("file"))
      .def("__iter__", [](RecordFrames& self) -> RecordFrames& { return self; })
      .def("__next__", &RecordFrames::next)
      .def_property_readonly("status", &RecordFrames::status,
                             "'ok' while iterating; afterwards 'end', 'torn tail', 'bad magic', "
                             "'record too long', 'bad checksum' or 'bad length'.")
      .def_property_readonly("offset", &RecordFrames::offset,
                             "Byte offset of the frame last examined (0 for the magic).");
  py::class_<RecordReader>(module, "RecordReader", py::module_local(),
                           "Reads a recording in a buffer (bytes, mmap) with sil-sim's reader: framing, "
                           "records and structure. .header is the serialized sil.record.Header (None if the "
                           "file has none); iterating gives the Message records as (sim_time_ns, wall_ns, "
                           "msg_id, direction, payload) tuples. Afterwards .end is 'clean', 'torn tail' or "
                           "'corrupt' (.problem says what, .offset where) and .footer is (messages, dropped, "
                           "end_sim_time_ns) or None.")
      .def(py::init<py::handle>(), py::arg("file"))
      .def("__iter__", [](RecordReader& self) -> RecordReader& { return self; })
      .def("__next__", &RecordReader::next)
      .def("finish", &RecordReader::finish, "Reads on to the end without returning the messages.")
      .def_property_readonly("header", &RecordReader::header)
      .def_property_readonly("footer", &RecordReader::footer)
      .def_property_readonly("end", &RecordReader::end, "'reading', 'clean', 'torn tail' or 'corrupt'.")
      .def_property_readonly("problem", &RecordReader::problem, "What is wrong, for 'corrupt'; else ''.")
      .def_property_readonly("offset", &RecordReader::offset,
                             "Byte offset of the frame reading ended at (of the damage, for 'corrupt' and "
                             "'torn tail').");
  module.def(
      "recover_recording",
      [](py::handle file, int fd) {
        const ByteView view(file, "recover_recording()");
        record::Recovery recovery;
        try {
          const py::gil_scoped_release unlocked;  // the buffer stays exported; no Python object is touched
          recovery = record::recover_to_fd(view.bytes(), fd);
        } catch (const record::RecoverError& e) {
          throw py::value_error(e.what());
        } catch (const std::system_error& e) {
          PyErr_SetObject(PyExc_OSError, py::make_tuple(e.code().value(), e.code().message()).ptr());
          throw py::error_already_set();
        }
        return to_dict(recovery);
      },
      py::arg("file"), py::arg("fd"),
      "Writes every intact record of the recording in `file` (a buffer) to the open file descriptor `fd` as "
      "a new recording (sil::record::recover). Returns {messages, footer, footer_offset, skipped: [{offset, "
      "bytes, frames, why}]}. Raises ValueError when there is no intact header, OSError for a failed write.");

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
