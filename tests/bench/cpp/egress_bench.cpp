// UdpBridge egress (bus.publish -> UdpBridge::on -> one sendmsg) against a
// raw C-style sendmsg of the same two iovecs {2-byte id, 65-byte payload},
// both to the same live receiver on loopback: a thread of this binary that
// drains its socket with recvmmsg for as long as the benchmarks run. What
// differs is only what the bridge adds around the syscall (the peer load,
// building the msghdr, the counter).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stop_token>
#include <thread>

#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"

namespace {

using sil::ipc::RevisionResponse;

[[noreturn]] void fail(const char* what) {
  std::perror(what);
  std::exit(1);
}

int loopback_socket(sockaddr_in& bound) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("egress_bench: socket");
  bound = {};
  bound.sin_family = AF_INET;
  bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof bound;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&bound), sizeof bound) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    fail("egress_bench: bind");
  }
  return fd;
}

// The live receiver: drains its socket until stopped (the receive timeout
// bounds each wait, so stopping takes at most 100 ms).
class Receiver {
 public:
  Receiver() : fd_(loopback_socket(address_)) {
    const timeval timeout{0, 100'000};
    const int buffer = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    thread_ = std::jthread([this](std::stop_token stop) { drain(stop); });
  }
  ~Receiver() {
    thread_.request_stop();
    thread_.join();
    ::close(fd_);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  const sockaddr_in& address() const noexcept { return address_; }
  int fd() const noexcept { return fd_; }
  std::uint64_t received() const noexcept { return received_.load(std::memory_order_relaxed); }

 private:
  void drain(const std::stop_token& stop) {
    constexpr unsigned kBatch = 64;
    std::array<std::array<std::byte, 128>, kBatch> buffers{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> headers{};
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i].data(), buffers[i].size()};
      headers[i].msg_hdr.msg_iov = &iov[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    while (!stop.stop_requested()) {
      const int n = ::recvmmsg(fd_, headers.data(), kBatch, MSG_WAITFORONE, nullptr);
      if (n > 0) received_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    }
  }

  sockaddr_in address_{};
  int fd_;
  std::atomic<std::uint64_t> received_{0};
  std::jthread thread_;
};

void report(benchmark::State& state, const Receiver& receiver, std::uint64_t received_before) {
  state.counters["delivered_per_send"] = benchmark::Counter(
      static_cast<double>(receiver.received() - received_before), benchmark::Counter::kAvgIterations);
}

void bridge_egress(benchmark::State& state, Receiver& receiver) {
  sil::test::Bridge bridge({});
  sil::ipc::MessageBus<sil::test::Catalogue, sil::test::Bridge> bus(bridge);
  // The receiver becomes the bridge's peer the way a harness does: by
  // sending it a valid datagram.
  const auto hello = sil::bridge::encode_datagram(sil::ipc::RevisionRequest{.request_id = 1});
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(bridge.port());
  ::sendto(receiver.fd(), hello.data(), hello.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  for (int attempt = 0; attempt < 100 && bridge.active_peer() == 0; ++attempt) {
    pollfd ready{bridge.socket_fd(), POLLIN, 0};
    if (::poll(&ready, 1, 20) > 0) bridge.receive_direct(bus, [](const auto&) {}, [] { return false; });
  }
  if (bridge.active_peer() == 0) {
    state.SkipWithError("the bridge never saw the receiver's datagram");
    return;
  }

  RevisionResponse payload{};
  std::uint32_t i = 0;
  const std::uint64_t received_before = receiver.received();
  for (auto _ : state) {
    payload.request_id = ++i;
    benchmark::DoNotOptimize(payload);
    bus.publish(payload);
  }
  report(state, receiver, received_before);
  if (bridge.stats().tx_errors != 0) state.SkipWithError("sendmsg failed");
}

// epoll_registered: the sending socket is also in an epoll set (EPOLLIN |
// EPOLLOUT, edge-triggered), as asio registers every socket it opens (the
// bridge's was one, until this measurement showed the cost); then each sent
// datagram's release wakes the socket's wait queue. The difference to the
// plain loop shows what that costs.
void raw_sendmsg(benchmark::State& state, Receiver& receiver, bool epoll_registered) {
  sockaddr_in own{};
  const int fd = loopback_socket(own);
  const int epoll = epoll_registered ? ::epoll_create1(EPOLL_CLOEXEC) : -1;
  if (epoll_registered) {
    epoll_event interest{};
    interest.events = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLPRI | EPOLLET;
    if (epoll < 0 || ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &interest) != 0) fail("egress_bench: epoll");
  }
  sockaddr_in to = receiver.address();
  std::array<std::uint8_t, 2> header = sil::bridge::kHeader<RevisionResponse>;  // 0xD1 0x07: MsgId 2001
  RevisionResponse payload{};
  std::array<iovec, 2> iov{{{header.data(), header.size()}, {&payload, sizeof payload}}};
  msghdr message{};
  message.msg_name = &to;
  message.msg_namelen = sizeof to;
  message.msg_iov = iov.data();
  message.msg_iovlen = iov.size();
  std::uint32_t i = 0;
  std::uint64_t errors = 0;
  const std::uint64_t received_before = receiver.received();
  for (auto _ : state) {
    payload.request_id = ++i;
    benchmark::DoNotOptimize(payload);
    if (::sendmsg(fd, &message, MSG_DONTWAIT) < 0) ++errors;
  }
  report(state, receiver, received_before);
  ::close(fd);
  if (epoll >= 0) ::close(epoll);
  if (errors != 0) state.SkipWithError("sendmsg failed");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Receiver receiver;  // one live receiver for every benchmark in the run
  benchmark::RegisterBenchmark("bridge_egress", [&receiver](benchmark::State& state) { bridge_egress(state, receiver); });
  benchmark::RegisterBenchmark("raw_sendmsg",
                               [&receiver](benchmark::State& state) { raw_sendmsg(state, receiver, false); });
  benchmark::RegisterBenchmark("raw_sendmsg_epoll_registered",
                               [&receiver](benchmark::State& state) { raw_sendmsg(state, receiver, true); });
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
