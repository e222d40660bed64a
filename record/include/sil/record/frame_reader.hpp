#pragma once
// Splits a recording held in memory (read whole, or mapped) into its
// checksummed records. It never allocates and never trusts a length field:
// a length is compared with kMaxRecordBytes and with the bytes actually left
// before anything is read through it. Header-only: the Python extension
// binds this same class.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sil/record/frame.hpp"

namespace sil::record {

enum class FrameStatus {
  ok,            // `record` is the next record's bytes, checksum verified
  end,           // the file ends exactly at a frame boundary
  torn_tail,     // a frame header or body runs past the end: a write cut short
                 // (kill -9, power loss); treat as the end, with a warning
  bad_magic,     // not a recording: the first 8 bytes are not kMagic
  too_long,      // a length field above kMaxRecordBytes: corruption
  bad_checksum,  // the record's bytes do not match its CRC-32C: corruption
};

constexpr std::string_view to_string(FrameStatus status) noexcept {
  switch (status) {
    case FrameStatus::ok: return "ok";
    case FrameStatus::end: return "end";
    case FrameStatus::torn_tail: return "torn tail";
    case FrameStatus::bad_magic: return "bad magic";
    case FrameStatus::too_long: return "record too long";
    case FrameStatus::bad_checksum: return "bad checksum";
  }
  return "unknown";
}

class FrameReader {
 public:
  explicit FrameReader(std::span<const std::byte> file) noexcept : file_(file) {}

  // The next frame. Anything but `ok` is final: later calls return it again.
  FrameStatus next(std::span<const std::byte>& record) noexcept {
    if (status_ != FrameStatus::ok) return status_;
    if (position_ == 0) {
      status_ = check_magic();
      if (status_ != FrameStatus::ok) return status_;
      position_ = kMagic.size();
    }
    offset_ = position_;
    const std::size_t left = file_.size() - position_;
    if (left == 0) return status_ = FrameStatus::end;
    if (left < kFrameHeaderBytes) return status_ = FrameStatus::torn_tail;
    const auto header = file_.subspan(position_).first<kFrameHeaderBytes>();
    const std::uint32_t length = load_u32_le(header.first<4>());
    if (length > kMaxRecordBytes) return status_ = FrameStatus::too_long;
    if (length > left - kFrameHeaderBytes) return status_ = FrameStatus::torn_tail;
    const auto body = file_.subspan(position_ + kFrameHeaderBytes, length);
    if (crc32c(body) != load_u32_le(header.last<4>())) return status_ = FrameStatus::bad_checksum;
    position_ += kFrameHeaderBytes + length;
    record = body;
    return FrameStatus::ok;
  }

  // Byte offset in the file of the frame last examined (0 for the magic).
  std::size_t offset() const noexcept { return offset_; }

 private:
  FrameStatus check_magic() const noexcept {
    // A file shorter than the magic that matches as far as it goes was cut
    // while it was being created: an empty recording, not a foreign file.
    const std::size_t have = file_.size() < kMagic.size() ? file_.size() : kMagic.size();
    for (std::size_t i = 0; i < have; ++i) {
      if (file_[i] != static_cast<std::byte>(kMagic[i])) return FrameStatus::bad_magic;
    }
    return have < kMagic.size() ? FrameStatus::torn_tail : FrameStatus::ok;
  }

  std::span<const std::byte> file_;
  std::size_t position_ = 0;
  std::size_t offset_ = 0;
  FrameStatus status_ = FrameStatus::ok;
};

}  // namespace sil::record
