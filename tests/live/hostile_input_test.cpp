// A million hostile datagrams at a running sil-sim (docs/wire-format.md "Inbound datagram
// rules"). Each one is generated as a member of a known class, so the test
// knows how many of each drop reason it sent; the sim must stay up, count
// exactly those drops, accept exactly the valid messages, refuse every bad
// control request with an error, and still answer a RevisionRequest.
//
// Nothing here depends on speed. The kernel may drop datagrams when a
// socket buffer is full, which would break the count without being the
// sim's fault, so the test sends in small batches and ends each one with a
// GetStats, waiting for its reply: the sim handles a socket's datagrams in
// arrival order, so the reply means the whole batch has been handled.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/messages.hpp"
#include "sim_control.hpp"
#include "sim_process.hpp"

namespace sil::live {
namespace {

// SIL_HOSTILE_DATAGRAMS lowers the count for a quick local run; the default
// is the full million, in every build.
std::uint64_t datagram_count() {
  if (const char* env = std::getenv("SIL_HOSTILE_DATAGRAMS"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 10);
  }
  return 1'000'000;
}

// What a generated datagram is, and so what the sim must do with it.
enum class Kind : std::uint8_t { too_short, unknown_id, wrong_size, truncated, accepted, bad_control, oversized_control };

constexpr std::size_t kLargestUdpPayload = 65507;
// Batches stay far below a default socket receive buffer (about 208 KiB):
// at most this many datagrams or bytes; a datagram longer than this goes
// alone.
constexpr std::size_t kBatchDatagrams = 64;
constexpr std::size_t kBatchBytes = 16 * 1024;

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : random_(seed), catalogue_(sil::test::catalogue_info().messages) {}

  // The next datagram into `out`; returns what it is and, for an accepted
  // one, the catalogue index in `index`.
  Kind next(std::vector<std::byte>& out, std::size_t& index) {
    const auto roll = uniform(100);
    if (roll < 5) return too_short(out);
    if (roll < 35) return unknown_id(out);
    if (roll < 65) return wrong_size(out);
    if (roll < 75) return truncated(out);
    if (roll < 95) return accepted(out, index);
    return bad_control(out);
  }

 private:
  std::uint64_t uniform(std::uint64_t bound) { return std::uniform_int_distribution<std::uint64_t>(0, bound - 1)(random_); }

  void fill(std::vector<std::byte>& out, std::size_t length) {
    out.resize(length);
    for (auto& byte : out) byte = static_cast<std::byte>(uniform(256));
  }
  void put_id(std::vector<std::byte>& out, std::uint16_t id) {
    out[0] = static_cast<std::byte>(id & 0xFFU);
    out[1] = static_cast<std::byte>(id >> 8U);
  }
  bool known(std::uint16_t id) const {
    for (const auto& info : catalogue_) {
      if (static_cast<std::uint16_t>(info.id) == id) return true;
    }
    return false;
  }
  // Any id but the control request's, which takes another road.
  std::uint16_t non_control_id() {
    for (;;) {
      const auto id = static_cast<std::uint16_t>(uniform(0x10000));
      if (id != static_cast<std::uint16_t>(ipc::MsgId::ControlRequest)) return id;
    }
  }

  Kind too_short(std::vector<std::byte>& out) {
    fill(out, uniform(2));
    return Kind::too_short;
  }
  Kind unknown_id(std::vector<std::byte>& out) {
    fill(out, ipc::kHeaderSize + uniform(sil::test::kMaxDatagramSize - 1));
    std::uint16_t id = 0;
    do {
      id = uniform(4) == 0 ? static_cast<std::uint16_t>(ipc::kFirstReservedId + uniform(0xF0)) : non_control_id();
    } while (known(id));
    put_id(out, id);
    return Kind::unknown_id;
  }
  Kind wrong_size(std::vector<std::byte>& out) {
    const auto& info = catalogue_[uniform(catalogue_.size())];
    std::size_t length = 0;
    do {
      length = ipc::kHeaderSize + uniform(sil::test::kMaxDatagramSize - 1);
    } while (length == ipc::kHeaderSize + info.size);
    fill(out, length);
    put_id(out, static_cast<std::uint16_t>(info.id));
    return Kind::wrong_size;
  }
  Kind truncated(std::vector<std::byte>& out) {
    // Mostly a little too long, sometimes as long as UDP allows.
    const std::size_t longest = uniform(200) == 0 ? kLargestUdpPayload : 2048;
    fill(out, sil::test::kMaxDatagramSize + 1 + uniform(longest - sil::test::kMaxDatagramSize));
    put_id(out, uniform(2) == 0 ? static_cast<std::uint16_t>(catalogue_[uniform(catalogue_.size())].id)
                                : non_control_id());
    return Kind::truncated;
  }
  Kind accepted(std::vector<std::byte>& out, std::size_t& index) {
    // Random payloads: NaN and infinite temperatures reach the services too.
    index = uniform(catalogue_.size());
    fill(out, ipc::kHeaderSize + catalogue_[index].size);
    put_id(out, static_cast<std::uint16_t>(catalogue_[index].id));
    return Kind::accepted;
  }
  Kind bad_control(std::vector<std::byte>& out) {
    if (uniform(10) == 0) {
      fill(out, ipc::kHeaderSize + 513 + uniform(1500));  // over the 512-byte limit
      put_id(out, static_cast<std::uint16_t>(ipc::MsgId::ControlRequest));
      return Kind::oversized_control;
    }
    // Field number 0 never parses, whatever follows.
    fill(out, ipc::kHeaderSize + 1 + uniform(100));
    put_id(out, static_cast<std::uint16_t>(ipc::MsgId::ControlRequest));
    out[2] = std::byte{0x00};
    return Kind::bad_control;
  }

