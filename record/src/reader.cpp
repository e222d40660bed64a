#include "sil/record/reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <google/protobuf/stubs/logging.h>

#include "sil_record.pb.h"

namespace sil::record {

bool parse_record(std::span<const std::byte> bytes, Record& record) {
  // Protobuf logs a line to stderr for some malformed input (invalid UTF-8
  // in a string field); the reader reports the record as corrupt instead.
  const google::protobuf::LogSilencer quiet;
  return record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
         record.kind_case() != Record::KIND_NOT_SET;
}

bool is_record(std::span<const std::byte> bytes) {
  Record record;
  return parse_record(bytes, record);
}

std::string_view problem_of(FrameStatus status) noexcept {
  switch (status) {
    case FrameStatus::bad_magic: return "not a sil recording (it does not start with the SILREC1 magic)";
    case FrameStatus::too_long: return "a frame length above the 16 MiB limit (the file is corrupted)";
    case FrameStatus::bad_checksum: return "a frame whose CRC-32C does not match its bytes (the file is corrupted)";
    case FrameStatus::bad_length:
      return "a frame length that runs past the end of the file, though the file was not cut short there "
             "(the file is corrupted)";
    case FrameStatus::ok:
    case FrameStatus::end:
    case FrameStatus::torn_tail: break;
  }
  return {};
}

bool Reader::stop(ReadEnd end, std::string problem) {
  end_ = end;
  offset_ = frames_.offset();
  problem_ = std::move(problem);
  return false;
}

std::string Reader::message() const {
  const std::string at = "at byte " + std::to_string(offset_);
  switch (end_) {
    case ReadEnd::corrupt: return problem_ + " " + at;
    case ReadEnd::torn_tail:
      return "the recording is cut short " + at + " (the process was killed?); everything before is intact";
    case ReadEnd::reading:
    case ReadEnd::clean: break;
  }
  return {};
}

bool Reader::next(Record& record) {
  if (end_ != ReadEnd::reading) return false;
  std::span<const std::byte> bytes;
  const FrameStatus status = frames_.next(bytes);
  if (saw_footer_ && status != FrameStatus::end) return stop(ReadEnd::corrupt, "data after the footer");
  switch (status) {
    case FrameStatus::ok: break;
    case FrameStatus::end: return stop(ReadEnd::clean);
    case FrameStatus::torn_tail: return stop(ReadEnd::torn_tail);
    case FrameStatus::bad_magic:
    case FrameStatus::too_long:
    case FrameStatus::bad_checksum:
    case FrameStatus::bad_length: return stop(ReadEnd::corrupt, std::string(problem_of(status)));
  }
  if (!parse_record(bytes, record)) return stop(ReadEnd::corrupt, "a record that does not parse as sil.record.Record");
  if (records_ == 0 && !record.has_header()) return stop(ReadEnd::corrupt, "the first record is not a header");
  if (records_ != 0 && record.has_header()) return stop(ReadEnd::corrupt, "a second header");
  saw_footer_ = record.has_footer();
  ++records_;
  return true;
}

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "cannot stat " + path);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw std::system_error(EINVAL, std::generic_category(), path + " is not a regular file");
  }
  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ != 0) {  // mmap refuses a length of 0; an empty span reads as an empty file
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "cannot map " + path);
    }
    data_ = static_cast<const std::byte*>(mapped);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace sil::record
