#include "sil/core/faults.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <utility>

#include "sil/ipc/field.hpp"

namespace sil::core {

std::string_view to_string(FaultKind kind) noexcept { return kFaultKinds[static_cast<std::size_t>(kind)]; }

std::optional<FaultKind> parse_fault_kind(std::string_view text) noexcept {
  for (std::size_t i = 0; i < std::size(kFaultKinds); ++i)
    if (kFaultKinds[i] == text) return static_cast<FaultKind>(i);
  return std::nullopt;
}

namespace {

constexpr std::string_view kFieldOps[] = {"set", "offset", "scale", "noise"};

// splitmix64: small, fast, and the same sequence on every platform.
std::uint64_t next_random(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double uniform(std::uint64_t& state) noexcept {  // [0, 1)
  return static_cast<double>(next_random(state) >> 11) * 0x1.0p-53;
}

template <class T>
T load(const std::byte* at) noexcept {
  T value;
  std::memcpy(&value, at, sizeof value);
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    // The wire is little-endian; sil's supported hosts are too (ipc/wire_types.hpp).
    static_assert(sizeof(T) == 0, "big-endian hosts are not supported");
  }
  return value;
}

template <class T>
void store(std::byte* at, T value) noexcept {
  std::memcpy(at, &value, sizeof value);
}

// A numeric field as a double, and back, saturating an integer to its type.
double read_field(const ipc::FieldInfo& f, const std::byte* at) noexcept {
  switch (f.kind) {
    case ipc::FieldKind::u8: return load<std::uint8_t>(at);
    case ipc::FieldKind::i8: return load<std::int8_t>(at);
    case ipc::FieldKind::u16: return load<std::uint16_t>(at);
    case ipc::FieldKind::i16: return load<std::int16_t>(at);
    case ipc::FieldKind::u32: return load<std::uint32_t>(at);
    case ipc::FieldKind::i32: return load<std::int32_t>(at);
    case ipc::FieldKind::u64: return static_cast<double>(load<std::uint64_t>(at));
    case ipc::FieldKind::i64: return static_cast<double>(load<std::int64_t>(at));
    case ipc::FieldKind::f32: return load<float>(at);
    case ipc::FieldKind::f64: return load<double>(at);
    case ipc::FieldKind::text: break;
  }
  return 0.0;
}

template <class T>
void store_integer(std::byte* at, double value) noexcept {
  double rounded = std::nearbyint(value);
  if (std::isnan(rounded)) rounded = 0.0;
  const double low = static_cast<double>(std::numeric_limits<T>::min());
  const double high = static_cast<double>(std::numeric_limits<T>::max());
  T out;
  if (rounded <= low) {
    out = std::numeric_limits<T>::min();
  } else if (rounded >= high) {
    out = std::numeric_limits<T>::max();
  } else {
    out = static_cast<T>(rounded);
  }
  store(at, out);
}

void write_field(const ipc::FieldInfo& f, std::byte* at, double value) noexcept {
  switch (f.kind) {
    case ipc::FieldKind::u8: store_integer<std::uint8_t>(at, value); break;
    case ipc::FieldKind::i8: store_integer<std::int8_t>(at, value); break;
    case ipc::FieldKind::u16: store_integer<std::uint16_t>(at, value); break;
    case ipc::FieldKind::i16: store_integer<std::int16_t>(at, value); break;
    case ipc::FieldKind::u32: store_integer<std::uint32_t>(at, value); break;
    case ipc::FieldKind::i32: store_integer<std::int32_t>(at, value); break;
    case ipc::FieldKind::u64: store_integer<std::uint64_t>(at, value); break;
    case ipc::FieldKind::i64: store_integer<std::int64_t>(at, value); break;
    case ipc::FieldKind::f32: store(at, static_cast<float>(value)); break;
    case ipc::FieldKind::f64: store(at, value); break;
    case ipc::FieldKind::text: break;
  }
}

const ipc::FieldInfo* find_field(const ipc::MessageInfo& message, std::string_view name) noexcept {
  for (const auto& f : message.fields)
    if (f.name == name) return &f;
  return nullptr;
}

// "a, b, c" of what name() gives for each item, or "none": for a refusal
// that lists what there is.
template <class Range, class Name>
std::string listed(const Range& items, Name name) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + std::string(name(item));
  return text.empty() ? "none" : text;
}

}  // namespace

