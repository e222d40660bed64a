#pragma once
// The system sil's own tests run against: the thermal example, built as a
// user builds theirs (examples/thermal). Tests name it through these
// aliases so the system they pin is stated once.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sil/bridge/udp_bridge.hpp"
#include "sil/core/simulation.hpp"
#include "sil/core/system.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "thermal/system.hpp"

namespace sil::test {

using System = thermal::System;
using Catalogue = SystemTraits<System>::catalogue;
using Sim = core::Simulation<System>;
using Bridge = bridge::UdpBridge<Catalogue>;
// The hash harnesses compare: messages and parameters.
inline constexpr std::uint32_t kHash = Sim::kHash;
inline constexpr std::size_t kMaxDatagramSize = ipc::kMaxDatagramSize<Catalogue>;

// The decoder over this catalogue, by the names the bridge tests use.
using DecodeResult = ipc::DecodeResult<Catalogue>;
inline DecodeResult decode_datagram(std::span<const std::byte> bytes, bool truncated = false) noexcept {
  return ipc::decode_datagram<Catalogue>(bytes, truncated);
}

inline const ipc::CatalogueInfo& catalogue_info() {
  static const ipc::CatalogueInfo info = Sim::catalogue_info();
  return info;
}

}  // namespace sil::test
