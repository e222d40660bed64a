// telemetry_pub: a C++ publisher of a 65-byte telemetry stream, for the
// side-by-side comparison with ZeroMQ (tests/bench/bench_zmq.py). The same
// payload either way: a RevisionResponse whose request_id is the sequence
// number (0, 1, 2, ...) and whose build_time_unix is CLOCK_MONOTONIC at send
// in nanoseconds, so the consumer sees loss and latency.
//
//   telemetry_pub --transport sil --count N [--rate R]
//       a UdpBridge on 127.0.0.1 (port from the kernel) and bus.publish:
//       one datagram {2-byte id, payload} per message, to the first client
//       that sends it a valid datagram;
//   telemetry_pub --transport zmq --endpoint ipc://PATH|tcp://127.0.0.1:PORT --count N [--rate R]
//       a ZeroMQ XPUB socket with ZMQ_XPUB_NODROP (a send waits while the
//       subscriber's queue is full instead of dropping), otherwise default
//       options; one 65-byte message each, starting once a subscription arrives.
//
// --rate 0 (the default) sends as fast as it can; R > 0 paces to R messages
// per second on an absolute schedule. Prints {"event": "ready", "port": P}
// (sil) or {"event": "ready"} (zmq) on stdout, waits at most 10 s for its
// consumer, sends, and prints {"event": "done", "sent": N, "seconds": S}.
#include <poll.h>
#include <time.h>
#include <zmq.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"

namespace {

using sil::ipc::RevisionResponse;

constexpr int kConsumerWaitMs = 10'000;

struct Options {
  std::string transport;
  std::string endpoint;
  std::uint64_t count = 0;
  std::uint64_t rate = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "telemetry_pub: %s\nusage: telemetry_pub --transport sil|zmq [--endpoint E] --count N [--rate R]\n",
               why);
  std::exit(2);
}

std::uint64_t number(const char* text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') usage("not a number");
  return value;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) usage("a flag without its value");
    const std::string_view flag = argv[i];
    if (flag == "--transport") {
      options.transport = argv[i + 1];
    } else if (flag == "--endpoint") {
      options.endpoint = argv[i + 1];
    } else if (flag == "--count") {
      options.count = number(argv[i + 1]);
    } else if (flag == "--rate") {
      options.rate = number(argv[i + 1]);
    } else {
      usage("unknown flag");
    }
  }
  if (options.transport != "sil" && options.transport != "zmq") usage("--transport must be sil or zmq");
  if (options.transport == "zmq" && options.endpoint.empty()) usage("zmq needs --endpoint");
  if (options.count == 0) usage("--count must be > 0");
  return options;
}

std::int64_t now_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// Calls send(payload) count times, paced to rate (0: unpaced), stamping
// each payload with its sequence number and the send time.
template <class Send>
double stream(const Options& options, Send&& send) {
  RevisionResponse payload{};
  payload.catalogue_hash = 0x5EED;
  const std::int64_t start = now_ns();
  for (std::uint64_t i = 0; i < options.count; ++i) {
    if (options.rate != 0) {
      const std::int64_t due = start + static_cast<std::int64_t>(i * 1'000'000'000ULL / options.rate);
      const timespec at{static_cast<time_t>(due / 1'000'000'000), static_cast<long>(due % 1'000'000'000)};
      while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
    }
    payload.request_id = static_cast<std::uint32_t>(i);
    payload.build_time_unix = now_ns();
    send(payload);
  }
  return static_cast<double>(now_ns() - start) / 1e9;
}

void done(std::uint64_t sent, double seconds) {
  std::printf("{\"event\": \"done\", \"sent\": %llu, \"seconds\": %.6f}\n", static_cast<unsigned long long>(sent),
              seconds);
  std::fflush(stdout);
}

int run_sil(const Options& options) {
  sil::test::Bridge bridge({});
  sil::ipc::MessageBus<sil::test::Catalogue, sil::test::Bridge> bus(bridge);
  std::printf("{\"event\": \"ready\", \"port\": %u}\n", static_cast<unsigned>(bridge.port()));
  std::fflush(stdout);
  for (int waited = 0; bridge.active_peer() == 0; waited += 50) {
    if (waited >= kConsumerWaitMs) {
      std::fprintf(stderr, "telemetry_pub: no consumer within %d ms\n", kConsumerWaitMs);
      return 1;
    }
    pollfd ready{bridge.socket_fd(), POLLIN, 0};
    if (::poll(&ready, 1, 50) > 0) bridge.receive_direct(bus, [](const auto&) {}, [] { return false; });
  }
  const double seconds = stream(options, [&](const RevisionResponse& payload) { bus.publish(payload); });
  done(bridge.stats().tx_sent, seconds);
  return 0;
}

int run_zmq(const Options& options) {
  void* context = ::zmq_ctx_new();
  void* socket = ::zmq_socket(context, ZMQ_XPUB);
  const int nodrop = 1;
  if (socket == nullptr || ::zmq_setsockopt(socket, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop) != 0 ||
      ::zmq_bind(socket, options.endpoint.c_str()) != 0) {
    std::fprintf(stderr, "telemetry_pub: zmq bind %s: %s\n", options.endpoint.c_str(), ::zmq_strerror(::zmq_errno()));
    return 1;
  }
  std::printf("{\"event\": \"ready\"}\n");
  std::fflush(stdout);
  // XPUB hands us the subscription, so nothing is sent before the consumer
  // can receive it (PUB would drop the first messages: the slow joiner).
  zmq_pollitem_t item{socket, 0, ZMQ_POLLIN, 0};
  if (::zmq_poll(&item, 1, kConsumerWaitMs) != 1) {
    std::fprintf(stderr, "telemetry_pub: no subscriber within %d ms\n", kConsumerWaitMs);
    return 1;
  }
  char subscription[64];
  ::zmq_recv(socket, subscription, sizeof subscription, 0);
  std::uint64_t sent = 0;
  const double seconds = stream(options, [&](const RevisionResponse& payload) {
    if (::zmq_send(socket, &payload, sizeof payload, 0) == static_cast<int>(sizeof payload)) ++sent;
  });
  done(sent, seconds);
  int linger = 1000;  // deliver what is queued, but never hang on exit
  ::zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
  ::zmq_close(socket);
  ::zmq_ctx_term(context);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  return options.transport == "sil" ? run_sil(options) : run_zmq(options);
}
