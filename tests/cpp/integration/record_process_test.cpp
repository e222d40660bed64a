// sil-sim --record and --replay as a user runs them. kill -9 at random
// moments of a fast-clock run with a harness injecting set points: the file
// always reads as an exact prefix of the run, at worst with a torn tail, and
// that prefix replays identically (each recorded message is what the
// simulation published at that point). SIGTERM finalises the file.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "loopback_client.hpp"
#include "recording_files.hpp"
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "thermal/messages.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/replay.hpp"

namespace sil::record {
namespace {

constexpr std::chrono::seconds kDeadline{20};  // a hung child, never a speed expectation

std::uint16_t port_of(const std::string& ready_line) {
  const auto at = ready_line.find("\"port\": ");
  return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoul(ready_line.substr(at + 8)));
}

// A fast-clock sil-sim recording to `path`, with a harness sending a set
// point every millisecond or so, until `run_for` has passed; then `signal`.
int record_fast_run(const std::string& path, const std::string& log, std::chrono::milliseconds run_for, int signal) {
  test::ChildProcess sim({SIL_SIM_PATH, "--clock", "fast", "--rate", "1000", "--record", path}, log);
  const auto ready = sim.read_line(kDeadline);
  EXPECT_TRUE(ready.has_value()) << test::read_text(log);
  if (!ready) return -1;
  const std::uint16_t port = port_of(*ready);
  test::LoopbackClient harness;
  const auto stop_at = std::chrono::steady_clock::now() + run_for;
  for (int i = 0; std::chrono::steady_clock::now() < stop_at; ++i) {
    harness.send_to(port, bridge::encode_datagram(thermal::SetPoint{.setpoint_c = 20.0 + i % 50}));
    std::this_thread::sleep_for(std::chrono::microseconds(700));
  }
  sim.signal(signal);
  return sim.wait();
}

ReplayResult replay(const std::string& path) {
  MappedFile file(path);
  Replay replayer(file.bytes(), sil::test::catalogue_info());
  sil::test::Sim sim(replayer.rate_hz());
  return replayer.run(sim);
}

TEST(RecordProcess, KillNineAtAnyMomentLeavesAnExactPrefixThatReplaysIdentically) {
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(0, 150);
  test::TempFile file("sil_kill_test");
  test::TempFile log("sil_kill_test_log");
  std::uint64_t injected = 0;
  for (int iteration = 0; iteration < 20; ++iteration) {
    const int delay = delay_ms(random);
    SCOPED_TRACE("iteration " + std::to_string(iteration) + ", killed after " + std::to_string(delay) + " ms");
    ASSERT_EQ(record_fast_run(file.path(), log.path(), std::chrono::milliseconds(delay), SIGKILL), 128 + SIGKILL);

    const auto back = test::read_back(test::read_whole(file.path()));
    ASSERT_NE(back.end, ReadEnd::corrupt) << back.message;
    ASSERT_FALSE(back.records.empty()) << "the header is on disk before the ready line";
    ASSERT_TRUE(back.records[0].has_header());
    std::uint64_t last_ns = 0;
    for (std::size_t r = 1; r < back.records.size(); ++r) {
      ASSERT_TRUE(back.records[r].has_message()) << "a footer after kill -9?";
      ASSERT_GE(back.records[r].message().sim_time_ns(), last_ns) << "record " << r;
      last_ns = back.records[r].message().sim_time_ns();
    }
    const ReplayResult result = replay(file.path());
    EXPECT_FALSE(result.complete);
    EXPECT_TRUE(result.identical()) << to_json(result);
    injected += result.injected;
  }
  // The replays covered injected messages, not only what the services publish.
  EXPECT_GT(injected, 0u);
}

TEST(RecordProcess, SigtermFinalisesTheFileWithAFooter) {
  test::TempFile file("sil_term_test");
  test::TempFile log("sil_term_test_log");
  ASSERT_EQ(record_fast_run(file.path(), log.path(), std::chrono::milliseconds(100), SIGTERM), 0);
  const auto back = test::read_back(test::read_whole(file.path()));
  ASSERT_EQ(back.end, ReadEnd::clean) << back.message;
  ASSERT_TRUE(back.records.back().has_footer());
  const Footer& footer = back.records.back().footer();
  EXPECT_EQ(footer.messages(), back.records.size() - 2);
  EXPECT_EQ(footer.dropped(), 0u);
  const std::string stderr_text = test::read_text(log.path());
  EXPECT_NE(stderr_text.find("\"recording\": {\"messages\": " + std::to_string(footer.messages())), std::string::npos)
      << stderr_text;
  const ReplayResult result = replay(file.path());
  EXPECT_TRUE(result.complete);
  EXPECT_TRUE(result.identical()) << to_json(result);
}

struct Replayed {
  int status;
  std::string stdout_line;
  std::string stderr_text;
};

Replayed run_replay(const std::vector<std::string>& extra_args) {
  test::TempFile log("sil_replay_cli_log");
  std::vector<std::string> argv{SIL_SIM_PATH};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  test::ChildProcess sim(argv, log.path());
  const auto line = sim.read_line(kDeadline);
  const int status = sim.wait();
  return {status, line.value_or(""), test::read_text(log.path())};
}

TEST(RecordProcess, ReplayPrintsOneJsonLineAndExitsByTheOutcome) {
  test::TempFile recorded("sil_replay_cli");
  test::TempFile rerecorded("sil_replay_cli");
  test::TempFile doctored("sil_replay_cli");
  test::TempFile log("sil_replay_cli_log");
  ASSERT_EQ(record_fast_run(recorded.path(), log.path(), std::chrono::milliseconds(50), SIGTERM), 0);

  // Identical; and recording the replay gives a file that replays identically too.
  const Replayed same = run_replay({"--replay", recorded.path(), "--record", rerecorded.path()});
  EXPECT_EQ(same.status, 0) << same.stderr_text;
  EXPECT_NE(same.stdout_line.find("{\"event\": \"replay\", \"messages\": "), std::string::npos) << same.stdout_line;
  EXPECT_NE(same.stdout_line.find("\"identical\": true"), std::string::npos) << same.stdout_line;
  const Replayed again = run_replay({"--replay", rerecorded.path()});
  EXPECT_EQ(again.status, 0) << again.stdout_line << again.stderr_text;

  // One payload byte changed: exit 1, and the line says where.
  auto records = test::read_back(test::read_whole(recorded.path())).records;
  for (auto& record : records) {
    if (record.has_message() && record.message().direction() == PUBLISHED) {
      record.mutable_message()->mutable_payload()->front() ^= 0x40;
      break;
    }
  }
  test::write_records(doctored.path(), records);
  const Replayed differs = run_replay({"--replay", doctored.path()});
  EXPECT_EQ(differs.status, 1) << differs.stderr_text;
  EXPECT_NE(differs.stdout_line.find("\"identical\": false, \"first_divergence\": {\"index\": 0"), std::string::npos)
      << differs.stdout_line;

  // Not a recording, or no file: exit 2 with the reason, nothing on stdout.
  const Replayed garbage = run_replay({"--replay", SIL_SIM_PATH});
  EXPECT_EQ(garbage.status, 2);
  EXPECT_EQ(garbage.stdout_line, "");
  EXPECT_NE(garbage.stderr_text.find("not a sil recording"), std::string::npos) << garbage.stderr_text;
  const Replayed missing = run_replay({"--replay", "/nonexistent/x.silrec"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.stderr_text.find("No such file or directory"), std::string::npos) << missing.stderr_text;
  const Replayed usage = run_replay({"--replay", recorded.path(), "--rate", "10"});
  EXPECT_EQ(usage.status, 2);
  EXPECT_NE(usage.stderr_text.find("--rate does not apply"), std::string::npos) << usage.stderr_text;
}

}  // namespace
}  // namespace sil::record
