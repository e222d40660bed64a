#pragma once
// What the thermal tests watch the bus with: a subscriber that keeps every
// message as (tick, MsgId, payload bytes), in the order it reached the end of
// the bus, so two runs can be compared byte for byte and any one type can be
// read back.
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "sil/ipc/message.hpp"
#include "sil/ipc/msg_id.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "sil/core/system.hpp"
#include "thermal/system.hpp"

namespace sil::test {

// A system of the thermal messages and only the given thermal services (no
// framework services): a service, or the three, tested on their own.
template <class... Is>
struct ThermalOnly : SystemDefaults {
  using messages = thermal::System::messages;
  using services = Services<Is...>;
  static constexpr bool framework_services = false;
};
using PlantOnlySystem = ThermalOnly<Instance<"plant", thermal::HeaterPlant>>;
using MonitorOnlySystem = ThermalOnly<Instance<"monitor", thermal::FaultMonitor>>;
using ThermalServicesSystem =
    ThermalOnly<Instance<"plant", thermal::HeaterPlant>, Instance<"thermostat", thermal::Thermostat>,
                Instance<"monitor", thermal::FaultMonitor>>;
// The thermal messages with the framework's: what a bus of thermal services carries.
using ThermalCatalogue = SystemTraits<thermal::System>::catalogue;

struct RecordedMessage {
  std::uint64_t tick;
  ipc::MsgId id;
  std::vector<std::uint8_t> bytes;

  friend bool operator==(const RecordedMessage&, const RecordedMessage&) = default;
};

template <class T>
struct AtTick {
  std::uint64_t tick;
  T msg;
};

class ThermalRecorder {
 public:
  explicit ThermalRecorder(const ipc::SimClock& clock) noexcept : clock_(&clock) {}

  template <ipc::Message T>
  void on(const T& msg) {
    std::vector<std::uint8_t> bytes(sizeof(T));
    std::memcpy(bytes.data(), &msg, sizeof(T));
    messages_.push_back({clock_->tick(), T::id, std::move(bytes)});
  }

  const std::vector<RecordedMessage>& messages() const noexcept { return messages_; }

  // Every recorded T, decoded from its bytes, with the tick it arrived at.
  template <ipc::Message T>
  std::vector<AtTick<T>> all() const {
    std::vector<AtTick<T>> out;
    for (const RecordedMessage& m : messages_) {
      if (m.id != T::id) continue;
      AtTick<T> entry{m.tick, T{}};
      std::memcpy(&entry.msg, m.bytes.data(), sizeof(T));
      out.push_back(entry);
    }
    return out;
  }

  template <ipc::Message T>
  std::size_t count() const {
    std::size_t n = 0;
    for (const RecordedMessage& m : messages_) n += m.id == T::id ? 1U : 0U;
    return n;
  }

 private:
  const ipc::SimClock* clock_;
  std::vector<RecordedMessage> messages_;
};

}  // namespace sil::test
