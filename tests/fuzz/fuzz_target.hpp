#pragma once
// What every fuzz target shares: the libFuzzer entry point it defines, and
// the check that turns a broken invariant into a crash libFuzzer (or the
// corpus replay test) reports with the input that caused it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace sil::fuzz {

// Not assert(): it must fire in release builds too.
inline void check(bool holds, const char* invariant) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", invariant);
  std::abort();
}

}  // namespace sil::fuzz
