#pragma once
// A bus subscriber that waits for one kind of message at run time: "the
// first message with this id (and, optionally, field == value)". The
// condition is set from outside (a control request, a Python call), so it is
// data, not a type; matching reads the field through the message's own
// descriptors. Matching copies at most one payload and never allocates.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/message.hpp"

namespace sil::core {

using FieldValue = std::variant<std::int64_t, double, std::string>;

struct FieldMatch {
  std::string field;
  FieldValue value;
};

struct WatchSpec {
  std::uint16_t msg_id = 0;
  std::optional<FieldMatch> match;
};

// Empty when spec names a message of `catalogue`, an existing field of it
// and a value of that field's kind; otherwise says what is wrong, for people.
std::string validate(const WatchSpec& spec, const ipc::CatalogueInfo& catalogue);

class Watch {
 public:
  // Room for one payload of up to max_payload_size bytes, taken now so a
  // match never allocates.
  explicit Watch(std::size_t max_payload_size) : payload_(max_payload_size) {}

  // The spec must have passed validate().
  void arm(WatchSpec spec, std::uint64_t now_ns = 0) {
    spec_ = std::move(spec);
    armed_ = true;
    matched_ = false;
    now_ns_ = now_ns;
  }
  void disarm() noexcept { armed_ = false; }
  // The sim time stamped on a match; the stepper sets it before each tick.
  void set_time(std::uint64_t now_ns) noexcept { now_ns_ = now_ns; }

  bool armed() const noexcept { return armed_; }
  bool matched() const noexcept { return matched_; }
  std::uint64_t matched_at_ns() const noexcept { return matched_at_ns_; }
  std::span<const std::byte> payload() const noexcept { return {payload_.data(), payload_size_}; }

  template <ipc::Message T>
  void on(const T& message) noexcept {
    if (!armed_ || matched_ || static_cast<std::uint16_t>(T::id) != spec_.msg_id) return;
    if (sizeof(T) > payload_.size()) return;  // not a message of the catalogue it was made for
    if (spec_.match && !field_equals(message, *spec_.match)) return;
    matched_ = true;
    matched_at_ns_ = now_ns_;
    payload_size_ = sizeof(T);
    std::memcpy(payload_.data(), &message, sizeof(T));
  }

  template <ipc::Message T>
  static bool field_equals(const T& message, const FieldMatch& match) noexcept {
    bool equal = false;
    ipc::for_each_field<T>([&](auto field, std::size_t) {
      if (field.name != match.field) return;
      equal = value_equals(decltype(field)::get(message), match.value);
    });
    return equal;
  }

 private:
  template <class F>
  static bool value_equals(const F& field, const FieldValue& value) noexcept {
    if constexpr (ipc::FieldTraits<F>::kind == ipc::FieldKind::text) {
      const auto* text = std::get_if<std::string>(&value);
      return text != nullptr && field.view() == *text;
    } else if constexpr (ipc::FieldTraits<F>::kind == ipc::FieldKind::f32 ||
                         ipc::FieldTraits<F>::kind == ipc::FieldKind::f64) {
      const auto* number = std::get_if<double>(&value);
      return number != nullptr && static_cast<double>(field) == *number;
    } else {
      const auto* number = std::get_if<std::int64_t>(&value);
      if (number == nullptr) return false;
      using V = decltype(+field);  // the field's arithmetic type
      if constexpr (std::is_unsigned_v<V>) {
        return *number >= 0 && static_cast<std::uint64_t>(*number) == static_cast<std::uint64_t>(field);
      } else {
        return static_cast<std::int64_t>(field) == *number;
      }
    }
  }

  WatchSpec spec_;
  bool armed_ = false;
  bool matched_ = false;
  std::uint64_t now_ns_ = 0;
  std::uint64_t matched_at_ns_ = 0;
  std::size_t payload_size_ = 0;
  std::vector<std::byte> payload_;
};

}  // namespace sil::core
