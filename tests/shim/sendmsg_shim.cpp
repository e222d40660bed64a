// An LD_PRELOAD library for tests: makes sil-sim's sendmsg fail with a
// scripted sequence of errnos, so the send-error handling is tested against
// the real binary without any seam in its send path.
//
//   SIL_TEST_SENDMSG_ERRNOS=ECONNREFUSED,EAGAIN,ENOBUFS,EINTR,EMSGSIZE
//
// The first telemetry sends fail with these errnos, one each, in order;
// every send after them goes through. Control replies (header f1 ff) always
// go through, so the harness can still talk to the sim and read its counters.
// Test-only: its one counter is process-wide state, which is the point of
// an interposer and why it lives nowhere near the libraries.
#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

constexpr std::size_t kMaxScript = 64;

struct Script {
  std::array<int, kMaxScript> errnos{};
  std::size_t size = 0;
};

int errno_named(std::string_view name) {
  if (name == "ECONNREFUSED") return ECONNREFUSED;
  if (name == "EAGAIN") return EAGAIN;
  if (name == "ENOBUFS") return ENOBUFS;
  if (name == "EINTR") return EINTR;
  if (name == "EMSGSIZE") return EMSGSIZE;
  if (name == "EPERM") return EPERM;
  return 0;
}

Script read_script() {
  Script script;
  const char* text = std::getenv("SIL_TEST_SENDMSG_ERRNOS");
  std::string_view rest = text != nullptr ? text : "";
  while (!rest.empty() && script.size < kMaxScript) {
    const auto comma = rest.find(',');
    const int error = errno_named(rest.substr(0, comma));
    if (error != 0) script.errnos[script.size++] = error;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return script;
}

bool is_control_reply(const msghdr* message) {
  if (message == nullptr || message->msg_iovlen == 0 || message->msg_iov[0].iov_len < 2) return false;
  const auto* head = static_cast<const unsigned char*>(message->msg_iov[0].iov_base);
  return head[0] == 0xF1 && head[1] == 0xFF;
}

using SendmsgFn = ssize_t (*)(int, const msghdr*, int);

}  // namespace

extern "C" ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  static const Script script = read_script();
  static std::atomic<std::size_t> failed{0};
  static const auto real = reinterpret_cast<SendmsgFn>(::dlsym(RTLD_NEXT, "sendmsg"));
  if (!is_control_reply(message)) {
    const std::size_t index = failed.load();
    if (index < script.size) {
      failed.store(index + 1);
      errno = script.errnos[index];
      return -1;
    }
  }
  return real(fd, message, flags);
}
