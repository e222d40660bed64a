#pragma once
// Recovery of a damaged recording (sil-rec recover): every intact frame,
// found again after damage by trying each byte offset, copied byte for byte
// into a new recording; what was skipped, and where, is reported. The rules
// are in docs/recording-format.md "Recovery".
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace sil::record {

// Bytes of the input left out of the recovered recording.
struct SkippedBytes {
  std::size_t offset = 0;  // where the damage starts
  std::size_t bytes = 0;
  // How many frames they held, when that is known: their length fields
  // lead exactly to the next intact frame (0 for the magic).
  std::optional<std::uint64_t> frames;
  std::string why;  // the problem at `offset` (as Reader::problem() words it)
};

struct Recovery {
  std::uint64_t messages = 0;  // Message records copied
  // The footer was copied: nothing before it was skipped. A recording with
  // gaps gets none, so that it reads as cut short, not as a whole run.
  bool footer = false;
  std::optional<std::size_t> footer_offset;  // where an intact footer was found, copied or not
  std::vector<SkippedBytes> skipped;         // in file order
  bool intact() const noexcept { return skipped.empty(); }
};

// Nothing can be recovered: no intact header where a recording's first
// frame is (byte 8). The message names the offset.
class RecoverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Recovers the recording in `file`, handing the new recording's bytes to
// `write` in order (the magic first). Throws RecoverError.
Recovery recover(std::span<const std::byte> file, const std::function<void(std::span<const std::byte>)>& write);

// recover() written to the file descriptor `fd`, in chunks of 64 KiB; the
// caller opens (never the input itself), syncs and closes it. Throws
// RecoverError, or std::system_error for a failed write.
Recovery recover_to_fd(std::span<const std::byte> file, int fd);

}  // namespace sil::record
