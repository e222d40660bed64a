// decode_datagram is the only way outside bytes become a message, so every
// catalogue message is checked at every length a datagram can have up to
// one past the largest, plus the largest UDP payload.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <utility>
#include <variant>
#include <vector>

#include "sil/ipc/datagram.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/messages.hpp"
#include "test_system.hpp"

namespace sil::bridge {
namespace {

// The decoder over the test system's catalogue, under the names the bridge uses.
using ipc::encode_datagram;
using ipc::is_control_request;
using ipc::kHeaderSize;
using ipc::to_string;
using ipc::Verdict;
using DecodeResult = ipc::DecodeResult<sil::test::Catalogue>;
constexpr std::size_t kMaxDatagramSize = sil::test::kMaxDatagramSize;

DecodeResult decode_datagram(std::span<const std::byte> bytes, bool truncated = false) noexcept {
  return ipc::decode_datagram<sil::test::Catalogue>(bytes, truncated);
}

Verdict decode_datagram_into(std::span<const std::byte> bytes, bool truncated, sil::test::Catalogue::Any& out) noexcept {
  return ipc::decode_datagram_into<sil::test::Catalogue>(bytes, truncated, out);
}

constexpr std::size_t kLargestUdpPayload = 65507;  // IPv4: 65535 - 20 (IP) - 8 (UDP)

std::vector<std::byte> datagram_with_id(std::uint16_t id, std::size_t length) {
  std::vector<std::byte> bytes(length);
  for (std::size_t i = 0; i < length; ++i) bytes[i] = static_cast<std::byte>(0xA0U + (i % 0x50U));
  if (length >= 1) bytes[0] = static_cast<std::byte>(id & 0xFFU);
  if (length >= 2) bytes[1] = static_cast<std::byte>(id >> 8U);
  return bytes;
}

template <class T>
Verdict expected_verdict(std::size_t length) {
  if (length > kMaxDatagramSize) return Verdict::truncated;
  if (length < kHeaderSize) return Verdict::too_short;
  if (length == kHeaderSize + sizeof(T)) return Verdict::accepted;
  return Verdict::wrong_size;
}

// A payload whose every byte is non-zero and differs from its neighbours,
// so a shifted or partial copy cannot compare equal.
template <class T>
T patterned_payload() {
  std::array<std::byte, sizeof(T)> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(i * 7U + 1U);
  T payload{};
  std::memcpy(&payload, bytes.data(), sizeof(T));
  return payload;
}

template <class T>
std::span<const std::byte, sizeof(T)> bytes_of(const T& payload) {
  return std::as_bytes(std::span<const T, 1>{&payload, 1});
}

TEST(DecodeDatagram, AcceptsOnlyTheExactSizeForEveryMessageAtEveryLength) {
  sil::test::Catalogue::for_each([](auto type) {
    using T = typename decltype(type)::type;
    const auto id = static_cast<std::uint16_t>(T::id);
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= kMaxDatagramSize + 1; ++n) lengths.push_back(n);
    lengths.push_back(kLargestUdpPayload);
    for (const std::size_t length : lengths) {
      const auto bytes = datagram_with_id(id, length);
      const DecodeResult result = decode_datagram(bytes);
      EXPECT_EQ(result.verdict, expected_verdict<T>(length))
          << T::name << " length " << length << ": got " << to_string(result.verdict);
      EXPECT_EQ(result.accepted(), length == kHeaderSize + sizeof(T)) << T::name << " length " << length;
      if (result.accepted()) {
        ASSERT_TRUE(std::holds_alternative<T>(result.message)) << T::name;
        const auto payload = bytes_of(std::get<T>(result.message));
        EXPECT_TRUE(std::equal(payload.begin(), payload.end(), bytes.begin() + kHeaderSize)) << T::name;
      }
    }
  });
}

TEST(DecodeDatagram, TheTruncatedFlagRejectsEvenAnExactSizeDatagram) {
  sil::test::Catalogue::for_each([](auto type) {
    using T = typename decltype(type)::type;
    const auto bytes = datagram_with_id(static_cast<std::uint16_t>(T::id), kHeaderSize + sizeof(T));
    EXPECT_EQ(decode_datagram(bytes, true).verdict, Verdict::truncated) << T::name;
    EXPECT_EQ(decode_datagram(bytes, false).verdict, Verdict::accepted) << T::name;
  });
  EXPECT_EQ(decode_datagram({}, true).verdict, Verdict::truncated);
}

TEST(DecodeDatagram, RejectsIdsOutsideTheCatalogue) {
  for (const std::uint16_t id : std::initializer_list<std::uint16_t>{0, 1, 1999, 2003, 0x08D0, 0xD007, 0xFFFF}) {
    for (const std::size_t length : {std::size_t{2}, std::size_t{6}, std::size_t{22}, kMaxDatagramSize}) {
      const auto bytes = datagram_with_id(id, length);
      EXPECT_EQ(decode_datagram(bytes).verdict, Verdict::unknown_id) << "id " << id << " length " << length;
    }
  }
}

// Rule 2 on its own: with fewer than 2 bytes there is no MsgId, whatever the byte.
TEST(DecodeDatagram, EveryDatagramShorterThanTheHeaderIsTooShort) {
  EXPECT_EQ(decode_datagram({}).verdict, Verdict::too_short);
  for (unsigned value = 0; value <= 0xFFU; ++value) {
    const std::array<std::byte, 1> one{static_cast<std::byte>(value)};
    EXPECT_EQ(decode_datagram(one).verdict, Verdict::too_short) << "byte " << value;
    EXPECT_FALSE(is_control_request(one)) << "byte " << value;
  }
}

bool in_catalogue(std::uint16_t id) {
  bool found = false;
  sil::test::Catalogue::for_each([&](auto type) { found = found || id == static_cast<std::uint16_t>(decltype(type)::type::id); });
  return found;
}

// Rule 3 on its own: an id outside the catalogue is refused whatever its
// length, including the exact size of some catalogue message.
TEST(DecodeDatagram, EveryIdOutsideTheCatalogueIsUnknownAtEveryMessageSize) {
  std::vector<std::size_t> lengths{kHeaderSize, kMaxDatagramSize};
  sil::test::Catalogue::for_each([&](auto type) { lengths.push_back(kHeaderSize + sizeof(typename decltype(type)::type)); });
  std::size_t unknown = 0;
  for (std::uint32_t id = 0; id <= 0xFFFFU; ++id) {
    const auto id16 = static_cast<std::uint16_t>(id);
    if (in_catalogue(id16)) continue;
    ++unknown;
    for (const std::size_t length : lengths) {
      ASSERT_EQ(decode_datagram(datagram_with_id(id16, length)).verdict, Verdict::unknown_id)
          << "id " << id << " length " << length;
    }
  }
  EXPECT_EQ(unknown, 0x10000U - sil::test::Catalogue::size);
}

// Rule 5: the reserved ids never decode as messages; only the request id is
// routed to the control decoder.
TEST(DecodeDatagram, ReservedIdsNeverDecodeAsMessages) {
  for (std::uint32_t id = ipc::kFirstReservedId; id <= 0xFFFFU; ++id) {
    const auto id16 = static_cast<std::uint16_t>(id);
    for (std::size_t length = kHeaderSize; length <= kMaxDatagramSize; ++length) {
      ASSERT_EQ(decode_datagram(datagram_with_id(id16, length)).verdict, Verdict::unknown_id)
          << "id " << id << " length " << length;
    }
  }
}

TEST(IsControlRequest, PicksOutOnlyTheControlRequestId) {
  const auto request = static_cast<std::uint16_t>(ipc::MsgId::ControlRequest);
  for (std::uint32_t id = 0; id <= 0xFFFFU; ++id) {
    const auto id16 = static_cast<std::uint16_t>(id);
    EXPECT_EQ(is_control_request(datagram_with_id(id16, kHeaderSize)), id16 == request) << "id " << id;
  }
  // Any length: a request's body is protobuf, its size is the control decoder's business.
  for (const std::size_t length : {std::size_t{2}, std::size_t{3}, std::size_t{512}, kLargestUdpPayload}) {
    EXPECT_TRUE(is_control_request(datagram_with_id(request, length))) << length;
  }
  EXPECT_FALSE(is_control_request(datagram_with_id(static_cast<std::uint16_t>(ipc::MsgId::ControlReply), 10)));
  EXPECT_FALSE(is_control_request(datagram_with_id(request, 1)));  // 0xF0 alone: too short, not a request
}

// Rule 1 comes first: a datagram longer than any message is truncated
// whatever its id, so no later rule ever looks past the largest message.
TEST(DecodeDatagram, LongerThanEveryMessageIsTruncatedWhateverTheId) {
  for (const std::uint16_t id : std::initializer_list<std::uint16_t>{0, 2000, 2003, 0xFFF1, 0xFFFF}) {
    for (const std::size_t length : {kMaxDatagramSize + 1, std::size_t{1000}, kLargestUdpPayload}) {
      EXPECT_EQ(decode_datagram(datagram_with_id(id, length)).verdict, Verdict::truncated)
          << "id " << id << " length " << length;
    }
  }
}

TEST(DecodeDatagram, ReadsTheIdLittleEndian) {
  // 0x07D0 (2000) is RevisionRequest; the same two bytes the other way
  // round (0xD007) are no message at all.
  const std::array<std::byte, 6> little{std::byte{0xD0}, std::byte{0x07}, std::byte{1}, std::byte{2},
                                        std::byte{3},    std::byte{4}};
  const std::array<std::byte, 6> big{std::byte{0x07}, std::byte{0xD0}, std::byte{1}, std::byte{2},
                                     std::byte{3},    std::byte{4}};
  const DecodeResult result = decode_datagram(little);
  ASSERT_EQ(result.verdict, Verdict::accepted);
  EXPECT_EQ(static_cast<std::uint32_t>(std::get<ipc::RevisionRequest>(result.message).request_id), 0x04030201U);
  EXPECT_EQ(decode_datagram(big).verdict, Verdict::unknown_id);
}

TEST(DecodeDatagram, DecodesFromAMisalignedBuffer) {
  sil::test::Catalogue::for_each([](auto type) {
    using T = typename decltype(type)::type;
    const T original = patterned_payload<T>();
    const auto encoded = encode_datagram(original);
    for (std::size_t offset = 1; offset < 8; ++offset) {
      alignas(16) std::array<std::byte, 16 + kMaxDatagramSize> storage{};
      std::copy(encoded.begin(), encoded.end(), storage.begin() + static_cast<std::ptrdiff_t>(offset));
      const DecodeResult result = decode_datagram(std::span{storage.data() + offset, encoded.size()});
      ASSERT_EQ(result.verdict, Verdict::accepted) << T::name << " offset " << offset;
      const auto decoded = bytes_of(std::get<T>(result.message));
      const auto expected = bytes_of(original);
      EXPECT_TRUE(std::equal(decoded.begin(), decoded.end(), expected.begin())) << T::name << " offset " << offset;
    }
  });
}

TEST(DecodeDatagramInto, WritesAnAcceptedPayloadIntoTheGivenMessage) {
  sil::test::Catalogue::Any out{ipc::Heartbeat{.sequence = 99, .tick = 1, .sim_time_ns = 2}};
  const auto bytes = encode_datagram(ipc::RevisionRequest{.request_id = 0x01020304U});
  EXPECT_EQ(decode_datagram_into(bytes, false, out), Verdict::accepted);
  ASSERT_TRUE(std::holds_alternative<ipc::RevisionRequest>(out));
  EXPECT_EQ(std::get<ipc::RevisionRequest>(out).request_id, 0x01020304U);
}

TEST(DecodeDatagramInto, LeavesTheGivenMessageUntouchedForEveryDrop) {
  // The rx loop decodes into an inbox slot it has not committed; a drop
  // must not disturb what is there.
  std::vector<std::byte> too_long = datagram_with_id(static_cast<std::uint16_t>(ipc::RevisionRequest::id), 68);
  const std::vector<std::pair<std::vector<std::byte>, Verdict>> drops{
      {{}, Verdict::too_short},
      {datagram_with_id(0xD0, 1), Verdict::too_short},
      {datagram_with_id(1999, 6), Verdict::unknown_id},
      {datagram_with_id(static_cast<std::uint16_t>(ipc::RevisionRequest::id), 5), Verdict::wrong_size},
      {datagram_with_id(static_cast<std::uint16_t>(ipc::Heartbeat::id), 6), Verdict::wrong_size},
      {too_long, Verdict::truncated},
  };
  for (const auto& [bytes, verdict] : drops) {
    sil::test::Catalogue::Any out{ipc::Heartbeat{.sequence = 99, .tick = 1, .sim_time_ns = 2}};
    EXPECT_EQ(decode_datagram_into(bytes, false, out), verdict) << bytes.size() << " bytes";
    ASSERT_TRUE(std::holds_alternative<ipc::Heartbeat>(out)) << to_string(verdict);
    EXPECT_EQ(std::get<ipc::Heartbeat>(out).sequence, 99U) << to_string(verdict);
  }
  // An exact-size datagram the kernel flagged as cut.
  sil::test::Catalogue::Any out{ipc::Heartbeat{.sequence = 99, .tick = 1, .sim_time_ns = 2}};
  EXPECT_EQ(decode_datagram_into(encode_datagram(ipc::RevisionRequest{.request_id = 5}), true, out),
            Verdict::truncated);
  EXPECT_EQ(std::get<ipc::Heartbeat>(out).sequence, 99U);
}

TEST(DecodeDatagramInto, AgreesWithDecodeDatagramAtEveryLength) {
  sil::test::Catalogue::for_each([](auto type) {
    using T = typename decltype(type)::type;
    for (std::size_t length = 0; length <= kMaxDatagramSize + 1; ++length) {
      const auto bytes = datagram_with_id(static_cast<std::uint16_t>(T::id), length);
      sil::test::Catalogue::Any out;
      EXPECT_EQ(decode_datagram_into(bytes, false, out), decode_datagram(bytes).verdict)
          << T::name << " length " << length;
    }
  });
}

// mavlink-style: every message round-trips without anyone listing it.
TEST(DatagramRoundTrip, EncodeThenDecodeGivesBackEveryMessageByteForByte) {
  sil::test::Catalogue::for_each([](auto type) {
    using T = typename decltype(type)::type;
    const T original = patterned_payload<T>();
    const auto encoded = encode_datagram(original);
    ASSERT_EQ(encoded.size(), kHeaderSize + sizeof(T));
    EXPECT_EQ(encoded[0], static_cast<std::byte>(static_cast<std::uint16_t>(T::id) & 0xFFU)) << T::name;
    EXPECT_EQ(encoded[1], static_cast<std::byte>(static_cast<std::uint16_t>(T::id) >> 8U)) << T::name;
    const auto body = bytes_of(original);
    EXPECT_TRUE(std::equal(body.begin(), body.end(), encoded.begin() + kHeaderSize)) << T::name;

    const DecodeResult result = decode_datagram(encoded);
    ASSERT_TRUE(result.accepted()) << T::name;
    ASSERT_TRUE(std::holds_alternative<T>(result.message)) << T::name;
    const auto decoded = bytes_of(std::get<T>(result.message));
    EXPECT_TRUE(std::equal(decoded.begin(), decoded.end(), body.begin())) << T::name;
  });
}

TEST(DatagramRoundTrip, FieldValuesSurviveEncodeAndDecode) {
  ipc::RevisionResponse response{};
  response.request_id = 0xA1B2C3D4U;
  response.version_major = 1;
  response.version_minor = 2;
  response.version_patch = 3;
  response.build_flags = ipc::RevisionResponse::kDirtyTree;
  response.git_revision.assign("0123456789abcdef0123456789abcdef01234567");
  response.build_time_unix = -1;
  response.catalogue_hash = sil::test::kHash;
  response.wire_version = ipc::kWireVersion;
  response.tick_rate_hz = 100'000;

  const DecodeResult result = decode_datagram(encode_datagram(response));
  ASSERT_TRUE(result.accepted());
  const auto& decoded = std::get<ipc::RevisionResponse>(result.message);
  EXPECT_EQ(decoded.request_id, 0xA1B2C3D4U);
  EXPECT_EQ(decoded.version_major, 1);
  EXPECT_EQ(decoded.version_patch, 3);
  EXPECT_EQ(decoded.build_flags, ipc::RevisionResponse::kDirtyTree);
  EXPECT_EQ(decoded.git_revision.view(), "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(decoded.build_time_unix, -1);
  EXPECT_EQ(decoded.catalogue_hash, sil::test::kHash);
  EXPECT_EQ(decoded.tick_rate_hz, 100'000U);
}

TEST(DatagramHeader, IsTheIdLittleEndian) {
  EXPECT_EQ(kHeader<ipc::RevisionRequest>, (std::array<std::uint8_t, 2>{0xD0, 0x07}));
  EXPECT_EQ(kHeader<ipc::RevisionResponse>, (std::array<std::uint8_t, 2>{0xD1, 0x07}));
  EXPECT_EQ(kHeader<ipc::Heartbeat>, (std::array<std::uint8_t, 2>{0xD2, 0x07}));
  EXPECT_EQ(kMaxDatagramSize, 67U);
}

TEST(Verdict, EveryVerdictHasItsName) {
  EXPECT_EQ(to_string(Verdict::accepted), "accepted");
  EXPECT_EQ(to_string(Verdict::too_short), "too_short");
  EXPECT_EQ(to_string(Verdict::unknown_id), "unknown_id");
  EXPECT_EQ(to_string(Verdict::wrong_size), "wrong_size");
  EXPECT_EQ(to_string(Verdict::truncated), "truncated");
  EXPECT_EQ(static_cast<std::size_t>(Verdict::truncated) + 1, kVerdictCount);
}

}  // namespace
}  // namespace sil::bridge
