// sil-sim's command line: every flag in both spellings, and every error
// with the exact message the user sees.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sil/app/cli.hpp"

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

// -- the peer and lifecycle flags ------------------------------------------

using namespace std::chrono_literals;

std::uint32_t ip(const char* dotted) {
  in_addr address{};
  EXPECT_EQ(::inet_pton(AF_INET, dotted, &address), 1);
  return address.s_addr;
}

TEST(CliPeer, DefaultsAreEveryoneLastSenderAndNoIdleTimeout) {
  const Options options = parsed_options({});
  EXPECT_TRUE(options.allow.empty());
  EXPECT_EQ(options.peer.policy, bridge::PeerPolicy::last_sender);
  EXPECT_EQ(options.peer.takeover_after, 2s);
  EXPECT_EQ(options.peer.idle_timeout, 0ns);
  EXPECT_EQ(options.exit_with_parent, 0);
}

TEST(CliPeer, AllowIsRepeatableAndTakesRangesAndSingleAddresses) {
  const Options options = parsed_options({"--allow", "10.0.0.0/8", "--allow=192.168.1.7", "--allow", "0.0.0.0/0"});
  ASSERT_EQ(options.allow.size(), 3U);
  EXPECT_EQ(bridge::to_string(options.allow[0]), "10.0.0.0/8");
  EXPECT_EQ(bridge::to_string(options.allow[1]), "192.168.1.7/32");
  EXPECT_EQ(bridge::to_string(options.allow[2]), "0.0.0.0/0");
  EXPECT_TRUE(options.allow.allows(ip("10.200.3.4")));
}

