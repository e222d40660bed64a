#pragma once
// Reads a recording: the frames (FrameReader) parsed into sil.record.Record
// messages, with the file's structure checked (a header first, nothing after
// the footer). Every failure ends the reading with a problem and the byte
// offset where it is; a torn tail ends it cleanly with a warning
// (docs/recording-format.md "Damage"). The one reader: sil-sim's replay,
// the Python package and sil-rec all read through it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "sil/record/frame_reader.hpp"

namespace sil::record {

class Record;  // sil_record.proto

// Parses `bytes` into `record`: true when they are a sil.record.Record of a
// known kind (a header, a message or a footer), what a frame must hold to
// count as intact. A kind this build does not know is damage too: the
// format's kinds change only with its version.
bool parse_record(std::span<const std::byte> bytes, Record& record);
// parse_record() into a scratch record: the RecordCheck of FrameReader.
bool is_record(std::span<const std::byte> bytes);

enum class ReadEnd {
  reading,    // next() has not returned false yet
  clean,      // the file ended at a frame boundary
  torn_tail,  // the last frame was cut short: what came before is intact
  corrupt,    // a bad magic, length, checksum, record or structure: see problem()
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> file) noexcept : frames_(file, is_record) {}

  // The next record, or false at the end of what can be read (see end()).
  bool next(Record& record);

  ReadEnd end() const noexcept { return end_; }
  // What is wrong, for corrupt, without the offset ("a frame whose CRC-32C
  // does not match its bytes"); empty otherwise.
  const std::string& problem() const noexcept { return problem_; }
  // The byte offset of the frame reading ended at (of the damage, for
  // corrupt and torn_tail; the file's size at a clean end).
  std::size_t offset() const noexcept { return offset_; }
  // Why reading ended, in one sentence naming the byte offset, for corrupt
  // and torn_tail; empty for clean.
  std::string message() const;
  // Records returned so far (the header included).
  std::uint64_t records() const noexcept { return records_; }

 private:
  bool stop(ReadEnd end, std::string problem = {});

  FrameReader frames_;
  ReadEnd end_ = ReadEnd::reading;
  std::string problem_;
  std::size_t offset_ = 0;
  std::uint64_t records_ = 0;
  bool saw_footer_ = false;
};

// The problem a frame status other than ok, end and torn_tail stands for,
// as Reader::problem() words it.
std::string_view problem_of(FrameStatus status) noexcept;

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
