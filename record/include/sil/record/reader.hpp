#pragma once
// Reads a recording: the frames (FrameReader) parsed into sil.record.Record
// messages, with the file's structure checked (a header first, nothing after
// the footer). Every failure ends the reading with a message that names the
// byte offset; a torn tail ends it cleanly with a warning.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "sil/record/frame_reader.hpp"

namespace sil::record {

class Record;  // sil_record.proto

enum class ReadEnd {
  reading,    // next() has not returned false yet
  clean,      // the file ended at a frame boundary
  torn_tail,  // the last frame was cut short: what came before is intact
  corrupt,    // a bad magic, length, checksum or record: see error()
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> file) noexcept : frames_(file) {}

  // The next record, or false at the end of what can be read (see end()).
  bool next(Record& record);

  ReadEnd end() const noexcept { return end_; }
  // Why reading ended, for corrupt and torn_tail; names the byte offset.
  const std::string& message() const noexcept { return message_; }
  // Records returned so far (the header included).
  std::uint64_t records() const noexcept { return records_; }

 private:
  bool stop(ReadEnd end, std::string message);

  FrameReader frames_;
  ReadEnd end_ = ReadEnd::reading;
  std::string message_;
  std::uint64_t records_ = 0;
  bool saw_footer_ = false;
};

// A file mapped read-only, for the Reader. Throws std::system_error naming
// the path when it cannot be opened or mapped.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sil::record