  std::mt19937_64 random_;
  std::vector<ipc::MessageInfo> catalogue_;
};

TEST(HostileInput, AMillionRandomDatagramsAreCountedByReasonAndTheSimStillAnswers) {
  SimProcess sim(sim_path(), {"--port", "0", "--clock", "realtime"});
  SimControl harness(sim.port());
  const control::Stats before = harness.stats();

  const std::uint64_t total = datagram_count();
  const std::uint64_t seed = 20261122;
  std::map<Kind, std::uint64_t> sent;
  std::vector<std::uint64_t> accepted_by_index(sil::test::Catalogue::size, 0);
  Generator generator(seed);
  std::vector<std::byte> datagram;
  std::size_t batch_datagrams = 0;
  std::size_t batch_bytes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t sync_requests = 0;
  const auto sync = [&] {
    control::Request request;
    request.mutable_get_stats();
    // A reply lost on the harness's own socket is not the sim's fault:
    // GetStats changes nothing, so asking again is safe.
    bool answered = false;
    for (int attempt = 0; attempt < 3 && !answered; ++attempt) {
      ++sync_requests;
      answered = harness.call(request, std::chrono::seconds{10}).has_value();
    }
    ASSERT_TRUE(answered) << "no reply after " << syncs << " batches; sim running: " << sim.running();
    ++syncs;
    batch_datagrams = 0;
    batch_bytes = 0;
  };
  for (std::uint64_t i = 0; i < total; ++i) {
    std::size_t index = 0;
    const Kind kind = generator.next(datagram, index);
    if (datagram.size() > kBatchBytes && batch_datagrams > 0) {
      ASSERT_NO_FATAL_FAILURE(sync());
    }
    harness.send(datagram);
    ++sent[kind];
    if (kind == Kind::accepted) ++accepted_by_index[index];
    ++batch_datagrams;
    batch_bytes += datagram.size();
    if (batch_datagrams >= kBatchDatagrams || batch_bytes >= kBatchBytes) {
      ASSERT_NO_FATAL_FAILURE(sync());
    }
  }

  // Still answering a valid message after all that.
  harness.send(ipc::encode_datagram(ipc::RevisionRequest{.request_id = 0x5EED5EEDU}));
  const bool answered = harness.await(
      [](std::span<const std::byte> bytes) {
        const auto decoded = ipc::decode_datagram<sil::test::Catalogue>(bytes);
        return decoded.accepted() && std::holds_alternative<ipc::RevisionResponse>(decoded.message) &&
               std::get<ipc::RevisionResponse>(decoded.message).request_id == 0x5EED5EEDU;
      },
      std::chrono::seconds{20});
  EXPECT_TRUE(answered) << "no RevisionResponse to the last request";
  ++accepted_by_index[sil::test::Catalogue::index_of<ipc::RevisionRequest>];

  const control::Stats after = harness.stats();
  ASSERT_TRUE(sim.running());
  const auto delta = [&](const std::string& reason) { return drops_for(after, reason) - drops_for(before, reason); };
  std::printf("seed %llu: %llu datagrams in %llu batches: too_short %llu, unknown_id %llu, wrong_size %llu, "
              "truncated %llu, accepted %llu, bad control %llu, oversized control %llu\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(syncs), static_cast<unsigned long long>(sent[Kind::too_short]),
              static_cast<unsigned long long>(sent[Kind::unknown_id]),
              static_cast<unsigned long long>(sent[Kind::wrong_size]),
              static_cast<unsigned long long>(sent[Kind::truncated]),
              static_cast<unsigned long long>(sent[Kind::accepted]),
              static_cast<unsigned long long>(sent[Kind::bad_control]),
              static_cast<unsigned long long>(sent[Kind::oversized_control]));
  EXPECT_EQ(delta("too_short"), sent[Kind::too_short]);
  EXPECT_EQ(delta("unknown_id"), sent[Kind::unknown_id]);
  EXPECT_EQ(delta("wrong_size"), sent[Kind::wrong_size]);
  EXPECT_EQ(delta("truncated"), sent[Kind::truncated]);
  EXPECT_EQ(delta("inbox_full"), 0U) << "the batches are meant to keep the inbox from filling";
  const auto catalogue = sil::test::catalogue_info().messages;
  for (std::size_t i = 0; i < catalogue.size(); ++i) {
    const auto id = static_cast<std::uint16_t>(catalogue[i].id);
    EXPECT_EQ(count_for(after.received(), id) - count_for(before.received(), id), accepted_by_index[i])
        << catalogue[i].name;
  }
  EXPECT_EQ(after.control_errors() - before.control_errors(), sent[Kind::bad_control] + sent[Kind::oversized_control]);
  // Every request the harness sent, the GetStats of `before` excluded and that of `after` included.
  EXPECT_EQ(after.control_requests() - before.control_requests(),
            sync_requests + 1 + sent[Kind::bad_control] + sent[Kind::oversized_control]);
  EXPECT_EQ(sim.stop(), 0) << "sil-sim must exit 0 on SIGTERM";
}

}  // namespace
}  // namespace sil::live
