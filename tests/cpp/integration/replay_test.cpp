// A step-clock run driven over UDP (set points, a heater command, revision
// requests, control requests) is recorded by a Recorder on the SimHost's
// bus and a Writer on its own thread; replaying the file publishes the
// identical trace, and a doctored file is reported as different.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "recording_files.hpp"
#include "test_system.hpp"
#include "sil/core/sim_host.hpp"
#include "test_system.hpp"
#include "sil/ipc/messages.hpp"
#include "thermal/messages.hpp"
#include "sil/record/frame.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/recorder.hpp"
#include "sil/record/replay.hpp"
#include "sil/record/writer.hpp"
#include "sim_harness.hpp"

namespace sil::record {
namespace {

using Bridge = sil::test::Bridge;

// sil-sim --clock step --record, in process: the recorder sits on the
// host's bus and sees control traffic; the writer has its own thread.
struct RecordedStepRun {
  explicit RecordedStepRun(const std::string& path)
      : writer(queue, path,
               {.catalogue = &sil::test::catalogue_info(), .rate_hz = 100, .clock = "step", .start_unix_ns = start.unix_ns}) {
    writer_thread = std::jthread([this](std::stop_token stop) { writer.run(stop); });
    host.start();
    sim_thread = std::jthread([this] { io.run(); });
  }
  // Stops the simulation, then finalises the file, as sil-sim does on SIGTERM.
  void finish() {
    io.stop();
    sim_thread.join();
    writer_thread.request_stop();
    writer_thread.join();
    writer.finish(sim.clock().now_ns());
  }

