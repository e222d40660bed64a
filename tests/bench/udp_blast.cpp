// udp_blast: a paced stream of Heartbeat datagrams to 127.0.0.1:PORT, the
// load the Python ingest benchmark (tests/bench/bench_ingest.py) receives.
// Heartbeat i carries sequence = i (u32, wraps) and tick = i, so a receiver
// detects loss and reordering from the payload alone; sim_time_ns carries
// the sender's CLOCK_MONOTONIC at send, for latency.
//
//   udp_blast --port N --count N [--rate MSGS_PER_S] [--batch N] [--gso 0|1] [--delay-ms N]
//
// --rate 0 (the default) sends as fast as sendmmsg allows; otherwise bursts
// of --batch datagrams are sent on an absolute schedule (a late burst is
// sent at once, never skipped). --gso 1 sends each burst with one sendmsg
// and UDP_SEGMENT (the kernel cuts it into the same datagrams, so the
// receiver sees no difference): on loopback a sendmsg costs about as much
// as the receiver's recv, so one sender per datagram cannot outrun a
// batched receiver. --delay-ms waits before the first send, so
// the receiver can be ready. Loopback only. When done, prints one JSON line
// on stdout:
//   {"event": "done", "sent": N, "errors": N, "send_calls": N, "seconds": S}
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "sil/ipc/datagram.hpp"

#include "sil/ipc/messages.hpp"

namespace {

struct Options {
  unsigned port = 0;
  std::uint64_t count = 0;
  std::uint64_t rate = 0;
  unsigned batch = 64;
  unsigned delay_ms = 0;
  bool gso = false;
};

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const std::string copy(text);
  errno = 0;
  const unsigned long long value = std::strtoull(copy.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || copy[0] == '-') return false;
  out = value;
  return true;
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "udp_blast: %s needs a value\n", argv[i]);
      return false;
    }
    std::uint64_t value = 0;
    if (!parse_number(argv[i + 1], value)) {
      std::fprintf(stderr, "udp_blast: %s: '%s' is not a non-negative integer\n", argv[i], argv[i + 1]);
      return false;
    }
    if (flag == "--port" && value > 0 && value <= 65535) {
      options.port = static_cast<unsigned>(value);
    } else if (flag == "--count") {
      options.count = value;
    } else if (flag == "--rate") {
      options.rate = value;
    } else if (flag == "--batch" && value >= 1 && value <= 1024) {
      options.batch = static_cast<unsigned>(value);
    } else if (flag == "--gso" && value <= 1) {
      options.gso = value == 1;
    } else if (flag == "--delay-ms" && value <= 60'000) {
      options.delay_ms = static_cast<unsigned>(value);
    } else {
      std::fprintf(stderr, "udp_blast: bad flag or value: %s %s\n", argv[i], argv[i + 1]);
      return false;
    }
  }
  if (options.port == 0 || options.count == 0) {
    std::fprintf(stderr,
                 "usage: udp_blast --port N --count N [--rate MSGS_PER_S] [--batch N] [--gso 0|1] [--delay-ms N]\n");
    return false;
  }
  return true;
}

std::int64_t monotonic_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void sleep_until_ns(std::int64_t deadline) {
  const timespec at{static_cast<time_t>(deadline / 1'000'000'000), static_cast<long>(deadline % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) return 2;

  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("udp_blast: socket");
    return 1;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(options.port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    std::perror("udp_blast: connect");
    return 1;
  }

  using Datagram = decltype(sil::ipc::encode_datagram(sil::ipc::Heartbeat{}));
  static_assert(sizeof(Datagram) == sil::ipc::kHeaderSize + sizeof(sil::ipc::Heartbeat), "packed back to back");
  if (options.gso) {
    // Every burst is one buffer of equal-sized datagrams back to back.
    const int segment = static_cast<int>(sizeof(Datagram));
    if (options.batch > 64 || ::setsockopt(fd, SOL_UDP, UDP_SEGMENT, &segment, sizeof segment) != 0) {
      std::fprintf(stderr, "udp_blast: --gso needs --batch <= 64 and a kernel with UDP_SEGMENT\n");
      return 2;
    }
  }
  std::vector<Datagram> datagrams(options.batch);
  std::vector<iovec> iovecs(options.batch);
  std::vector<mmsghdr> headers(options.batch);
  for (unsigned i = 0; i < options.batch; ++i) {
    iovecs[i] = {datagrams[i].data(), datagrams[i].size()};
    headers[i].msg_hdr.msg_iov = &iovecs[i];
    headers[i].msg_hdr.msg_iovlen = 1;
  }

  if (options.delay_ms != 0) sleep_until_ns(monotonic_ns() + std::int64_t{options.delay_ms} * 1'000'000);
  const std::int64_t start = monotonic_ns();
  std::uint64_t sent = 0;
  std::uint64_t errors = 0;
  std::uint64_t calls = 0;
  // Each burst either sends something or counts an error, and every burst
  // advances `next`, so the loop ends after at most count + errors bursts.
  std::uint64_t next = 0;
  while (next < options.count && errors < options.count) {
    if (options.rate != 0) {
      const auto due = start + static_cast<std::int64_t>(static_cast<double>(next) * 1e9 /
                                                         static_cast<double>(options.rate));
      if (monotonic_ns() < due) sleep_until_ns(due);
    }
    const auto burst = static_cast<unsigned>(std::min<std::uint64_t>(options.batch, options.count - next));
    const std::int64_t now = monotonic_ns();
    for (unsigned i = 0; i < burst; ++i) {
      const std::uint64_t sequence = next + i;
      datagrams[i] = sil::ipc::encode_datagram(sil::ipc::Heartbeat{
          .sequence = static_cast<std::uint32_t>(sequence), .tick = sequence,
          .sim_time_ns = static_cast<std::uint64_t>(now)});
    }
    unsigned done = 0;
    if (options.gso) {
      const iovec whole{datagrams.data(), burst * sizeof(Datagram)};
      msghdr header{};
      header.msg_iov = const_cast<iovec*>(&whole);
      header.msg_iovlen = 1;
      ++calls;
      if (::sendmsg(fd, &header, 0) < 0) {
        errors += burst;
      } else {
        sent += burst;
      }
      done = burst;
    }
    while (done < burst) {
      const int n = ::sendmmsg(fd, headers.data() + done, burst - done, 0);
      ++calls;
      if (n <= 0) {
        // ECONNREFUSED: nobody listens yet (or any more); the datagram is lost, count it and go on.
        ++errors;
        ++done;
        continue;
      }
      done += static_cast<unsigned>(n);
      sent += static_cast<unsigned>(n);
    }
    next += burst;
  }
  const double seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  std::printf("{\"event\": \"done\", \"sent\": %llu, \"errors\": %llu, \"send_calls\": %llu, \"seconds\": %.6f}\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(errors),
              static_cast<unsigned long long>(calls), seconds);
  ::close(fd);
  return 0;
}
