#pragma once
// A message's field layout as comparable rows, so a layout test reads as the
// table docs/wire-format.md "Messages" documents.
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"

namespace sil::test {

struct FieldRow {
  std::string name;
  ipc::FieldKind kind;
  std::size_t offset;
  std::size_t size;

  friend bool operator==(const FieldRow&, const FieldRow&) = default;
  friend std::ostream& operator<<(std::ostream& out, const FieldRow& row) {
    return out << row.name << ' ' << to_string(row.kind) << " @" << row.offset << " x" << row.size;
  }
};

template <ipc::Message T>
std::vector<FieldRow> rows_of() {
  std::vector<FieldRow> rows;
  ipc::for_each_field<T>([&](auto f, std::size_t offset) {
    rows.push_back({std::string(f.name), f.kind, offset, decltype(f)::size});
  });
  return rows;
}

}  // namespace sil::test
