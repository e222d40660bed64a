#pragma once
// The catalogue as run-time data: for every message its id, name, size and
// field layout, read from the same descriptors the compiler checked. The
// control plane sends it to harnesses; tools decode messages they have no
// compiled class for with it.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/field.hpp"

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

inline std::vector<MessageInfo> catalogue_info() {
  std::vector<MessageInfo> messages;
  messages.reserve(Catalogue::size);
  Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    MessageInfo info{T::id, T::name, sizeof(T), {}};
    for_each_field<T>([&](auto f, std::size_t offset) {
      using F = decltype(f);
      const std::size_t count = F::kind == FieldKind::text ? F::size : 1;
      info.fields.push_back({f.name, F::kind, offset, F::size, count});
    });
    messages.push_back(std::move(info));
  });
  return messages;
}

}  // namespace sil::ipc