  boost::asio::io_context io;
  Bridge bridge{{}};
  sil::test::Sim sim{100};
  RecordQueue queue{1 << 20};
  RecordingStart start = RecordingStart::now();
  Writer writer;
  Recorder<Bridge> recorder{queue, sim.clock(), bridge, start.steady};
  core::SimHost<sil::test::Sim, Bridge, Recorder<Bridge>> host{
      io, sim, bridge, {.clock = core::ClockMode::step}, recorder};
  std::jthread writer_thread;
  std::jthread sim_thread;
};

void record_a_scenario(const std::string& path) {
  RecordedStepRun run(path);
  test::Harness harness(run.bridge.port());
  harness.call(test::advance_ticks(5));
  harness.inject(thermal::SetPoint{.setpoint_c = 80.0});
  harness.inject(ipc::RevisionRequest{.request_id = 7});
  harness.call(test::advance_ticks(40));
  harness.inject(thermal::HeaterCommand{.power_w = 0.0});
  harness.call(test::advance_ticks(1));
  harness.inject(thermal::SetPoint{.setpoint_c = 20.0});
  harness.call(test::advance_ticks(30));
  harness.inject(ipc::RevisionRequest{.request_id = 8});  // after the last tick: replayed at the end time
  control::Request stats;
  stats.mutable_get_stats();
  harness.call(stats);
  run.finish();
}

ReplayResult replay_file(const std::string& path) {
  MappedFile file(path);
  Replay replay(file.bytes(), sil::test::catalogue_info());
  sil::test::Sim sim(replay.rate_hz());
  return replay.run(sim);
}

std::size_t count_direction(const std::vector<Record>& records, Direction direction) {
  std::size_t n = 0;
  for (const auto& r : records) n += r.has_message() && r.message().direction() == direction ? 1 : 0;
  return n;
}

TEST(Replay, ARecordedStepRunReplaysIdentically) {
  test::TempFile file("sil_replay_test");
  record_a_scenario(file.path());
  const auto back = test::read_back(test::read_whole(file.path()));
  ASSERT_EQ(back.end, ReadEnd::clean) << back.message;
  EXPECT_EQ(count_direction(back.records, INJECTED), 5u);
  EXPECT_EQ(count_direction(back.records, CONTROL_REQUEST), 5u);
  EXPECT_EQ(count_direction(back.records, CONTROL_REPLY), 5u);
  EXPECT_GT(count_direction(back.records, PUBLISHED), 150u);  // two per tick at least
  ASSERT_TRUE(back.records.back().has_footer());
  EXPECT_EQ(back.records.back().footer().end_sim_time_ns(), 760'000'000u);

  const ReplayResult result = replay_file(file.path());
  EXPECT_TRUE(result.identical()) << to_json(result);
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(result.injected, 5u);
  EXPECT_EQ(result.messages, count_direction(back.records, PUBLISHED));
}

// The records, with fn applied to the index-th PUBLISHED message (fn may
// return false to delete it).
template <class Fn>
std::vector<Record> doctor_published(std::vector<Record> records, std::size_t index, Fn fn) {
  std::size_t seen = 0;
  for (auto it = records.begin(); it != records.end(); ++it) {
    if (!it->has_message() || it->message().direction() != PUBLISHED) continue;
    if (seen++ != index) continue;
    if (!fn(*it->mutable_message())) records.erase(it);
    break;
  }
  return records;
}

TEST(Replay, ReportsTheFirstMessageThatDiffersInADoctoredRecording) {
  test::TempFile original("sil_replay_test");
  test::TempFile doctored("sil_replay_test");
  record_a_scenario(original.path());
  const auto records = test::read_back(test::read_whole(original.path())).records;

  test::write_records(doctored.path(), doctor_published(records, 60, [](Message& m) {
                        m.mutable_payload()->back() ^= 1;
                        return true;
                      }));
  ReplayResult result = replay_file(doctored.path());
  ASSERT_FALSE(result.identical());
  EXPECT_EQ(result.first_divergence->index, 60u);
  ASSERT_TRUE(result.first_divergence->recorded && result.first_divergence->replayed);
  EXPECT_NE(result.first_divergence->recorded->payload, result.first_divergence->replayed->payload);
  EXPECT_NE(to_json(result).find("\"identical\": false"), std::string::npos);

  test::write_records(doctored.path(), doctor_published(records, 61, [](Message& m) {
                        m.set_sim_time_ns(m.sim_time_ns() + 1);
                        return true;
                      }));
  result = replay_file(doctored.path());
  ASSERT_FALSE(result.identical());
  EXPECT_EQ(result.first_divergence->index, 61u);

  test::write_records(doctored.path(), doctor_published(records, 62, [](Message&) { return false; }));
  result = replay_file(doctored.path());
  ASSERT_FALSE(result.identical());
  EXPECT_EQ(result.first_divergence->index, 62u);
}

TEST(Replay, RefusesARecordingFromAnotherCatalogue) {
  test::TempFile original("sil_replay_test");
  test::TempFile doctored("sil_replay_test");
  record_a_scenario(original.path());
  auto records = test::read_back(test::read_whole(original.path())).records;
  records[0].mutable_header()->mutable_catalogue()->set_hash(12345);
  test::write_records(doctored.path(), records);
  try {
    replay_file(doctored.path());
    FAIL() << "replayed a recording from another catalogue";
  } catch (const ReplayError& e) {
    EXPECT_NE(std::string(e.what()).find("catalogue hash 12345"), std::string::npos) << e.what();
  }
}

TEST(Replay, ComparesACutShortRecordingUpToItsEnd) {
  test::TempFile original("sil_replay_test");
  test::TempFile cut("sil_replay_test");
  record_a_scenario(original.path());
  auto records = test::read_back(test::read_whole(original.path())).records;
  records.resize(records.size() / 2);  // no footer: as if killed half way
  test::write_records(cut.path(), records);
  const ReplayResult result = replay_file(cut.path());
  EXPECT_FALSE(result.complete);
  EXPECT_TRUE(result.identical()) << to_json(result);
}

// A changed length in the middle used to read as a file cut short there, and
// replay compared the prefix as if it were the run. It is refused (sil-sim
// exits 2) with the offset of the damage.
TEST(Replay, RefusesACorruptRecordingNamingTheOffset) {
  test::TempFile original("sil_replay_test");
  test::TempFile damaged("sil_replay_test");
  record_a_scenario(original.path());
  auto bytes = test::read_whole(original.path());
  std::size_t at = kMagic.size();
  for (int frame = 0; frame < 40; ++frame) at += kFrameHeaderBytes + load_u32_le(std::span(bytes).subspan(at).first<4>());
  bytes[at + 2] ^= std::byte{0x40};  // + 4 MiB: past the end of the file
  {
    std::ofstream out(damaged.path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  try {
    replay_file(damaged.path());
    FAIL() << "replayed a corrupt recording";
  } catch (const ReplayError& e) {
    EXPECT_NE(std::string(e.what()).find("runs past the end of the file, though the file was not cut short there "
                                         "(the file is corrupted) at byte " + std::to_string(at)),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sil::record
