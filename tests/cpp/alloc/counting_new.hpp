#pragma once
#include <cstddef>

namespace sil::test {
// Calls of any global operator new so far, on any thread.
std::size_t allocation_count() noexcept;
}  // namespace sil::test
