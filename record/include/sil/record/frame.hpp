#pragma once
// The framing of a recording (record/proto/sil_record.proto documents it):
// the 8-byte magic, then frames of
//   u32 LE length | u32 LE CRC-32C of the record bytes | the record bytes.
// One definition shared by the writer, the C++ reader and the Python reader.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sil/record/crc32c.hpp"

namespace sil::record {

inline constexpr std::array<char, 8> kMagic{'S', 'I', 'L', 'R', 'E', 'C', '1', '\n'};
inline constexpr std::uint32_t kMaxRecordBytes = 16u << 20;
inline constexpr std::size_t kFrameHeaderBytes = 8;

constexpr std::uint32_t load_u32_le(std::span<const std::byte, 4> bytes) noexcept {
  return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
         static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

constexpr void store_u32_le(std::span<std::byte, 4> out, std::uint32_t value) noexcept {
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFFu);
}

// Fills `out` with the frame header for `record` (whose size the caller has
// checked against kMaxRecordBytes).
inline void encode_frame_header(std::span<std::byte, kFrameHeaderBytes> out,
                                   std::span<const std::byte> record) noexcept {
  store_u32_le(out.first<4>(), static_cast<std::uint32_t>(record.size()));
  store_u32_le(out.last<4>(), crc32c(record));
}

}  // namespace sil::record
