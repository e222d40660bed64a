// batched_egress_bench: UdpBridge's batched egress against the raw
// per-message baseline (one C-style sendmsg of {2-byte id, payload} per
// message), both sending to the same live receiver on 127.0.0.1.
//
// A "tick" publishes kPerTick messages; the batched bridge sends them at the
// end of the tick (bridge.flush()). Two mixes:
//   equal: 65-byte RevisionResponses only, so every tick is one GSO run
//          (up to 64 datagrams per pass through the network stack);
//   mixed: RevisionResponse and Heartbeat alternating, so no two
//          neighbours have the same size and the batch is plain sendmmsg.
// The two senders alternate, repetition by repetition; each figure is the
// median over the repetitions and each ratio the median of the ratios of
// adjacent pairs. The receiver drains with recvmmsg on its own thread and
// counts what arrives: "_delivered" is the fraction of what was sent that
// the receiver actually got (loss shows there, not in the send rate).
//
// Prints a JSON list of {"name", "value", "unit", "baseline", "ratio"} on
// stdout. Usage: batched_egress_bench [--quick]
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sil/ipc/datagram.hpp"
#include "sil/bridge/peer.hpp"
#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using sil::test::Bridge;

constexpr std::uint32_t kPerTick = 64;

// A socket on 127.0.0.1 that counts every datagram it receives, on its own
// thread, until stopped.
class Receiver {
 public:
  Receiver() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket");
    // As large as this user may ask for: the point is the sender's cost,
    // with a receiver that keeps up as well as it can.
    const int want = 32 << 20;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    }
    timeval timeout{0, 50'000};  // lets the loop notice stop
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("bind");
    socklen_t length = sizeof address_;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &length);
    thread_ = std::thread([this] { drain(); });
  }
  ~Receiver() {
    stop_.store(true);
    thread_.join();
    ::close(fd_);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  int fd() const { return fd_; }
  const sockaddr_in& address() const { return address_; }
  std::uint64_t received() const { return received_.load(); }

  // Waits (bounded) until `count` datagrams arrived or nothing more comes.
  std::uint64_t settle(std::uint64_t count) const {
    std::uint64_t last = received();
    for (int quiet = 0; quiet < 20 && last < count; ) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const std::uint64_t now = received();
      quiet = now == last ? quiet + 1 : 0;
      last = now;
    }
    return last;
  }

 private:
  void drain() {
    constexpr std::size_t kSlots = 256;
    std::vector<std::array<std::byte, 2048>> buffers(kSlots);
    std::vector<iovec> iov(kSlots);
    std::vector<mmsghdr> messages(kSlots);
    for (std::size_t i = 0; i < kSlots; ++i) {
      iov[i] = {buffers[i].data(), buffers[i].size()};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    while (!stop_.load()) {
      const int got = ::recvmmsg(fd_, messages.data(), kSlots, MSG_WAITFORONE, nullptr);
      if (got > 0) received_.fetch_add(static_cast<std::uint64_t>(got));
    }
  }

  int fd_;
  sockaddr_in address_{};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> received_{0};
  std::thread thread_;
};

// The baseline: what a C programmer writes without a framework.
class RawSender {
 public:
  explicit RawSender(const sockaddr_in& to) : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)), to_(to) {}
  ~RawSender() { ::close(fd_); }
  RawSender(const RawSender&) = delete;
  RawSender& operator=(const RawSender&) = delete;

  template <class T>
  void send(const T& payload) {
    static constexpr auto head = sil::bridge::kHeader<T>;
    std::array<iovec, 2> iov{{{const_cast<std::uint8_t*>(head.data()), head.size()},
                              {const_cast<T*>(&payload), sizeof(T)}}};
    msghdr header{};
    header.msg_name = &to_;
    header.msg_namelen = sizeof to_;
    header.msg_iov = iov.data();
    header.msg_iovlen = iov.size();
    if (::sendmsg(fd_, &header, MSG_DONTWAIT) < 0) ++errors_;
  }
  std::uint64_t errors() const { return errors_; }

 private:
  int fd_;
  sockaddr_in to_;
  std::uint64_t errors_ = 0;
};

sil::ipc::RevisionResponse response(std::uint32_t id) {
  sil::ipc::RevisionResponse r{};
  r.request_id = id;
  r.git_revision.assign("0123456789abcdef0123456789abcdef01234567");
  return r;
}

// The tick's k-th message for a mix, handed to `send`.
template <class Send>
void tick_messages(bool mixed, std::uint32_t tick, Send&& send) {
  for (std::uint32_t k = 0; k < kPerTick; ++k) {
    const std::uint32_t id = tick * kPerTick + k;
    if (mixed && k % 2 == 1) {
      send(sil::ipc::Heartbeat{.sequence = id, .tick = tick, .sim_time_ns = 0});
    } else {
      send(response(id));
    }
  }
}