std::string_view to_string(FieldOp op) noexcept { return kFieldOps[static_cast<std::size_t>(op)]; }

std::optional<FieldOp> parse_field_op(std::string_view text) noexcept {
  for (std::size_t i = 0; i < std::size(kFieldOps); ++i)
    if (kFieldOps[i] == text) return static_cast<FieldOp>(i);
  return std::nullopt;
}

FaultSet::FaultSet(const ipc::CatalogueInfo& catalogue, const ipc::SimClock& clock, bool available,
                   std::span<const std::string_view> instances)
    : catalogue_(catalogue),
      clock_(clock),
      available_(available),
      instances_(instances),
      armed_(catalogue.messages.size(), 0) {}

std::optional<std::size_t> FaultSet::index_of(std::uint16_t msg_id) const noexcept {
  for (std::size_t i = 0; i < catalogue_.messages.size(); ++i)
    if (static_cast<std::uint16_t>(catalogue_.messages[i].id) == msg_id) return i;
  return std::nullopt;
}

std::variant<std::uint32_t, std::string> FaultSet::add(const FaultSpec& spec) {
  if (!available_) {
    return std::string("this sim was built without fault injection (a system with fault_injection = false, or "
                       "sil_add_system(... NO_FAULTS))");
  }
  const auto index = index_of(spec.msg_id);
  if (!index) return "no message with id " + std::to_string(spec.msg_id) + " in this system's catalogue";
  const ipc::MessageInfo& message = catalogue_.messages[*index];
  const std::string what = std::string(to_string(spec.kind)) + " on " + std::string(message.name);
  if (!(spec.probability >= 0.0 && spec.probability <= 1.0)) {
    return what + ": p must be between 0 and 1, got " + std::to_string(spec.probability);
  }
  if (spec.end_ns <= spec.start_ns) return what + ": its end must come after its start";
  std::size_t publisher = kNoInstance;
  if (!spec.instance.empty()) {
    const auto named = std::find(instances_.begin(), instances_.end(), spec.instance);
    if (named == instances_.end()) {
      return what + ": this system has no instance '" + spec.instance + "' (instances: " +
             listed(instances_, [](std::string_view name) { return name; }) + ")";
    }
    publisher = static_cast<std::size_t>(named - instances_.begin());
  }
  switch (spec.kind) {
    case FaultKind::delay:
      if (spec.delay_ns == 0) return what + ": a delay needs a duration > 0";
      break;
    case FaultKind::rate_limit:
      if (spec.min_interval_ns == 0) return what + ": a rate limit needs an interval > 0";
      break;
    case FaultKind::field: {
      const ipc::FieldInfo* f = find_field(message, spec.field);
      if (f == nullptr) {
        return what + ": " + std::string(message.name) + " has no field '" + spec.field + "' (fields: " +
               listed(message.fields, [](const ipc::FieldInfo& each) { return each.name; }) + ")";
      }
      if (f->kind == ipc::FieldKind::text) {
        return what + ": " + std::string(message.name) + "." + spec.field + " is text, not a number";
      }
      if (!std::isfinite(spec.value)) return what + ": the value must be a finite number";
      if (spec.op == FieldOp::noise && spec.value < 0.0) {
        return what + ": noise is a standard deviation, >= 0";
      }
      break;
    }
    default: break;
  }
  Fault fault{next_id_++, spec, 0};
  faults_.push_back(std::move(fault));
  states_.push_back(State{spec.seed, {}, false, 0, false,
                          spec.kind == FaultKind::field ? find_field(message, spec.field) : nullptr, publisher});
  indices_.push_back(*index);
  rearm();
  return faults_.back().id;
}

