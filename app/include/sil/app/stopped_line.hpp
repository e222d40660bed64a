#pragma once
// The stopped line: a run's counters as one JSON object, the last line a
// simulator writes to stderr (docs/sil-sim.md "Stopped line"). sil-sim
// writes it; a rig may write the same, so tools read both alike.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "sil/bridge/bridge_core.hpp"

namespace sil::app {

// `counters`: the services' (core::Simulation::counters()), written as the
// "counters" object. `recording`: a recording's counters
// (record::Session::finish), or empty. No newline.
std::string stopped_line(const bridge::BridgeStats& stats, std::uint64_t ticks, std::uint64_t overruns,
                         std::span<const std::pair<std::string_view, std::uint64_t>> counters,
                         const std::string& recording = {});

}  // namespace sil::app