struct Rep {
  double sent_per_s;
  double delivered;  // fraction of the messages sent that the receiver got
};

template <class RunTicks>
Rep measure(Receiver& receiver, std::uint32_t ticks, RunTicks&& run_ticks) {
  const std::uint64_t before = receiver.received();
  const auto start = Clock::now();
  run_ticks(ticks);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::uint64_t messages = std::uint64_t{ticks} * kPerTick;
  const std::uint64_t delivered = receiver.settle(before + messages) - before;
  return {static_cast<double>(messages) / seconds, static_cast<double>(delivered) / static_cast<double>(messages)};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string entry(const std::string& name, double value, const std::string& unit, const std::string& base_name,
                  double base_value, double ratio, const std::string& bar) {
  char text[512];
  std::snprintf(text, sizeof text,
                "{\"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\", \"baseline\": {\"name\": \"%s\", "
                "\"value\": %.6g, \"unit\": \"%s\"}, \"ratio\": %.3f, \"bar\": \"%s\"}",
                name.c_str(), value, unit.c_str(), base_name.c_str(), base_value, unit.c_str(), ratio, bar.c_str());
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const std::uint32_t ticks = quick ? 200 : 2000;
  const int reps = quick ? 5 : 7;

  Receiver receiver;
  sil::test::Bridge bridge({.bind_address = "127.0.0.1", .port = 0, .egress = sil::bridge::Egress::batched});
  sil::ipc::MessageBus<sil::test::Catalogue, sil::test::Bridge> bus(bridge);

  // The receiver's socket becomes the bridge's peer the way a harness's
  // does: by sending it a valid datagram.
  {
    const auto hello = sil::bridge::encode_datagram(sil::ipc::RevisionRequest{.request_id = 1});
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(bridge.port());
    ::sendto(receiver.fd(), hello.data(), hello.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    for (int i = 0; i < 1000 && bridge.active_peer() == 0; ++i) {
      bridge.receive_direct(bus, [](const auto&) {}, [] { return false; });
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (bridge.active_peer() != sil::bridge::pack_peer(receiver.address())) {
      std::fprintf(stderr, "batched_egress_bench: the bridge never took the receiver as its peer\n");
      return 1;
    }
  }

  RawSender raw(receiver.address());
  std::vector<std::string> entries;
  for (const bool mixed : {false, true}) {
    const std::string mix = mixed ? "mixed" : "equal";
    std::vector<double> raw_sent, raw_delivered, batched_sent, batched_delivered, sent_ratio;
    for (int r = 0; r < reps; ++r) {
      const Rep base = measure(receiver, ticks, [&](std::uint32_t n) {
        for (std::uint32_t t = 0; t < n; ++t) tick_messages(mixed, t, [&](const auto& m) { raw.send(m); });
      });
      const Rep ours = measure(receiver, ticks, [&](std::uint32_t n) {
        for (std::uint32_t t = 0; t < n; ++t) {
          tick_messages(mixed, t, [&](const auto& m) { bus.publish(m); });
          bridge.flush();
        }
      });
      raw_sent.push_back(base.sent_per_s);
      raw_delivered.push_back(base.delivered);
      batched_sent.push_back(ours.sent_per_s);
      batched_delivered.push_back(ours.delivered);
      sent_ratio.push_back(ours.sent_per_s / base.sent_per_s);
    }
    entries.push_back(entry("batched_egress_" + mix, median(batched_sent), "messages/s",
                            "raw_sendmsg_per_message_" + mix, median(raw_sent), median(sent_ratio),
                            mixed ? "reported" : "ratio >= 3"));
    const double delivered = median(batched_delivered);
    const double raw_delivered_median = median(raw_delivered);
    entries.push_back(entry("batched_egress_" + mix + "_delivered", delivered, "fraction",
                            "raw_sendmsg_per_message_" + mix + "_delivered", raw_delivered_median,
                            delivered / raw_delivered_median, "reported"));
  }
  const auto stats = bridge.stats();
  if (stats.tx_errors != 0 || raw.errors() != 0) {
    std::fprintf(stderr, "batched_egress_bench: send errors: bridge %llu, raw %llu\n",
                 static_cast<unsigned long long>(stats.tx_errors), static_cast<unsigned long long>(raw.errors()));
  }
  std::printf("[\n");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::printf("  %s%s\n", entries[i].c_str(), i + 1 < entries.size() ? "," : "");
  }
  std::printf("]\n");
  return 0;
}
