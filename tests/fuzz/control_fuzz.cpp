// Fuzz target: the control-request parser (sil::core::parse_control), which
// takes the body of every 0xFFF0 datagram. Beyond not crashing, it checks
// that the parser agrees with protobuf about what parses, echoes the
// sequence, lets out only commands whose arguments are valid, and that every
// error it returns can be sent back as a reply that says the same thing.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "fuzz_target.hpp"
#include "sil/core/control.hpp"
#include "sil/core/watch.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil_control.pb.h"
#include "test_system.hpp"

namespace {

using sil::fuzz::check;
using namespace sil;
namespace pb = ::sil::control;

void check_command(const core::ControlCommand& command, const pb::Request& request) {
  check(command.sequence == request.sequence(), "a command carries the request's sequence");
  if (const auto* speed = std::get_if<core::SetSpeedCommand>(&command.action)) {
    check(request.has_set_speed() && core::valid_speed(speed->speed), "set_speed lets out only a valid speed");
  }
  if (const auto* advance = std::get_if<core::AdvanceCommand>(&command.action)) {
    check(request.has_advance(), "an advance command comes from an advance request");
    if (advance->until) {
      check(advance->ticks == 0 && advance->duration_ns > 0, "an until has a limit and no tick count");
      check(core::validate(*advance->until, sil::test::catalogue_info()).empty(), "an until that parsed names a real message and field");
      // Armed as the sim would arm it, and shown every message type: field
      // matching runs on what the fuzzer chose.
      core::Watch watch(sil::test::Catalogue::max_payload_size);
      watch.arm(*advance->until);
      sil::test::Catalogue::for_each([&](auto type) { watch.on(typename decltype(type)::type{}); });
    } else {
      check((advance->ticks == 0) != (advance->duration_ns == 0), "an advance has exactly one of ticks or duration");
    }
  }
}

void check_error(const core::ControlError& error, bool parses, std::uint32_t sequence) {
  check(!error.message.empty(), "an error names the problem");
  check(parses ? error.sequence == sequence : error.sequence == 0, "an error echoes the sequence it could read");
  check(parses != (error.code == core::ControlErrorCode::malformed), "malformed exactly when protobuf refuses it");
  check(error.code == core::ControlErrorCode::malformed || error.code == core::ControlErrorCode::unknown_command ||
            error.code == core::ControlErrorCode::invalid_argument,
        "parsing alone gives only malformed, unknown_command or invalid_argument");
  // The reply the sim would send must say the same thing.
  pb::Reply reply;
  const std::string encoded = core::encode_error(error, core::HostStatus{});
  check(reply.ParseFromString(encoded) && reply.has_error(), "an error encodes to an error reply");
  check(reply.sequence() == error.sequence && static_cast<int>(reply.error().code()) == static_cast<int>(error.code) &&
            reply.error().message() == error.message,
        "the error reply carries the sequence, code and message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> body{reinterpret_cast<const std::byte*>(data), size};
  pb::Request request;
  const bool parses = request.ParseFromArray(data, static_cast<int>(size));
  const auto result = core::parse_control(body, sil::test::catalogue_info());
  if (const auto* command = std::get_if<core::ControlCommand>(&result)) {
    check(parses, "a command comes only from bytes protobuf parses");
    check_command(*command, request);
  } else {
    check_error(std::get<core::ControlError>(result), parses, request.sequence());
  }
  return 0;
}
