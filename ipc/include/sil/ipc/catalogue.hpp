#pragma once
// A system's catalogue: the list of its messages, and what is derived from
// it at compile time: id -> type lookup, a variant that can hold any of its
// messages, the position of each (for counters without a map), the largest
// payload size, and a hash of every layout so a harness can tell whether it
// speaks the same catalogue as the build it talks to.
//
// Instantiating a catalogue checks it: two messages with one id, a control-
// plane id, or field descriptors that do not cover a struct's bytes in order
// do not compile.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <variant>

#include "sil/ipc/field_names.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/messages.hpp"

namespace sil::ipc {

// Version of the datagram framing (docs/wire-format.md "Wire format"); reported in
// RevisionResponse. Bump it when the framing, not a payload, changes.
inline constexpr std::uint8_t kWireVersion = 1;

namespace detail {

constexpr std::uint32_t fnv1a(std::uint32_t hash, std::string_view bytes) noexcept {
  for (const char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 16777619U;
  }
  return hash;
}
constexpr std::uint32_t fnv1a(std::uint32_t hash, std::uint64_t value) noexcept {
  for (int i = 0; i < 8; ++i) {
    hash ^= static_cast<std::uint8_t>(value >> (8 * i));
    hash *= 16777619U;
  }
  return hash;
}

template <MsgId Id, class... Ts>
struct ById {
  static_assert(sizeof...(Ts) < 0, "no message of this catalogue has that MsgId");
};
template <MsgId Id, class T, class... Rest>
struct ById<Id, T, Rest...> : std::conditional_t<T::id == Id, std::type_identity<T>, ById<Id, Rest...>> {};

template <class T, class... Ts>
consteval std::size_t index_of() {
  constexpr bool matches[] = {std::is_same_v<T, Ts>...};
  for (std::size_t i = 0; i < sizeof...(Ts); ++i)
    if (matches[i]) return i;
  return sizeof...(Ts);
}

}  // namespace detail

template <Message... Ts>
struct Catalogue {
  static constexpr std::size_t size = sizeof...(Ts);

  template <template <class...> class F>
  using apply = F<Ts...>;

  // Calls fn(std::type_identity<T>{}) for each message, in catalogue order.
  template <class Fn>
  static constexpr void for_each(Fn&& fn) {
    (fn(std::type_identity<Ts>{}), ...);
  }

  template <class T>
  static constexpr bool contains = (std::is_same_v<T, Ts> || ...);

  // Position of T in the catalogue: indexes per-message counters.
  template <class T>
    requires contains<T>
  static constexpr std::size_t index_of = detail::index_of<T, Ts...>();

  // The payload type bound to an id: Payload<MsgId::RevisionResponse> is RevisionResponse.
  template <MsgId Id>
  using Payload = typename detail::ById<Id, Ts...>::type;

  // Any one message by value.
  using Any = std::variant<Ts...>;

  static constexpr std::size_t max_payload_size = std::max({sizeof(Ts)...});

  static consteval bool ids_unique() {
    const MsgId ids[] = {Ts::id...};
    for (std::size_t i = 0; i < sizeof...(Ts); ++i)
      for (std::size_t j = i + 1; j < sizeof...(Ts); ++j)
        if (ids[i] == ids[j]) return false;
    return true;
  }

  // FNV-1a over every message's id, name, size and field layout.
  static constexpr std::uint32_t hash = [] {
    std::uint32_t h = 2166136261U;
    for_each([&](auto type) {
      using T = typename decltype(type)::type;
      h = detail::fnv1a(h, static_cast<std::uint64_t>(T::id));
      h = detail::fnv1a(h, T::name);
      h = detail::fnv1a(h, sizeof(T));
      for_each_field<T>([&](auto f, std::size_t offset) {
        h = detail::fnv1a(h, f.name);
        h = detail::fnv1a(h, static_cast<std::uint64_t>(f.kind));
        h = detail::fnv1a(h, offset);
        h = detail::fnv1a(h, decltype(f)::size);
      });
    });
    return h;
  }();

  static_assert(sizeof...(Ts) > 0, "a catalogue needs at least one message");
  static_assert(ids_unique(), "two messages of this catalogue share one MsgId");
  static_assert(((static_cast<std::uint16_t>(Ts::id) < kFirstReservedId) && ...),
                "a message uses an id reserved for the control plane (0xFF00 and above)");
  static_assert((exact_layout<Ts> && ...), "a message's field descriptors do not cover its bytes in order");
  static_assert((field_names_usable<Ts>() && ...),
                "a message's field name is reserved (a Python keyword, a name its class already has such as "
                "ID, to_bytes or zero, or one starting with '_') or used twice "
                "(docs/services.md \"Declaring a message\")");
};

// The messages every system has, first in its catalogue.
using FrameworkCatalogue = Catalogue<RevisionRequest, RevisionResponse, Heartbeat>;

namespace detail {
template <class T>
struct IsCatalogue : std::false_type {};
template <class... Ts>
struct IsCatalogue<Catalogue<Ts...>> : std::true_type {};
}  // namespace detail

template <class C>
concept AnyCatalogue = detail::IsCatalogue<C>::value;

}  // namespace sil::ipc
