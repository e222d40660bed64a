// udp_echo: the baseline for tests/bench/run.py. A UDP echo server on
// 127.0.0.1, port chosen by the kernel, that sends every datagram straight
// back to its sender: one recvmsg and one sendmsg per datagram, on one
// thread, nothing else. The lockstep round trip through sil-sim is measured
// against a round trip through this, so the ratio isolates what sil-sim adds
// over the kernel's loopback path and Python's socket calls.
//
// Prints one JSON line on stdout when ready, like sil-sim's ready line:
//   {"event": "ready", "port": N, "pid": P}
// and exits with status 0 on SIGTERM or SIGINT, after printing
//   {"event": "stopped", "echoed": N, "errors": N}
// on stderr.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_signal(int) { g_stop = 1; }

}  // namespace

int main() {
  // No SA_RESTART: a signal interrupts the blocking recvmsg (EINTR). The
  // receive timeout bounds the one race left (a signal that lands between
  // the flag check and recvmsg) to 100 ms, without a poll() per datagram.
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  if (::sigaction(SIGTERM, &action, nullptr) != 0 || ::sigaction(SIGINT, &action, nullptr) != 0) {
    std::perror("udp_echo: sigaction");
    return 1;
  }

  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("udp_echo: socket");
    return 1;
  }
  const timeval timeout{0, 100'000};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    std::perror("udp_echo: setsockopt");
    return 1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    std::perror("udp_echo: bind");
    return 1;
  }
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("udp_echo: getsockname");
    return 1;
  }
  std::printf("{\"event\": \"ready\", \"port\": %u, \"pid\": %d}\n", static_cast<unsigned>(ntohs(address.sin_port)),
              static_cast<int>(::getpid()));
  std::fflush(stdout);

  std::array<std::byte, 65536> buffer{};
  unsigned long long echoed = 0;
  unsigned long long errors = 0;
  while (g_stop == 0) {
    sockaddr_in from{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr header{};
    header.msg_name = &from;
    header.msg_namelen = sizeof from;
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    const ssize_t received = ::recvmsg(fd, &header, 0);
    if (received < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) ++errors;
      continue;
    }
    iov.iov_len = static_cast<std::size_t>(received);
    header.msg_flags = 0;
    if (::sendmsg(fd, &header, 0) < 0) {
      ++errors;
    } else {
      ++echoed;
    }
  }
  ::close(fd);
  std::fprintf(stderr, "{\"event\": \"stopped\", \"echoed\": %llu, \"errors\": %llu}\n", echoed, errors);
  return 0;
}
