#pragma once
// sil-sim --replay: runs a fresh simulation tick by tick (the step clock's
// rules, on the calling thread), publishes each recorded INJECTED message at
// the tick boundary of its recorded simulated time, in recorded order, and
// compares what the services publish with the recorded PUBLISHED trace:
// simulated time, MsgId and payload bytes, message by message.
//
// Parameters and faults: those the header says were set before the first
// tick are set first; each recorded set_params, add_fault and remove_fault
// request is applied again at its tick boundary, in recorded order with the
// injected messages (Sim::replay_control).
//
// This reproduces the run because every clock applies inbound messages and
// control requests at tick boundaries only (SimHost): a message injected at
// simulated time t was published before the tick at t ran, and nothing else
// from outside reaches the services (other control requests move time,
// never state).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/param_info.hpp"
#include "sil/ipc/sim_clock.hpp"

namespace sil::record {

// A recording that cannot be replayed: unreadable, corrupt, from another
// catalogue, incomplete. what() is one line for the user.
struct ReplayError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TracedMessage {
  std::uint64_t sim_time_ns = 0;
  std::uint16_t msg_id = 0;
  std::string payload;

  bool operator==(const TracedMessage&) const = default;
};

struct ReplayDivergence {
  std::uint64_t index = 0;                // position in the PUBLISHED trace
  std::optional<TracedMessage> recorded;  // absent: the replay published more
  std::optional<TracedMessage> replayed;  // absent: the replay published less
};

struct ReplayResult {
  std::uint64_t messages = 0;  // recorded PUBLISHED messages compared
  std::uint64_t injected = 0;  // recorded INJECTED messages re-published
  bool complete = true;        // false: no footer (cut short); the replay is compared up to its end
  std::optional<ReplayDivergence> first_divergence;

  bool identical() const noexcept { return !first_divergence; }
};

// One JSON line (no newline): {"event": "replay", "messages": N, ...}.
std::string to_json(const ReplayResult& result);

class Replay {
 public:
  // Reads and checks the whole recording against the catalogue of the
  // system that will replay it. Throws ReplayError.
  Replay(std::span<const std::byte> file, const ipc::CatalogueInfo& catalogue);

  std::uint32_t rate_hz() const noexcept { return rate_hz_; }
  // The parameters the recorded run set before its first tick.
  const std::vector<ipc::ParamAssignment>& start_params() const noexcept { return start_params_; }
  // Non-empty when the file had a torn tail: what the reader said.
  const std::string& warning() const noexcept { return warning_; }

  // For bus subscribers (a Recorder of the replay): true while `payload` is
  // a recorded injected message being published.
  bool is_injecting(const void* payload) const noexcept { return payload == injecting_; }

  // Runs the replay on `sim` (fresh, at rate_hz(), built with
  // start_params()); `extra` subscribers see the replay's bus too, after the
  // services.
  // Sim::Catalogue must be the catalogue the Replay was checked against.
  template <class Sim, class... Extra>
  ReplayResult run(Sim& sim, Extra&... extra) {
    using C = typename Sim::Catalogue;
    Comparator comparator(*this, sim.clock());
    auto bus = sim.make_bus(comparator, extra...);
    typename C::Any message;
    std::size_t next = 0;
    std::uint64_t injected = 0;
    for (;;) {
      const std::uint64_t now = sim.clock().now_ns();
      for (; next < injected_.size() && injected_[next].sim_time_ns == now; ++next) {
        if (injected_[next].control) {
          const auto& request = injected_[next].datagram;
          sim.replay_control(std::as_bytes(std::span{request}));
          continue;
        }
        ++injected;
        // The constructor checked id and size against the catalogue, so this
        // decodes; through the one decoder all the same.
        const auto& datagram = injected_[next].datagram;
        if (ipc::decode_datagram_into<C>(std::as_bytes(std::span{datagram}), false, message) !=
            ipc::Verdict::accepted) {
          throw ReplayError("an injected message does not decode in this system's catalogue");
        }
        std::visit(
            [&](const auto& payload) {
              injecting_ = &payload;
              bus.publish(payload);
              injecting_ = nullptr;
            },
            message);
      }
      if (now >= stop_at_ns_) break;
      sim.step(bus);
    }
    return comparator.result(injected);
  }

 private:
  // An injected message, or a control request that changes state (control).
  struct Injection {
    std::uint64_t sim_time_ns;
    std::string datagram;  // header and payload, as it would have arrived; control: the serialized Request
    bool control = false;
  };

  // Checks each publication against the recorded trace as it happens.
  class Comparator {
   public:
    Comparator(const Replay& replay, const ipc::SimClock& clock) noexcept : replay_(replay), clock_(clock) {}

    template <ipc::Message T>
    void on(const T& payload) {
      if (replay_.is_injecting(&payload)) return;
      const std::uint64_t index = count_++;
      if (first_divergence_) return;
      const auto bytes = std::as_bytes(std::span{&payload, 1});
      const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      const auto id = static_cast<std::uint16_t>(T::id);
      const std::uint64_t now = clock_.now_ns();
      const auto replayed = [&] { return TracedMessage{now, id, std::string(view)}; };
      if (index < replay_.published_.size()) {
        const TracedMessage& recorded = replay_.published_[index];
        if (recorded.sim_time_ns != now || recorded.msg_id != id || recorded.payload != view) {
          first_divergence_ = ReplayDivergence{index, recorded, replayed()};
        }
      } else if (replay_.complete_) {
        first_divergence_ = ReplayDivergence{index, std::nullopt, replayed()};
      }
      // Past the end of a cut-short recording there is nothing to compare with.
    }

    ReplayResult result(std::uint64_t injected) const {
      ReplayResult r;
      r.messages = replay_.published_.size();
      r.injected = injected;
      r.complete = replay_.complete_;
      r.first_divergence = first_divergence_;
      if (!r.first_divergence && count_ < replay_.published_.size()) {
        r.first_divergence = ReplayDivergence{count_, replay_.published_[count_], std::nullopt};
      }
      return r;
    }

   private:
    const Replay& replay_;
    const ipc::SimClock& clock_;
    std::uint64_t count_ = 0;
    std::optional<ReplayDivergence> first_divergence_;
  };

  std::uint32_t rate_hz_ = 0;
  std::uint64_t stop_at_ns_ = 0;
  bool complete_ = false;
  std::string warning_;
  std::vector<Injection> injected_;
  std::vector<ipc::ParamAssignment> start_params_;
  std::vector<TracedMessage> published_;
  const void* injecting_ = nullptr;
};

}  // namespace sil::record
