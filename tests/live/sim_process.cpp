#include "sim_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace sil::live {

namespace {

using Clock = std::chrono::steady_clock;

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// Reads the first line the child writes to `fd`, waiting until `deadline`.
std::string read_line(int fd, Clock::time_point deadline) {
  std::string line;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error("sil-sim printed no ready line in time (got '" + line + "')");
    pollfd fds{fd, POLLIN, 0};
    if (::poll(&fds, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[512];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n == 0) throw std::runtime_error("sil-sim exited before its ready line (got '" + line + "')");
    if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "read sil-sim stdout");
    if (n > 0) line.append(chunk, static_cast<std::size_t>(n));
  }
  return line.substr(0, line.find('\n'));
}

std::uint16_t port_of(const std::string& ready) {
  const std::string key = "\"port\": ";
  const auto at = ready.find(key);
  if (ready.find("\"event\": \"ready\"") == std::string::npos || at == std::string::npos) {
    throw std::runtime_error("not a ready line: " + ready);
  }
  const unsigned long port = std::strtoul(ready.c_str() + at + key.size(), nullptr, 10);
  if (port == 0 || port > 65535) throw std::runtime_error("no port in the ready line: " + ready);
  return static_cast<std::uint16_t>(port);
}

}  // namespace

std::string sim_path() {
  if (const char* env = std::getenv("SIL_SIM"); env != nullptr && *env != '\0') return env;
  return SIL_SIM_DEFAULT_PATH;
}

SimProcess::SimProcess(const std::string& path, const std::vector<std::string>& args,
                       std::chrono::seconds ready_within) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  std::vector<std::string> argv_text{path};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) {
    // The child: only async-signal-safe calls until exec. It must not
    // outlive a test that crashes, so it dies with its parent.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  try {
    port_ = port_of(read_line(out[0], Clock::now() + ready_within));
  } catch (...) {
    ::close(out[0]);
    stop(std::chrono::seconds{1});
    throw;
  }
  // sil-sim writes nothing else to stdout; closing our end is safe.
  ::close(out[0]);
}

SimProcess::~SimProcess() { stop(); }

bool SimProcess::running() {
  if (status_ >= 0 || pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = exit_code(status);
    return false;
  }
  return true;
}

int SimProcess::stop(std::chrono::seconds grace) {
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) status_ = exit_code(status);
  }
  return status_;
}

}  // namespace sil::live
