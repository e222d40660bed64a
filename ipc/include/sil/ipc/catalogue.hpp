#pragma once
// The list of all messages, and what is derived from it at compile time:
// id -> type lookup, a variant that can hold any message, the largest
// payload size, and a hash of every layout so a harness can tell whether it
// speaks the same catalogue as the build it talks to.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <variant>

#include "sil/ipc/message.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/ipc/thermal_messages.hpp"

namespace sil::ipc {

template <Message... Ts>
struct TypeList {
  static constexpr std::size_t size = sizeof...(Ts);

  template <template <class...> class F>
  using apply = F<Ts...>;

  template <class Fn>
  static constexpr void for_each(Fn&& fn) {
    (fn(std::type_identity<Ts>{}), ...);
  }
};

using Catalogue = TypeList<RevisionRequest, RevisionResponse, Heartbeat, SetPoint, PlantTemperature, HeaterCommand,
                           OverTemperatureFault>;

// Version of the datagram framing (docs/wire-format.md "Wire format"); reported in
// RevisionResponse. Bump it when the framing, not a payload, changes.
inline constexpr std::uint8_t kWireVersion = 1;

// Any one message by value; the inbound channel carries these.
using AnyMessage = Catalogue::apply<std::variant>;

namespace detail {

template <MsgId Id, class List>
struct ById;  // no message has this id
template <MsgId Id, class T, class... Rest>
struct ById<Id, TypeList<T, Rest...>>
    : std::conditional_t<T::id == Id, std::type_identity<T>, ById<Id, TypeList<Rest...>>> {};

template <class List>
struct CatalogueChecks;
template <class... Ts>
struct CatalogueChecks<TypeList<Ts...>> {
  static consteval bool ids_unique() {
    const MsgId ids[] = {Ts::id...};
    for (std::size_t i = 0; i < sizeof...(Ts); ++i)
      for (std::size_t j = i + 1; j < sizeof...(Ts); ++j)
        if (ids[i] == ids[j]) return false;
    return true;
  }
  static consteval bool reserved_ids_unused() {
    return ((static_cast<std::uint16_t>(Ts::id) < kFirstReservedId) && ...);
  }
  static constexpr bool layouts_exact = (exact_layout<Ts> && ...);
  static constexpr std::size_t max_size = std::max({sizeof(Ts)...});
};

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

}  // namespace detail

// The payload type bound to an id: PayloadOf<MsgId::RevisionResponse> is RevisionResponse.
template <MsgId Id>
using PayloadOf = typename detail::ById<Id, Catalogue>::type;

namespace detail {
template <class T, class List>
struct IndexOf;
template <class T, class... Rest>
struct IndexOf<T, TypeList<T, Rest...>> : std::integral_constant<std::size_t, 0> {};
template <class T, class U, class... Rest>
struct IndexOf<T, TypeList<U, Rest...>>
    : std::integral_constant<std::size_t, 1 + IndexOf<T, TypeList<Rest...>>::value> {};
}  // namespace detail

// Position of T in the catalogue: indexes per-message counters without a map.
template <Message T>
inline constexpr std::size_t kCatalogueIndex = detail::IndexOf<T, Catalogue>::value;

static_assert(detail::CatalogueChecks<Catalogue>::ids_unique(), "two messages share one MsgId");
static_assert(detail::CatalogueChecks<Catalogue>::reserved_ids_unused(),
              "a catalogue message uses an id reserved for the control plane");
static_assert(detail::CatalogueChecks<Catalogue>::layouts_exact,
              "a message's field descriptors do not cover its bytes in order");

inline constexpr std::size_t kMaxPayloadSize = detail::CatalogueChecks<Catalogue>::max_size;

// FNV-1a over every message's id, name, size and field layout.
inline constexpr std::uint32_t kCatalogueHash = [] {
  std::uint32_t hash = 2166136261U;
  Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    hash = detail::fnv1a(hash, static_cast<std::uint64_t>(T::id));
    hash = detail::fnv1a(hash, T::name);
    hash = detail::fnv1a(hash, sizeof(T));
    for_each_field<T>([&](auto f, std::size_t offset) {
      hash = detail::fnv1a(hash, f.name);
      hash = detail::fnv1a(hash, static_cast<std::uint64_t>(f.kind));
      hash = detail::fnv1a(hash, offset);
      hash = detail::fnv1a(hash, decltype(f)::size);
    });
  });
  return hash;
}();

}  // namespace sil::ipc
