// Fuzz target: the inbound datagram decoder (bridge/datagram.hpp), the only
// way bytes from the network become a message. The verdict is checked
// against the rules written out independently from the run-time catalogue,
// so a decoder that accepts the wrong thing fails here, not only one that
// crashes.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "fuzz_target.hpp"
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "test_system.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/messages.hpp"

namespace {

using sil::fuzz::check;
using namespace sil;

// The verdict docs/wire-format.md "Inbound datagram rules" gives, from the catalogue as data; `index`
// is the catalogue position of an accepted message.
ipc::Verdict expected_verdict(std::span<const std::byte> datagram, bool truncated, std::size_t& index) {
  static const std::vector<ipc::MessageInfo> catalogue = sil::test::catalogue_info().messages;
  if (truncated || datagram.size() > sil::test::kMaxDatagramSize) return ipc::Verdict::truncated;
  if (datagram.size() < ipc::kHeaderSize) return ipc::Verdict::too_short;
  const auto id = static_cast<std::uint16_t>(std::to_integer<unsigned>(datagram[0]) |
                                             (std::to_integer<unsigned>(datagram[1]) << 8U));
  for (index = 0; index < catalogue.size(); ++index) {
    if (static_cast<std::uint16_t>(catalogue[index].id) != id) continue;
    return datagram.size() == ipc::kHeaderSize + catalogue[index].size ? ipc::Verdict::accepted
                                                                           : ipc::Verdict::wrong_size;
  }
  return ipc::Verdict::unknown_id;
}

std::span<const std::byte> payload_bytes(const sil::test::Catalogue::Any& message) {
  return std::visit([](const auto& payload) { return std::as_bytes(std::span{&payload, 1}); }, message);
}

void check_one(std::span<const std::byte> datagram, bool truncated) {
  std::size_t index = 0;
  const ipc::Verdict expected = expected_verdict(datagram, truncated, index);
  const sil::test::DecodeResult result = ipc::decode_datagram<sil::test::Catalogue>(datagram, truncated);
  check(result.verdict == expected, "decode_datagram's verdict follows the written rules");

  // The rx loop's form: same verdict, and a drop leaves the slot alone.
  const ipc::Heartbeat sentinel{.sequence = 0xC0FFEEU, .tick = 7, .sim_time_ns = 9};
  sil::test::Catalogue::Any slot{sentinel};
  check(ipc::decode_datagram_into<sil::test::Catalogue>(datagram, truncated, slot) == expected, "decode_datagram_into agrees");
  if (expected != ipc::Verdict::accepted) {
    check(std::holds_alternative<ipc::Heartbeat>(slot) && std::get<ipc::Heartbeat>(slot).sequence == 0xC0FFEEU,
          "a dropped datagram leaves the caller's slot untouched");
    return;
  }
  check(result.message.index() == index && slot.index() == index, "an accepted message has the datagram's id");
  const auto body = datagram.subspan(ipc::kHeaderSize);
  for (const sil::test::Catalogue::Any* decoded : std::array<const sil::test::Catalogue::Any*, 2>{&result.message, &slot}) {
    const auto payload = payload_bytes(*decoded);
    check(payload.size() == body.size() && std::equal(payload.begin(), payload.end(), body.begin()),
          "an accepted payload is the datagram's body, byte for byte");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> datagram{reinterpret_cast<const std::byte*>(data), size};
  check_one(datagram, false);
  check_one(datagram, true);  // the same bytes with the kernel's MSG_TRUNC flag
  const bool control = size >= ipc::kHeaderSize && data[0] == 0xF0 && data[1] == 0xFF;
  check(bridge::is_control_request(datagram) == control, "only 0xFFF0 is routed to the control decoder");
  return 0;
}
