#pragma once
// A sil-sim process for the tests that drive a real one (the hostile-input
// test, the soak): started with its flags, ready once its ready line says
// which port it bound, and stopped the way a user stops it. Every wait is
// bounded, and the sim dies with the process that started it.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sil::live {

class SimProcess {
 public:
  // Starts `path` with `args` and waits (at most `ready_within`) for its
  // ready line. Throws std::runtime_error saying why when it does not come.
  SimProcess(const std::string& path, const std::vector<std::string>& args,
             std::chrono::seconds ready_within = std::chrono::seconds{30});
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  std::uint16_t port() const noexcept { return port_; }

  // True while the process has not exited.
  bool running();
  // SIGTERM, then SIGKILL after `grace`; the exit status, or 128 + signal
  // for a process a signal ended (as a shell reports it).
  int stop(std::chrono::seconds grace = std::chrono::seconds{10});

 private:
  pid_t pid_ = -1;
  int status_ = -1;  // set once reaped
  std::uint16_t port_ = 0;
};

// The path of the sil-sim to test: $SIL_SIM if set, else the build's own.
std::string sim_path();

}  // namespace sil::live