TEST(CliPeer, RejectsBadRangesWithTheReason) {
  EXPECT_EQ(error_of({"--allow", "10.0.0.5/8"}), "--allow: '10.0.0.5/8' has host bits set (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(error_of({"--allow", "10.0.0.0/33"}), "--allow: '10.0.0.0/33' has no valid prefix length (0-32 after the '/')");
  EXPECT_EQ(error_of({"--allow", "10.0.0.0/"}), "--allow: '10.0.0.0/' has no valid prefix length (0-32 after the '/')");
  EXPECT_EQ(error_of({"--allow", "10.0.0.0/8x"}), "--allow: '10.0.0.0/8x' has no valid prefix length (0-32 after the '/')");
  EXPECT_EQ(error_of({"--allow", "::1/128"}), "--allow: '::1/128' is not an IPv4 range (a.b.c.d/n)");
  EXPECT_EQ(error_of({"--allow", "host.example/24"}), "--allow: 'host.example/24' is not an IPv4 range (a.b.c.d/n)");
  EXPECT_EQ(error_of({"--allow"}), "--allow needs a value");
}

TEST(CliPeer, RejectsMoreRangesThanTheListHolds) {
  std::vector<std::string> values;
  std::vector<std::string_view> args;
  for (std::size_t i = 0; i <= bridge::AllowList::kCapacity; ++i) values.push_back("10.0." + std::to_string(i) + ".0/24");
  for (const auto& value : values) {
    args.push_back("--allow");
    args.push_back(value);
  }
  const auto result = parse_args(args);
  ASSERT_TRUE(std::holds_alternative<CliError>(result));
  EXPECT_EQ(std::get<CliError>(result).message, "--allow: more than 32 ranges");
}

TEST(CliPeer, TakesBothPoliciesAndTheDurations) {
  const Options options = parsed_options(
      {"--peer-policy", "sticky", "--peer-takeover-after", "500ms", "--peer-idle-timeout=1.5s"});
  EXPECT_EQ(options.peer.policy, bridge::PeerPolicy::sticky);
  EXPECT_EQ(options.peer.takeover_after, 500ms);
  EXPECT_EQ(options.peer.idle_timeout, 1500ms);
  EXPECT_EQ(parsed_options({"--peer-policy=last-sender"}).peer.policy, bridge::PeerPolicy::last_sender);
  EXPECT_EQ(parsed_options({"--peer-idle-timeout", "24h"}).peer.idle_timeout, 24h);
  EXPECT_EQ(parsed_options({"--peer-idle-timeout", "1ms"}).peer.idle_timeout, 1ms);
}

TEST(CliPeer, RejectsBadPoliciesAndDurations) {
  EXPECT_EQ(error_of({"--peer-policy", "first"}), "--peer-policy: 'first' is not a peer policy (last-sender or sticky)");
  const std::string tail = "' is not a duration from 1ms to 24h (a number and a unit: ns, us, ms, s or h, e.g. 500ms)";
  for (const std::string_view bad : {"2", "s", "-1s", "0s", "25h", "1e9s", "nans", "infs", "1 s", "2m", "500us"}) {
    EXPECT_EQ(error_of({"--peer-idle-timeout", bad}), "--peer-idle-timeout: '" + std::string(bad) + tail);
  }
  EXPECT_EQ(error_of({"--peer-policy", "sticky", "--peer-takeover-after", "0ms"}),
            "--peer-takeover-after: '0ms" + tail);
}

TEST(CliPeer, TakeoverAfterNeedsTheStickyPolicy) {
  EXPECT_EQ(error_of({"--peer-takeover-after", "1s"}), "--peer-takeover-after applies to --peer-policy sticky only");
  EXPECT_EQ(error_of({"--peer-policy", "last-sender", "--peer-takeover-after", "1s"}),
            "--peer-takeover-after applies to --peer-policy sticky only");
  EXPECT_EQ(parsed_options({"--peer-takeover-after", "1s", "--peer-policy", "sticky"}).peer.takeover_after, 1s)
      << "the order of the flags does not matter";
}

TEST(CliPeer, ExitWithParentTakesAProcessId) {
  EXPECT_EQ(parsed_options({"--exit-with-parent", "4242"}).exit_with_parent, 4242);
  EXPECT_EQ(error_of({"--exit-with-parent", "0"}), "--exit-with-parent: '0' is not a process id");
  EXPECT_EQ(error_of({"--exit-with-parent", "-5"}), "--exit-with-parent: '-5' is not a process id");
  EXPECT_EQ(error_of({"--exit-with-parent", "self"}), "--exit-with-parent: 'self' is not a process id");
}

TEST(CliPeer, DescribesThePeerRulesForTheStartupLog) {
  EXPECT_EQ(describe_peer_rules(parsed_options({})), "peer policy last-sender, idle timeout off, allow anyone");
  EXPECT_EQ(describe_peer_rules(parsed_options({"--peer-policy", "sticky", "--peer-idle-timeout", "1.5s", "--allow",
                                                "10.0.0.0/8", "--allow", "127.0.0.1"})),
            "peer policy sticky (takeover after 2s), idle timeout 1500ms, allow 10.0.0.0/8, 127.0.0.1/32");
  EXPECT_EQ(format_duration(std::chrono::microseconds{250}), "250us");
  EXPECT_EQ(format_duration(std::chrono::nanoseconds{1'000'000'001}), "1000000001ns");
}

TEST(CliPeer, WarnsWhenListeningBeyondLoopbackWithoutAnAllowList) {
  EXPECT_EQ(exposure_warning(parsed_options({})), "");
  EXPECT_EQ(exposure_warning(parsed_options({"--bind", "127.0.0.5"})), "");
  EXPECT_EQ(exposure_warning(parsed_options({"--bind", "0.0.0.0", "--allow", "192.168.1.0/24"})), "");
  EXPECT_EQ(exposure_warning(parsed_options({"--bind", "0.0.0.0"})),
            "warning: listening on 0.0.0.0 with no --allow: anyone who can reach this host may inject messages "
            "and take the telemetry");
}

TEST(CliPeer, UsageNamesTheNewFlags) {
  const std::string text = usage();
  for (const char* flag : {"--allow CIDR", "--peer-policy POLICY", "--peer-takeover-after DURATION",
                           "--peer-idle-timeout DURATION", "--exit-with-parent PID", "last-sender", "sticky"}) {
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace sil::app
