#pragma once
// Splits a recording held in memory (read whole, or mapped) into its
// checksummed records, and tells a torn tail from corruption
// (docs/recording-format.md "Damage"). It never allocates and never trusts a
// length field: a length is compared with kMaxRecordBytes and with the bytes
// actually left before anything is read through it. Header-only: the Python
// extension binds this same class.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sil/record/frame.hpp"

namespace sil::record {

enum class FrameStatus {
  ok,            // `record` is the next record's bytes, checksum verified
  end,           // the file ends exactly at a frame boundary
  torn_tail,     // the last frame runs past the end of the file and nothing
                 // intact follows it: a write cut short (kill -9, a full
                 // disk); treat as the end, with a warning
  bad_magic,     // not a recording: the first 8 bytes are not kMagic
  too_long,      // a length field above kMaxRecordBytes: corruption
  bad_checksum,  // the record's bytes do not match its CRC-32C: corruption
  bad_length,    // a length running past the end of the file, but the file
                 // goes on: an intact frame follows, or the bytes up to the
                 // end are the whole record (they match its CRC-32C): corruption
};

constexpr std::string_view to_string(FrameStatus status) noexcept {
  switch (status) {
    case FrameStatus::ok: return "ok";
    case FrameStatus::end: return "end";
    case FrameStatus::torn_tail: return "torn tail";
    case FrameStatus::bad_magic: return "bad magic";
    case FrameStatus::too_long: return "record too long";
    case FrameStatus::bad_checksum: return "bad checksum";
    case FrameStatus::bad_length: return "bad length";
  }
  return "unknown";
}

// Whether checksummed bytes are a record of the format. The reader passes
// is_record (reader.hpp): they parse as a sil.record.Record of a known kind.
// Used only to judge damage, so that a frame found after it is a real one:
// the CRC-32C alone would accept 8 zero bytes (an empty record).
using RecordCheck = bool (*)(std::span<const std::byte> record);

// Whether `bytes` could be a serialized sil.record.Record of a known kind,
// by their top-level protobuf wire format alone: well-formed fields up to
// the last byte (no zero tag, groups closed in order, which a protobuf parse
// also requires), one of them field 1, 2 or 3 (header, message, footer)
// length-delimited. A necessary condition of parsing as one, so it only
// saves work: tried at every byte offset of damaged bytes, it fails within a
// few bytes where the CRC-32C would read up to 16 MiB (8 MB of random bytes
// after a bad length took 9 s to judge without it), and it keeps protobuf
// from parsing (and logging about) bytes that are not a record.
constexpr bool could_be_record(std::span<const std::byte> bytes) noexcept {
  std::size_t at = 0;
  const auto varint = [&bytes, &at](std::uint64_t& value) {
    value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (at == bytes.size()) return false;
      const auto byte = static_cast<std::uint64_t>(bytes[at++]);
      value |= (byte & 0x7Fu) << shift;
      if ((byte & 0x80u) == 0) return true;
    }
    return false;
  };
  // Open groups, innermost last: no record has one, but a parse accepts them.
  std::array<std::uint64_t, 32> groups{};
  std::size_t depth = 0;
  bool kind = false;
  while (at < bytes.size()) {
    std::uint64_t tag = 0;
    std::uint64_t value = 0;
    if (!varint(tag) || tag >> 3 == 0) return false;
    const std::uint64_t field = tag >> 3;
    switch (tag & 7u) {
      case 0:  // varint
        if (!varint(value)) return false;
        break;
      case 1:  // 64-bit
        if (bytes.size() - at < 8) return false;
        at += 8;
        break;
      case 2:  // length-delimited
        if (!varint(value) || value > bytes.size() - at) return false;
        at += static_cast<std::size_t>(value);
        kind = kind || (depth == 0 && field >= 1 && field <= 3);
        break;
      case 5:  // 32-bit
        if (bytes.size() - at < 4) return false;
        at += 4;
        break;
      case 3:  // start group
        if (depth == groups.size()) return true;  // deeper than worth following: the parse decides
        groups[depth++] = field;
        break;
      case 4:  // end group
        if (depth == 0 || groups[depth - 1] != field) return false;
        --depth;
        break;
      default: return false;
    }
  }
  return depth == 0 && kind;
}

