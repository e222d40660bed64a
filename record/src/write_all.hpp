#pragma once
// One write loop for the recording's files (the Writer's, a recovery's).
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <span>

namespace sil::record {

// Writes all of `bytes` to `fd`, again after EINTR and short writes; 0 or
// the errno of the failure.
inline int write_all(int fd, std::span<const std::byte> bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
  return 0;
}

}  // namespace sil::record
