// sil-sim's command line: every flag in both spellings, and every error
// with the exact message the user sees.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli.hpp"

namespace sil::app {
namespace {

std::variant<Options, CliError> parse(std::initializer_list<std::string_view> args) {
  const std::vector<std::string_view> list(args);
  return parse_args(list);
}

Options parsed_options(std::initializer_list<std::string_view> args) {
  const auto result = parse(args);
  if (const auto* error = std::get_if<CliError>(&result)) {
    ADD_FAILURE() << "unexpected error: " << error->message;
    return {};
  }
  return std::get<Options>(result);
}

std::string error_of(std::initializer_list<std::string_view> args) {
  const auto result = parse(args);
  if (const auto* error = std::get_if<CliError>(&result)) return error->message;
  ADD_FAILURE() << "parsed without an error";
  return {};
}

TEST(Cli, WithoutArgumentsUsesTheDefaults) {
  const Options options = parsed_options({});
  EXPECT_EQ(options.bind, "127.0.0.1");
  EXPECT_EQ(options.port, 0);
  EXPECT_EQ(options.rate_hz, 100U);
  EXPECT_FALSE(options.help);
}

TEST(Cli, AcceptsEveryFlagWithItsValueAsTheNextArgument) {
  const Options options = parsed_options({"--bind", "0.0.0.0", "--port", "14550", "--rate", "250"});
  EXPECT_EQ(options.bind, "0.0.0.0");
  EXPECT_EQ(options.port, 14550);
  EXPECT_EQ(options.rate_hz, 250U);
  EXPECT_FALSE(options.help);
}

TEST(Cli, AcceptsEveryFlagWithItsValueAfterAnEqualsSign) {
  const Options options = parsed_options({"--bind=10.0.0.2", "--port=65535", "--rate=1"});
  EXPECT_EQ(options.bind, "10.0.0.2");
  EXPECT_EQ(options.port, 65535);
  EXPECT_EQ(options.rate_hz, 1U);
}

TEST(Cli, AcceptsTheBoundaryValues) {
  EXPECT_EQ(parsed_options({"--port", "0"}).port, 0);
  EXPECT_EQ(parsed_options({"--port", "65535"}).port, 65535);
  EXPECT_EQ(parsed_options({"--rate", "1"}).rate_hz, 1U);
  EXPECT_EQ(parsed_options({"--rate", "100000"}).rate_hz, kMaxRateHz);
}

TEST(Cli, TheLastOccurrenceOfAFlagWins) {
  EXPECT_EQ(parsed_options({"--port", "1", "--port=2"}).port, 2);
}

TEST(Cli, HelpSetsTheHelpFlagInEitherSpelling) {
  EXPECT_TRUE(parsed_options({"--help"}).help);
  EXPECT_TRUE(parsed_options({"-h"}).help);
  EXPECT_TRUE(parsed_options({"--port", "5", "--help"}).help);
}

TEST(Cli, HelpTakesNoValue) { EXPECT_EQ(error_of({"--help=yes"}), "--help takes no value"); }

TEST(Cli, UsageNamesEveryFlagAndTheRateLimit) {
  const std::string text = usage();
  for (const char* flag : {"--bind", "--port", "--rate", "--record", "--replay", "--help", "100000"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
  }
}

TEST(Cli, TakesEachClockAndASpeed) {
  EXPECT_EQ(parsed_options({"--clock", "step"}).clock, core::ClockMode::step);
  EXPECT_EQ(parsed_options({"--clock=fast"}).clock, core::ClockMode::fast);
  EXPECT_EQ(parsed_options({}).clock, core::ClockMode::realtime);
  EXPECT_EQ(parsed_options({"--clock", "realtime", "--speed", "2.5"}).speed, 2.5);
  EXPECT_EQ(parsed_options({"--speed=1e6"}).speed, 1e6);
}

TEST(Cli, RejectsBadClocksAndSpeeds) {
  EXPECT_EQ(error_of({"--clock", "lockstep"}), "--clock: 'lockstep' is not a clock (realtime, fast or step)");
  for (const auto* speed : {"0", "-1", "nan", "inf", "1e7", "fast", ""}) {
    EXPECT_EQ(error_of({"--speed", speed}), std::string("--speed: '") + speed + "' is not a speed (a number > 0 and <= 1e6)");
  }
  EXPECT_EQ(error_of({"--clock", "step", "--speed", "2"}), "--speed applies to the realtime clock only, not --clock step");
}

TEST(Cli, TakesEachEgressModeAndDefaultsToPerMessage) {
  EXPECT_EQ(parsed_options({}).egress, bridge::Egress::per_message);
  EXPECT_EQ(parsed_options({"--egress", "batched"}).egress, bridge::Egress::batched);
  EXPECT_EQ(parsed_options({"--egress=per-message"}).egress, bridge::Egress::per_message);
  EXPECT_EQ(error_of({"--egress", "gso"}), "--egress: 'gso' is not an egress mode (per-message or batched)");
  EXPECT_NE(usage().find("--egress"), std::string::npos);
}

TEST(Cli, RejectsAnUnknownFlag) {
  EXPECT_EQ(error_of({"--verbose"}), "unknown option '--verbose'");
  EXPECT_EQ(error_of({"--verbose=3"}), "unknown option '--verbose=3'");
  EXPECT_EQ(error_of({"14550"}), "unknown option '14550'");
  EXPECT_EQ(error_of({"-p", "1"}), "unknown option '-p'");
}

TEST(Cli, RejectsAFlagWithoutItsValue) {
  EXPECT_EQ(error_of({"--port"}), "--port needs a value");
  EXPECT_EQ(error_of({"--rate", "10", "--bind"}), "--bind needs a value");
  EXPECT_EQ(error_of({"--rate"}), "--rate needs a value");
}

TEST(Cli, RejectsPortsOutsideZeroTo65535AndNonNumbers) {
  EXPECT_EQ(error_of({"--port", "65536"}), "--port: '65536' is not a port number (0-65535)");
  EXPECT_EQ(error_of({"--port", "-1"}), "--port: '-1' is not a port number (0-65535)");
  EXPECT_EQ(error_of({"--port", "abc"}), "--port: 'abc' is not a port number (0-65535)");
  EXPECT_EQ(error_of({"--port", ""}), "--port: '' is not a port number (0-65535)");
  EXPECT_EQ(error_of({"--port="}), "--port: '' is not a port number (0-65535)");
  EXPECT_EQ(error_of({"--port", "80x"}), "--port: '80x' is not a port number (0-65535)");
  EXPECT_EQ(error_of({"--port", "+80"}), "--port: '+80' is not a port number (0-65535)");
  EXPECT_EQ(error_of({"--port", "99999999999"}), "--port: '99999999999' is not a port number (0-65535)");
}

TEST(Cli, RejectsRatesOutsideOneTo100000) {
  EXPECT_EQ(error_of({"--rate", "0"}), "--rate: '0' is not a rate in Hz (1-100000)");
  EXPECT_EQ(error_of({"--rate=100001"}), "--rate: '100001' is not a rate in Hz (1-100000)");
  EXPECT_EQ(error_of({"--rate", "2.5"}), "--rate: '2.5' is not a rate in Hz (1-100000)");
}

TEST(Cli, RejectsABindAddressThatIsNotDottedQuadIpv4) {
  EXPECT_EQ(error_of({"--bind", "1.2.3"}), "--bind: '1.2.3' is not an IPv4 address");
  EXPECT_EQ(error_of({"--bind", "::1"}), "--bind: '::1' is not an IPv4 address");
  EXPECT_EQ(error_of({"--bind=localhost"}), "--bind: 'localhost' is not an IPv4 address");
  EXPECT_EQ(error_of({"--bind", "256.0.0.1"}), "--bind: '256.0.0.1' is not an IPv4 address");
}

TEST(Cli, TakesARecordingPathOnAnyClock) {
  EXPECT_EQ(parsed_options({}).record_path, "");
  EXPECT_EQ(parsed_options({"--record", "run.silrec"}).record_path, "run.silrec");
  const Options fast = parsed_options({"--clock=fast", "--record=/tmp/a b.silrec"});
  EXPECT_EQ(fast.record_path, "/tmp/a b.silrec");
  EXPECT_EQ(fast.clock, core::ClockMode::fast);
}

TEST(Cli, TakesAReplayAloneOrWithARecording) {
  const Options replay = parsed_options({"--replay", "in.silrec"});
  EXPECT_EQ(replay.replay_path, "in.silrec");
  EXPECT_EQ(replay.record_path, "");
  const Options both = parsed_options({"--replay=in.silrec", "--record", "out.silrec"});
  EXPECT_EQ(both.replay_path, "in.silrec");
  EXPECT_EQ(both.record_path, "out.silrec");
}

TEST(Cli, RejectsAnEmptyRecordingPath) {
  EXPECT_EQ(error_of({"--record="}), "--record needs a file path");
  EXPECT_EQ(error_of({"--replay", ""}), "--replay needs a file path");
  EXPECT_EQ(error_of({"--record"}), "--record needs a value");
}

TEST(Cli, RejectsLiveRunFlagsWithAReplay) {
  EXPECT_EQ(error_of({"--replay", "in.silrec", "--clock", "fast"}),
            "--replay runs at the recorded rate on the step clock, without a socket: --clock does not apply");
  EXPECT_EQ(error_of({"--port=5000", "--replay", "in.silrec"}),
            "--replay runs at the recorded rate on the step clock, without a socket: --port does not apply");
}

TEST(Cli, RejectsAReplayThatWouldOverwriteItsInput) {
  EXPECT_EQ(error_of({"--replay", "a.silrec", "--record", "a.silrec"}),
            "--record: the replay would overwrite the recording it reads ('a.silrec')");
}

TEST(Cli, StopsAtTheFirstError) {
  EXPECT_EQ(error_of({"--port", "x", "--rate", "0"}), "--port: 'x' is not a port number (0-65535)");
}

}  // namespace
}  // namespace sil::app
