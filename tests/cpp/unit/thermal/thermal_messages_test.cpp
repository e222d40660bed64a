// The thermal messages' ids, sizes and byte layouts, as docs/example-thermal.md
// "Thermal messages" documents them, read through the field descriptors that the
// catalogue hash and the Python binding use.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "field_rows.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"
#include "test_system.hpp"
#include "thermal/messages.hpp"

namespace sil::ipc {
namespace {

using test::FieldRow;
using test::rows_of;
using thermal::HeaterCommand;
using thermal::OverTemperatureFault;
using thermal::PlantTemperature;
using thermal::SetPoint;

static_assert(std::is_same_v<sil::test::Catalogue::Payload<SetPoint::id>, SetPoint>, "SetPoint is in the catalogue");
static_assert(std::is_same_v<sil::test::Catalogue::Payload<PlantTemperature::id>, PlantTemperature>);
static_assert(std::is_same_v<sil::test::Catalogue::Payload<HeaterCommand::id>, HeaterCommand>);
static_assert(std::is_same_v<sil::test::Catalogue::Payload<OverTemperatureFault::id>, OverTemperatureFault>);

TEST(ThermalMessages, IdsAreTheDocumentedOnesInTheThermalRange) {
  EXPECT_EQ(static_cast<std::uint16_t>(SetPoint::id), 2100);
  EXPECT_EQ(static_cast<std::uint16_t>(PlantTemperature::id), 2101);
  EXPECT_EQ(static_cast<std::uint16_t>(HeaterCommand::id), 2102);
  EXPECT_EQ(static_cast<std::uint16_t>(OverTemperatureFault::id), 2103);
}

TEST(ThermalMessages, SizesMatchTheDocumentedWireFormat) {
  EXPECT_EQ(sizeof(SetPoint), 8U);
  EXPECT_EQ(sizeof(PlantTemperature), 16U);
  EXPECT_EQ(sizeof(HeaterCommand), 8U);
  EXPECT_EQ(sizeof(OverTemperatureFault), 17U);
}

TEST(ThermalMessages, FieldsSitAtTheDocumentedOffsets) {
  EXPECT_EQ(rows_of<SetPoint>(), (std::vector<FieldRow>{{"setpoint_c", FieldKind::f64, 0, 8}}));
  EXPECT_EQ(rows_of<PlantTemperature>(),
            (std::vector<FieldRow>{{"temperature_c", FieldKind::f64, 0, 8}, {"heater_power_w", FieldKind::f64, 8, 8}}));
  EXPECT_EQ(rows_of<HeaterCommand>(), (std::vector<FieldRow>{{"power_w", FieldKind::f64, 0, 8}}));
  EXPECT_EQ(rows_of<OverTemperatureFault>(), (std::vector<FieldRow>{{"active", FieldKind::u8, 0, 1},
                                                                     {"temperature_c", FieldKind::f64, 1, 8},
                                                                     {"raised_at_ns", FieldKind::u64, 9, 8}}));
}

TEST(ThermalMessages, AFaultIsItsFieldsAsLittleEndianBytesWithNoPadding) {
  const OverTemperatureFault fault{.active = 1, .temperature_c = 80.5, .raised_at_ns = 0x0102030405060708ULL};
  std::array<std::uint8_t, sizeof(OverTemperatureFault)> bytes{};
  std::memcpy(bytes.data(), &fault, sizeof fault);

  const auto f64_bits = std::bit_cast<std::uint64_t>(80.5);
  std::array<std::uint8_t, 17> expected{};
  expected[0] = 1;
  for (std::size_t i = 0; i < 8; ++i) expected[1 + i] = static_cast<std::uint8_t>(f64_bits >> (8 * i));
  for (std::size_t i = 0; i < 8; ++i) expected[9 + i] = static_cast<std::uint8_t>(8 - i);
  EXPECT_EQ(bytes, expected);
}

}  // namespace
}  // namespace sil::ipc
