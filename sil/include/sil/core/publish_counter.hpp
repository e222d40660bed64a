#pragma once
// Counts publications per message type, indexed by catalogue position: the
// "published" column of the control plane's stats. Simulation thread only.
#include <array>
#include <cstddef>
#include <cstdint>

#include "sil/ipc/catalogue.hpp"

namespace sil::core {

template <ipc::AnyCatalogue C>
class PublishCounter {
 public:
  template <ipc::Message T>
  void on(const T& /*message*/) noexcept {
    ++counts_[C::template index_of<T>];
  }
  std::uint64_t count(std::size_t catalogue_index) const noexcept { return counts_[catalogue_index]; }

 private:
  std::array<std::uint64_t, C::size> counts_{};
};

}  // namespace sil::core
