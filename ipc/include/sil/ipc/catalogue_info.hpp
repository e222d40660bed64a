#pragma once
// A catalogue as run-time data: for every message its id, name, size and
// field layout, read from the same descriptors the compiler checked, and the
// hash. The control plane sends it to harnesses, recordings store it, tools
// decode messages they have no compiled class for with it; compiled code
// that serves any system (the control plane) takes it as an argument.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/field.hpp"
#include "sil/ipc/param_info.hpp"

namespace sil::ipc {

struct FieldInfo {
  std::string_view name;
  FieldKind kind;
  std::size_t offset;
  std::size_t size;
  std::size_t count;  // 1 for scalars; capacity in bytes for text
};

struct MessageInfo {
  MsgId id;
  std::string_view name;
  std::size_t size;
  std::vector<FieldInfo> fields;
};

// A counter a service declared (sil/services/counters.hpp).
struct CounterInfo {
  std::string name;  // qualified: "<instance>.<counter>"
  std::string_view description;
};

struct CatalogueInfo {
  std::uint32_t hash = 0;
  std::vector<MessageInfo> messages;  // in catalogue order
  std::vector<ParamInfo> params;      // in system order (sil/ipc/param_info.hpp)
  std::vector<CounterInfo> counters;  // in system order; not in the hash: nothing a harness sends depends on them

  // The message with this id, or nullptr.
  const MessageInfo* find(std::uint16_t id) const noexcept {
    for (const auto& message : messages)
      if (static_cast<std::uint16_t>(message.id) == id) return &message;
    return nullptr;
  }
};

template <AnyCatalogue C>
CatalogueInfo catalogue_info() {
  CatalogueInfo info{C::hash, {}, {}, {}};
  info.messages.reserve(C::size);
  C::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    MessageInfo message{T::id, T::name, sizeof(T), {}};
    for_each_field<T>([&](auto f, std::size_t offset) {
      using F = decltype(f);
      const std::size_t count = F::kind == FieldKind::text ? F::size : 1;
      message.fields.push_back({f.name, F::kind, offset, F::size, count});
    });
    info.messages.push_back(std::move(message));
  });
  return info;
}

}  // namespace sil::ipc
