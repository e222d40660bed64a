#pragma once
// Fault injection: what a test asks to go wrong with a message type, applied
// where every copy of that type passes, the bus. A fault on PlantTemperature
// acts on what the plant publishes before any subscriber sees it (services,
// the bridge towards the harness, a recorder); a message from the harness is
// published on the same bus, so faults act on it too. Faults are checked
// when they are added (a fault that makes no sense is refused, naming the
// problem), change nothing until their start, and draw every random number
// from their own seeded generator, in publication order: the same scenario
// with the same seeds gives the same trace (docs/faults.md).
//
// The bus asks armed(index) once per publication; only a message type with a
// fault is copied and handed to apply(). A bus without a FaultStage, or a
// system built without fault injection, runs exactly the code it ran before.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/sim_clock.hpp"

namespace sil::core {

enum class FaultKind : std::uint8_t { drop, delay, duplicate, freeze, field, rate_limit };
inline constexpr std::string_view kFaultKinds[] = {"drop", "delay", "duplicate", "freeze", "field", "rate_limit"};
std::string_view to_string(FaultKind kind) noexcept;
std::optional<FaultKind> parse_fault_kind(std::string_view text) noexcept;

enum class FieldOp : std::uint8_t { set, offset, scale, noise };
std::string_view to_string(FieldOp op) noexcept;
std::optional<FieldOp> parse_field_op(std::string_view text) noexcept;

inline constexpr std::uint64_t kUntilRemoved = std::numeric_limits<std::uint64_t>::max();

// One fault as asked for (sil_control.proto AddFault).
struct FaultSpec {
  FaultKind kind = FaultKind::drop;
  std::uint16_t msg_id = 0;
  double probability = 1.0;  // each message is affected with this probability (seeded)
  std::uint64_t seed = 0;
  std::uint64_t start_ns = 0;              // simulated time from which it acts
  std::uint64_t end_ns = kUntilRemoved;    // and before which
  std::uint64_t delay_ns = 0;              // delay
  std::uint64_t min_interval_ns = 0;       // rate_limit: at most one message per interval
  std::string field;                       // field
  FieldOp op = FieldOp::set;               // field
  double value = 0.0;                      // field: the value, offset, factor or noise standard deviation
};

struct Fault {
  std::uint32_t id = 0;
  FaultSpec spec;
  std::uint64_t affected = 0;  // messages it changed, dropped, held or delayed so far
};

class FaultSet {
 public:
  // `catalogue`: the system's (message ids, field layouts); it must outlive this.
  FaultSet(const ipc::CatalogueInfo& catalogue, const ipc::SimClock& clock, bool available = true);
  FaultSet(const FaultSet&) = delete;
  FaultSet& operator=(const FaultSet&) = delete;

  // False in a system built without fault injection: add() refuses.
  bool available() const noexcept { return available_; }

  // The fault's id, or why it is refused (nothing is added then).
  std::variant<std::uint32_t, std::string> add(const FaultSpec& spec);
  // False when no fault has that id (nothing to do then).
  bool remove(std::uint32_t id);
  void clear();
  const std::vector<Fault>& faults() const noexcept { return faults_; }

  // Per publication: does this message type (its catalogue index) have a fault?
  bool armed(std::size_t index) const noexcept { return index < armed_.size() && armed_[index] != 0; }

  // Applies every fault on the type, in the order they were added, to
  // `payload` (a copy the caller owns and then delivers). Returns how many
  // times to deliver it now: 0 (dropped, or held for a delay), 1 or 2.
  unsigned apply(std::size_t index, std::span<std::byte> payload);

  // A delayed copy whose time has come: its catalogue index and bytes.
  struct Released {
    std::size_t index;
    std::span<const std::byte> payload;
  };
  // Hands every delayed copy due at or before now to fn(Released), in the
  // order they were published; the caller delivers them past the faults.
  template <class Fn>
  void release_due(Fn&& fn) {
    while (!delayed_.empty() && delayed_.front().due_ns <= clock_.now_ns()) {
      const Held held = std::move(delayed_.front());
      delayed_.pop_front();
      fn(Released{held.index, std::span<const std::byte>(held.bytes)});
    }
  }
  std::size_t delayed() const noexcept { return delayed_.size(); }

 private:
  struct State {
    std::uint64_t rng = 0;
    std::vector<std::byte> held;  // freeze: the value to hold
    bool holding = false;
    std::uint64_t last_passed_ns = 0;  // rate_limit
    bool passed_any = false;
  };
  struct Held {
    std::uint64_t due_ns;
    std::size_t index;
    std::vector<std::byte> bytes;
  };

  void rearm();
  std::optional<std::size_t> index_of(std::uint16_t msg_id) const noexcept;
  bool draw(State& state, double probability);
  double normal(State& state);
  void apply_field(const Fault& fault, State& state, std::span<std::byte> payload);

  const ipc::CatalogueInfo& catalogue_;
  const ipc::SimClock& clock_;
  bool available_;
  std::uint32_t next_id_ = 1;
  std::vector<Fault> faults_;
  std::vector<State> states_;  // parallel to faults_
  std::vector<std::size_t> indices_;  // parallel: the catalogue index of each fault's type
  std::vector<std::uint8_t> armed_;
  std::deque<Held> delayed_;
};

// The bus's gate (ipc/message_bus.hpp): the first element of a bus that
// Simulation::make_bus builds. Copies a faulted message type's payload,
// lets the FaultSet act on the copy, and delivers what comes out.
template <ipc::AnyCatalogue C>
class FaultStage {
 public:
  static constexpr bool is_publish_gate = true;

  explicit FaultStage(FaultSet& faults) noexcept : faults_(faults) {}

  template <ipc::Message T>
  bool armed() const noexcept {
    return faults_.armed(C::template index_of<T>);
  }

  template <ipc::Message T, class Deliver>
  void pass(const T& payload, Deliver&& deliver) {
    T copy = payload;  // the subscribers see the faulted copy; the publisher's object is its own
    const unsigned times = faults_.apply(C::template index_of<T>, std::as_writable_bytes(std::span{&copy, 1}));
    for (unsigned i = 0; i < times; ++i) deliver(copy);
  }

  // Delivers the delayed copies due now, past the gate, in order.
  template <class Bus>
  void release_due(Bus& bus) {
    if (faults_.delayed() == 0) return;
    faults_.release_due([&](const FaultSet::Released& released) {
      C::for_each([&](auto type) {
        using T = typename decltype(type)::type;
        if (C::template index_of<T> != released.index) return;
        T copy;
        std::memcpy(&copy, released.payload.data(), sizeof(T));
        bus.deliver_past_gate(copy);
      });
    });
  }

  FaultSet& faults() noexcept { return faults_; }

 private:
  FaultSet& faults_;
};

}  // namespace sil::core