// The record of the frame starting at `offset` when that frame is intact:
// its header inside the file, a length within kMaxRecordBytes and the bytes
// left, a matching CRC-32C and a record `check` accepts.
inline bool intact_frame_at(std::span<const std::byte> file, std::size_t offset, RecordCheck check,
                            std::span<const std::byte>& record) {
  if (offset > file.size() || file.size() - offset < kFrameHeaderBytes) return false;
  const auto header = file.subspan(offset).first<kFrameHeaderBytes>();
  const std::uint32_t length = load_u32_le(header.first<4>());
  if (length > kMaxRecordBytes || length > file.size() - offset - kFrameHeaderBytes) return false;
  const auto body = file.subspan(offset + kFrameHeaderBytes, length);
  if (!could_be_record(body) || crc32c(body) != load_u32_le(header.last<4>()) || !check(body)) return false;
  record = body;
  return true;
}

// The offset of the first intact frame starting at or after `from`, trying
// every byte offset; file.size() when there is none.
inline std::size_t find_intact_frame(std::span<const std::byte> file, std::size_t from, RecordCheck check) {
  std::span<const std::byte> record;
  for (std::size_t offset = from; offset + kFrameHeaderBytes <= file.size(); ++offset) {
    if (intact_frame_at(file, offset, check, record)) return offset;
  }
  return file.size();
}

class FrameReader {
 public:
  FrameReader(std::span<const std::byte> file, RecordCheck check) noexcept : file_(file), check_(check) {}

  // The next frame. Anything but `ok` is final (later calls return it
  // again) until resume_at().
  FrameStatus next(std::span<const std::byte>& record) {
    if (status_ != FrameStatus::ok) return status_;
    if (position_ == 0) {
      status_ = check_magic();
      if (status_ != FrameStatus::ok) return status_;
      position_ = kMagic.size();
    }
    offset_ = position_;
    const std::size_t left = file_.size() - position_;
    if (left == 0) return status_ = FrameStatus::end;
    if (left >= 4 && load_u32_le(file_.subspan(position_).first<4>()) > kMaxRecordBytes) {
      return status_ = FrameStatus::too_long;
    }
    if (left < kFrameHeaderBytes) return status_ = judge_overrun();
    const auto header = file_.subspan(position_).first<kFrameHeaderBytes>();
    const std::uint32_t length = load_u32_le(header.first<4>());
    if (length > left - kFrameHeaderBytes) return status_ = judge_overrun();
    const auto body = file_.subspan(position_ + kFrameHeaderBytes, length);
    if (crc32c(body) != load_u32_le(header.last<4>())) return status_ = FrameStatus::bad_checksum;
    position_ += kFrameHeaderBytes + length;
    record = body;
    return FrameStatus::ok;
  }

  // Byte offset in the file of the frame last examined (0 for the magic;
  // the file's size at its end).
  std::size_t offset() const noexcept { return offset_; }

  // Goes on reading at `offset` (a frame find_intact_frame found) after
  // damage: for recovery, which skips what is damaged.
  void resume_at(std::size_t offset) noexcept {
    position_ = offset < kMagic.size() ? kMagic.size() : offset;
    offset_ = position_;
    status_ = FrameStatus::ok;
  }

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

  // The frame at position_ runs past the end of the file. The writer only
  // appends, so a write cut short leaves a prefix of one frame and nothing
  // after it. If an intact frame starts anywhere after this one, or the
  // bytes to the end match its checksum (it is complete: its length is
  // wrong), the file was damaged, not cut.
  FrameStatus judge_overrun() const {
    if (find_intact_frame(file_, position_ + 1, check_) != file_.size()) return FrameStatus::bad_length;
    if (file_.size() - position_ >= kFrameHeaderBytes) {
      const auto rest = file_.subspan(position_ + kFrameHeaderBytes);
      const auto header = file_.subspan(position_).first<kFrameHeaderBytes>();
      if (crc32c(rest) == load_u32_le(header.last<4>()) && check_(rest)) return FrameStatus::bad_length;
    }
    return FrameStatus::torn_tail;
  }

  std::span<const std::byte> file_;
  RecordCheck check_;
  std::size_t position_ = 0;
  std::size_t offset_ = 0;
  FrameStatus status_ = FrameStatus::ok;
};

}  // namespace sil::record
