#pragma once
// CRC-32C (Castagnoli; the iSCSI/ext4 checksum: reflected polynomial
// 0x82F63B78, initial value and final xor 0xFFFFFFFF), the checksum of every
// frame of a recording. Software slicing-by-8: eight bytes per step through
// eight 256-entry tables computed at compile time, so there is no state and
// nothing to initialise. Header-only because the Python extension reads
// recordings with the same code.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sil::record {

namespace detail {

inline constexpr std::uint32_t kCrc32cPolynomial = 0x82F63B78u;

using Crc32cTables = std::array<std::array<std::uint32_t, 256>, 8>;

consteval Crc32cTables make_crc32c_tables() {
  Crc32cTables tables{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kCrc32cPolynomial : 0u);
    tables[0][byte] = crc;
  }
  // tables[k][b]: the CRC of byte b followed by k zero bytes.
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t byte = 0; byte < 256; ++byte) {
      const std::uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xFFu];
    }
  }
  return tables;
}

inline constexpr Crc32cTables kCrc32cTables = make_crc32c_tables();

constexpr std::uint32_t byte_at(std::span<const std::byte> bytes, std::size_t i) noexcept {
  return static_cast<std::uint32_t>(bytes[i]);
}

}  // namespace detail

// Continues a CRC over more bytes: crc32c_extend(crc32c(a), b) == crc32c(a + b).
constexpr std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::byte> bytes) noexcept {
  const auto& t = detail::kCrc32cTables;
  std::uint32_t c = ~crc;
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  for (; i + 8 <= n; i += 8) {
    // Assembled byte by byte: the same result on any host byte order, and
    // the compiler turns it into one load on little-endian ones.
    const std::uint32_t low = c ^ (detail::byte_at(bytes, i) | detail::byte_at(bytes, i + 1) << 8 |
                                   detail::byte_at(bytes, i + 2) << 16 | detail::byte_at(bytes, i + 3) << 24);
    c = t[7][low & 0xFFu] ^ t[6][(low >> 8) & 0xFFu] ^ t[5][(low >> 16) & 0xFFu] ^ t[4][low >> 24] ^
        t[3][detail::byte_at(bytes, i + 4)] ^ t[2][detail::byte_at(bytes, i + 5)] ^
        t[1][detail::byte_at(bytes, i + 6)] ^ t[0][detail::byte_at(bytes, i + 7)];
  }
  for (; i < n; ++i) c = (c >> 8) ^ t[0][(c ^ detail::byte_at(bytes, i)) & 0xFFu];
  return ~c;
}

constexpr std::uint32_t crc32c(std::span<const std::byte> bytes) noexcept { return crc32c_extend(0, bytes); }

}  // namespace sil::record
