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

}  // namespace detail

// Continues a CRC over more bytes: crc32c_extend(crc32c(a), b) == crc32c(a + b).
inline std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::byte> bytes) noexcept {
  // Raw pointers, so unoptimised (Debug, sanitizer) builds make no function
  // call per byte either.
  const auto& t = detail::kCrc32cTables;
  const std::uint32_t* t0 = t[0].data();
  const std::uint32_t* t1 = t[1].data();
  const std::uint32_t* t2 = t[2].data();
  const std::uint32_t* t3 = t[3].data();
  const std::uint32_t* t4 = t[4].data();
  const std::uint32_t* t5 = t[5].data();
  const std::uint32_t* t6 = t[6].data();
  const std::uint32_t* t7 = t[7].data();
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  std::uint32_t c = ~crc;
  for (; end - p >= 8; p += 8) {
    // Assembled byte by byte: the same result on any host byte order, and
    // one load on little-endian ones once optimised.
    const std::uint32_t low =
        c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    c = t7[low & 0xFFu] ^ t6[(low >> 8) & 0xFFu] ^ t5[(low >> 16) & 0xFFu] ^ t4[low >> 24] ^ t3[p[4]] ^ t2[p[5]] ^
        t1[p[6]] ^ t0[p[7]];
  }
  for (; p != end; ++p) c = (c >> 8) ^ t0[(c ^ *p) & 0xFFu];
  return ~c;
}

inline std::uint32_t crc32c(std::span<const std::byte> bytes) noexcept { return crc32c_extend(0, bytes); }

}  // namespace sil::record
