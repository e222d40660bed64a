// The payload layouts docs/wire-format.md "Messages" documents, read through the
// same field descriptors the catalogue hash and the Python binding use.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "field_rows.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/messages.hpp"

namespace sil::ipc {
namespace {

using test::FieldRow;
using test::rows_of;

TEST(MessageLayout, SizesMatchTheWireFormat) {
  EXPECT_EQ(sizeof(RevisionRequest), 4U);
  EXPECT_EQ(sizeof(RevisionResponse), 65U);
  EXPECT_EQ(sizeof(Heartbeat), 20U);
  EXPECT_EQ(FrameworkCatalogue::max_payload_size, 65U);
}

TEST(MessageLayout, IdsMatchTheWireFormat) {
  EXPECT_EQ(static_cast<std::uint16_t>(RevisionRequest::id), 2000);
  EXPECT_EQ(static_cast<std::uint16_t>(RevisionResponse::id), 2001);
  EXPECT_EQ(static_cast<std::uint16_t>(Heartbeat::id), 2002);
}

TEST(MessageLayout, RevisionRequestIsOneU32) {
  EXPECT_EQ(rows_of<RevisionRequest>(), (std::vector<FieldRow>{{"request_id", FieldKind::u32, 0, 4}}));
}

TEST(MessageLayout, RevisionResponseFieldsSitAtTheDocumentedOffsets) {
  const std::vector<FieldRow> expected{
      {"request_id", FieldKind::u32, 0, 4},        {"version_major", FieldKind::u8, 4, 1},
      {"version_minor", FieldKind::u8, 5, 1},      {"version_patch", FieldKind::u8, 6, 1},
      {"build_flags", FieldKind::u8, 7, 1},        {"git_revision", FieldKind::text, 8, 40},
      {"build_time_unix", FieldKind::i64, 48, 8},  {"catalogue_hash", FieldKind::u32, 56, 4},
      {"wire_version", FieldKind::u8, 60, 1},      {"tick_rate_hz", FieldKind::u32, 61, 4},
  };
  EXPECT_EQ(rows_of<RevisionResponse>(), expected);
}

TEST(MessageLayout, HeartbeatFieldsSitAtTheDocumentedOffsets) {
  EXPECT_EQ(rows_of<Heartbeat>(), (std::vector<FieldRow>{{"sequence", FieldKind::u32, 0, 4},
                                                          {"tick", FieldKind::u64, 4, 8},
                                                          {"sim_time_ns", FieldKind::u64, 12, 8}}));
}

// Generic over the catalogue, so a new message is covered without anyone
// remembering to add it: each descriptor's offset is where the member really
// is, and the descriptors tile the struct.
TEST(MessageLayout, EveryDescriptorOffsetIsTheMembersRealOffset) {
  FrameworkCatalogue::for_each([](auto type) {
    using T = typename decltype(type)::type;
    const T object{};
    const auto* base = reinterpret_cast<const std::byte*>(&object);
    std::size_t covered = 0;
    for_each_field<T>([&](auto f, std::size_t offset) {
      const auto* member = reinterpret_cast<const std::byte*>(&decltype(f)::get(object));
      EXPECT_EQ(static_cast<std::size_t>(member - base), offset) << T::name << "::" << f.name;
      EXPECT_EQ(offset, covered) << T::name << "::" << f.name << " leaves a gap";
      covered = offset + decltype(f)::size;
    });
    EXPECT_EQ(covered, sizeof(T)) << T::name;
    EXPECT_EQ(field_count<T>(), rows_of<T>().size()) << T::name;
  });
}

TEST(MessageLayout, FieldNamesAreUniqueWithinEachMessage) {
  FrameworkCatalogue::for_each([](auto type) {
    using T = typename decltype(type)::type;
    const auto rows = rows_of<T>();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (std::size_t j = i + 1; j < rows.size(); ++j) {
        EXPECT_NE(rows[i].name, rows[j].name) << T::name;
      }
    }
  });
}

TEST(MessageLayout, FieldKindsHaveTheirWireNames) {
  EXPECT_EQ(to_string(FieldKind::u8), "u8");
  EXPECT_EQ(to_string(FieldKind::i64), "i64");
  EXPECT_EQ(to_string(FieldKind::f64), "f64");
  EXPECT_EQ(to_string(FieldKind::text), "text");
}

}  // namespace
}  // namespace sil::ipc