bool FaultSet::remove(std::uint32_t id) {
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    if (faults_[i].id != id) continue;
    faults_.erase(faults_.begin() + static_cast<std::ptrdiff_t>(i));
    states_.erase(states_.begin() + static_cast<std::ptrdiff_t>(i));
    indices_.erase(indices_.begin() + static_cast<std::ptrdiff_t>(i));
    rearm();
    return true;
  }
  return false;
}

void FaultSet::clear() {
  faults_.clear();
  states_.clear();
  indices_.clear();
  rearm();
}

void FaultSet::rearm() {
  std::fill(armed_.begin(), armed_.end(), std::uint8_t{0});
  for (const std::size_t index : indices_) armed_[index] = 1;
}

bool FaultSet::draw(State& state, double probability) {
  if (probability >= 1.0) return true;
  return uniform(state.rng) < probability;
}

double FaultSet::normal(State& state) {
  // Box-Muller: two uniforms, one normal; 1 - u keeps the log finite.
  const double u1 = 1.0 - uniform(state.rng);
  const double u2 = uniform(state.rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void FaultSet::apply_field(const Fault& fault, State& state, std::span<std::byte> payload) {
  const ipc::FieldInfo* f = state.field;
  if (f == nullptr || f->offset + f->size > payload.size()) return;  // checked in add()
  std::byte* at = payload.data() + f->offset;
  const double now = read_field(*f, at);
  double out = now;
  switch (fault.spec.op) {
    case FieldOp::set: out = fault.spec.value; break;
    case FieldOp::offset: out = now + fault.spec.value; break;
    case FieldOp::scale: out = now * fault.spec.value; break;
    case FieldOp::noise: out = now + fault.spec.value * normal(state); break;
  }
  write_field(*f, at, out);
}

unsigned FaultSet::apply(std::size_t index, std::span<std::byte> payload, bool injected, std::size_t publisher) {
  const std::uint64_t now = clock_.now_ns();
  unsigned times = 1;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    if (indices_[i] != index) continue;
    Fault& fault = faults_[i];
    State& state = states_[i];
    if (state.publisher != kNoInstance && state.publisher != publisher) continue;
    const FaultSpec& spec = fault.spec;
    if (spec.kind == FaultKind::freeze && now < spec.start_ns) {
      // Before it starts, a freeze remembers the last value, to hold it from its start.
      state.held.assign(payload.begin(), payload.end());
      continue;
    }
    if (now < spec.start_ns || now >= spec.end_ns) continue;
    switch (spec.kind) {
      case FaultKind::drop:
        if (draw(state, spec.probability)) {
          ++fault.affected;
          return 0;
        }
        break;
      case FaultKind::duplicate:
        if (draw(state, spec.probability)) {
          ++fault.affected;
          times = 2;
        }
        break;
      case FaultKind::delay:
        if (draw(state, spec.probability)) {
          ++fault.affected;
          // In due order; equal due times keep publication order.
          const std::uint64_t due = now + spec.delay_ns;
          const auto at = std::upper_bound(delayed_.begin(), delayed_.end(), due,
                                           [](std::uint64_t t, const Held& held) { return t < held.due_ns; });
          delayed_.insert(at, Held{due, index, {payload.begin(), payload.end()}, injected});
          return 0;
        }
        break;
      case FaultKind::freeze:
        if (!state.holding) {
          state.holding = true;
          if (state.held.empty()) state.held.assign(payload.begin(), payload.end());  // nothing came before it
        }
        std::copy(state.held.begin(), state.held.end(), payload.begin());
        ++fault.affected;
        break;
      case FaultKind::field:
        if (draw(state, spec.probability)) {
          apply_field(fault, state, payload);
          ++fault.affected;
        }
        break;
      case FaultKind::rate_limit:
        if (state.passed_any && now - state.last_passed_ns < spec.min_interval_ns) {
          ++fault.affected;
          return 0;
        }
        state.passed_any = true;
        state.last_passed_ns = now;
        break;
    }
  }
  return times;
}

}  // namespace sil::core
