#include "sil/record/reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "sil_record.pb.h"

namespace sil::record {

bool Reader::stop(ReadEnd end, std::string message) {
  end_ = end;
  message_ = std::move(message);
  return false;
}

bool Reader::next(Record& record) {
  if (end_ != ReadEnd::reading) return false;
  std::span<const std::byte> bytes;
  const FrameStatus status = frames_.next(bytes);
  // Built only on the way out: reading a record allocates nothing of its own.
  const auto at = [this] { return "at byte " + std::to_string(frames_.offset()); };
  switch (status) {
    case FrameStatus::ok: break;
    case FrameStatus::end: return stop(ReadEnd::clean, {});
    case FrameStatus::torn_tail:
      return stop(ReadEnd::torn_tail, "the recording is cut short " + at() +
                                          " (the process was killed?); everything before is intact");
    case FrameStatus::bad_magic: return stop(ReadEnd::corrupt, "not a sil recording (no SILREC1 magic)");
    case FrameStatus::too_long:
      return stop(ReadEnd::corrupt, "corrupt recording: the frame " + at() + " claims more than 16 MiB");
    case FrameStatus::bad_checksum:
      return stop(ReadEnd::corrupt, "corrupt recording: the frame " + at() + " fails its CRC-32C check");
  }
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      record.kind_case() == Record::KIND_NOT_SET) {
    return stop(ReadEnd::corrupt, "corrupt recording: the record " + at() + " is not a sil.record.Record");
  }
  if (records_ == 0 && !record.has_header()) {
    return stop(ReadEnd::corrupt, "corrupt recording: the first record is not a header");
  }
  if (records_ != 0 && record.has_header()) {
    return stop(ReadEnd::corrupt, "corrupt recording: a second header " + at());
  }
  if (saw_footer_) return stop(ReadEnd::corrupt, "corrupt recording: a record after the footer, " + at());
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
