#pragma once
// Fault injection: what a test asks to go wrong with a message type, applied
// where every copy of that type passes, the bus. A fault on PlantTemperature
// acts on what the plant publishes before any subscriber sees it (services,
// the bridge towards the harness, a recorder); a message from the harness is
// published on the same bus, so faults act on it too. A fault may be limited
// to what one service instance publishes (FaultSpec::instance): the bus tells
// the stage which subscriber published, at no cost to an unfaulted type. Faults are checked
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
#include "sil/ipc/message_bus.hpp"
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
  std::string field{};                     // field
  FieldOp op = FieldOp::set;               // field
  double value = 0.0;                      // field: the value, offset, factor or noise standard deviation
  std::string instance{};                  // only what this service instance publishes; empty: any publisher
};

struct Fault {
  std::uint32_t id = 0;
  FaultSpec spec;
  std::uint64_t affected = 0;  // messages it changed, dropped, held or delayed so far
};

class FaultSet {
 public:
  // A publisher that is no instance of the system (the harness through the
  // bridge, a test holding the bus): a fault with an instance never acts on it.
  static constexpr std::size_t kNoInstance = static_cast<std::size_t>(-1);

  // `catalogue`: the system's (message ids, field layouts); `instances`: its
  // service instances' names, in tick order (FaultSpec::instance names one).
  // Both must outlive this.
  FaultSet(const ipc::CatalogueInfo& catalogue, const ipc::SimClock& clock, bool available = true,
           std::span<const std::string_view> instances = {});
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
  // The same flags, one byte per catalogue index, for a stage that asks per
  // publication (the vector is sized once, at construction, and never moves).
  const std::uint8_t* armed_flags() const noexcept { return armed_.data(); }

  // Applies every fault on the type, in the order they were added, to
  // `payload` (a copy the caller owns and then delivers). Returns how many
  // times to deliver it now: 0 (dropped, or held for a delay), 1 or 2.
  // `injected`: it came from the harness (kept with a delayed copy, so a
  // recording still knows it as injected when it is released).
  // `publisher`: the instance (tick-order index) that published it, or kNoInstance.
  unsigned apply(std::size_t index, std::span<std::byte> payload, bool injected = false,
                 std::size_t publisher = kNoInstance);

  // A delayed copy whose time has come: its catalogue index and bytes.
  struct Released {
    std::size_t index;
    std::span<const std::byte> payload;
    bool injected;
  };
  // Hands every delayed copy due at or before now to fn(Released); the
  // caller delivers them past the faults. Those from the harness come
  // first, then the services', each in due order (publication order among
  // equal times): at a tick boundary what came from outside is delivered
  // before the services' own, as a message that was never delayed is. A
  // replay, which delivers recorded injections before the boundary's
  // delayed service messages, then sees the same order.
  template <class Fn>
  void release_due(Fn&& fn) {
    releasing_.clear();
    while (!delayed_.empty() && delayed_.front().due_ns <= clock_.now_ns()) {
      releasing_.push_back(std::move(delayed_.front()));
      delayed_.pop_front();
    }
    // fn may add delayed copies (a service answering a released message);
    // they are due later and wait in delayed_.
    for (const bool injected : {true, false}) {
      for (const Held& held : releasing_) {
        if (held.injected == injected) fn(Released{held.index, std::span<const std::byte>(held.bytes), held.injected});
      }
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
    const ipc::FieldInfo* field = nullptr;  // field: found once, when added
    std::size_t publisher = kNoInstance;    // the instance it is limited to (kNoInstance: any)
  };
  struct Held {
    std::uint64_t due_ns;
    std::size_t index;
    std::vector<std::byte> bytes;
    bool injected;
  };

  void rearm();
  std::optional<std::size_t> index_of(std::uint16_t msg_id) const noexcept;
  bool draw(State& state, double probability);
  double normal(State& state);
  void apply_field(const Fault& fault, State& state, std::span<std::byte> payload);

  const ipc::CatalogueInfo& catalogue_;
  const ipc::SimClock& clock_;
  bool available_;
  std::span<const std::string_view> instances_;
  std::uint32_t next_id_ = 1;
  std::vector<Fault> faults_;
  std::vector<State> states_;  // parallel to faults_
  std::vector<std::size_t> indices_;  // parallel: the catalogue index of each fault's type
  std::vector<std::uint8_t> armed_;
  std::deque<Held> delayed_;
  std::vector<Held> releasing_;  // release_due's batch; keeps its capacity
};

// The bus's gate (ipc/message_bus.hpp): the first element of a bus that
// Simulation::make_bus builds. Copies a faulted message type's payload,
// lets the FaultSet act on the copy, and delivers what comes out.
template <ipc::AnyCatalogue C>
class FaultStage {
 public:
  static constexpr bool is_publish_gate = true;

  explicit FaultStage(FaultSet& faults) noexcept : faults_(faults), armed_(faults.armed_flags()) {}

  // One byte load per publication; the catalogues of a stage and of its
  // FaultSet are the same system's, so the index is in range.
  template <ipc::Message T>
  bool armed() const noexcept {
    return armed_[C::template index_of<T>] != 0;
  }

  // `from`: the bus position of the subscriber that published it. This
  // stage is position 0 and the system's instances follow it in tick order
  // (Simulation::make_bus); a publication from outside the bus is no instance.
  template <ipc::Message T, class Deliver>
  void pass(const T& payload, std::size_t from, Deliver&& deliver) {
    T copy = payload;  // the subscribers see the faulted copy; the publisher's object is its own
    const bool injected = origin_ != nullptr && origin_(origin_context_, &payload);
    const std::size_t publisher = from == 0 || from == ipc::kPublishedOutside ? FaultSet::kNoInstance : from - 1;
    const unsigned times =
        faults_.apply(C::template index_of<T>, std::as_writable_bytes(std::span{&copy, 1}), injected, publisher);
    const CopyMark mark(*this, injected ? &copy : nullptr);
    for (unsigned i = 0; i < times; ++i) deliver(copy);
  }

  // Who publishes what came from the harness (the bridge): asked for each
  // faulted message, so that a recorder still tells its faulted copy, now or
  // when a delay releases it, as injected (is_injected_copy).
  void set_origin(const void* context, bool (*is_injecting)(const void* context, const void* payload)) noexcept {
    origin_context_ = context;
    origin_ = is_injecting;
  }
  bool is_injected_copy(const void* payload) const noexcept { return payload != nullptr && payload == injected_copy_; }

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
        const CopyMark mark(*this, released.injected ? &copy : nullptr);
        bus.deliver_past_gate(copy);
      });
    });
  }

  FaultSet& faults() noexcept { return faults_; }

 private:
  // Marks the copy being delivered as injected, for as long as it is.
  class CopyMark {
   public:
    CopyMark(FaultStage& stage, const void* copy) noexcept : stage_(stage), before_(stage.injected_copy_) {
      stage_.injected_copy_ = copy;
    }
    ~CopyMark() { stage_.injected_copy_ = before_; }
    CopyMark(const CopyMark&) = delete;
    CopyMark& operator=(const CopyMark&) = delete;

   private:
    FaultStage& stage_;
    const void* before_;
  };

  FaultSet& faults_;
  const std::uint8_t* armed_;
  const void* origin_context_ = nullptr;
  bool (*origin_)(const void*, const void*) = nullptr;
  const void* injected_copy_ = nullptr;
};

}  // namespace sil::core
