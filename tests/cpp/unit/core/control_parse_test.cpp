// parse_control on bytes from the network: a clear error, and nothing
// written to the log that a sender could repeat to flood it.
#include <gtest/gtest.h>

#include <cstddef>
#include <span>
#include <string>
#include <variant>

#include "sil/core/control.hpp"
#include "test_system.hpp"
#include "sil_control.pb.h"

namespace sil::core {
namespace {

TEST(ParseControl, InvalidUtf8InAStringFieldIsMalformedAndLogsNothing) {
  control::Request request;
  request.set_sequence(3);
  auto* until = request.mutable_advance()->mutable_until();
  until->set_msg_id(2002);
  until->set_field("sequence");
  std::string bytes = request.SerializeAsString();
  const auto at = bytes.find("sequence");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = '\xff';  // no longer UTF-8, which proto3 string fields require

  testing::internal::CaptureStderr();
  const auto parsed = parse_control(std::as_bytes(std::span{bytes.data(), bytes.size()}), sil::test::catalogue_info());
  const std::string logged = testing::internal::GetCapturedStderr();

  ASSERT_TRUE(std::holds_alternative<ControlError>(parsed));
  EXPECT_EQ(std::get<ControlError>(parsed).code, ControlErrorCode::malformed);
  EXPECT_EQ(logged, "");
}

}  // namespace
}  // namespace sil::core
