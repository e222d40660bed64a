// Writer and Reader together: what is recorded reads back byte for byte;
// a file cut at any byte or with any bit flipped reads as an exact prefix
// with a clear ending, never as wrong data; a failed write is reported and
// leaves a readable prefix.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "sil/ipc/catalogue.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/record_queue.hpp"
#include "sil/record/writer.hpp"
#include "sil/ipc/build_info.hpp"
#include "sil_record.pb.h"
#include "recording_files.hpp"
#include "test_recordings.hpp"
#include "test_system.hpp"

namespace sil::record {
namespace {

using test::read_back;
using test::read_whole;

class TempFile : public test::TempFile {
 public:
  TempFile() : test::TempFile("sil_recording_test") {}
};

TEST(Recording, StartsWithAHeaderThatDescribesTheBuildAndTheCatalogue) {
  TempFile file;
  write_recording(file.path(), 3);
  const auto back = read_back(read_whole(file.path()));
  ASSERT_EQ(back.end, ReadEnd::clean) << back.message;
  ASSERT_EQ(back.records.size(), 5u);
  ASSERT_TRUE(back.records[0].has_header());
  const Header& header = back.records[0].header();
  EXPECT_EQ(header.format_version(), 1u);
  EXPECT_EQ(header.git_revision(), kBuild.git_revision);
  EXPECT_EQ(header.version(), kBuild.version);
  EXPECT_EQ(header.catalogue().hash(), sil::test::kHash);
  EXPECT_EQ(header.catalogue().messages_size(), static_cast<int>(sil::test::Catalogue::size));
  EXPECT_EQ(header.rate_hz(), 250u);
  EXPECT_EQ(header.clock(), "step");
  EXPECT_EQ(header.start_unix_ns(), kInfo.start_unix_ns);
  ASSERT_TRUE(back.records[4].has_footer());
  EXPECT_EQ(back.records[4].footer().messages(), 3u);
  EXPECT_EQ(back.records[4].footer().dropped(), 0u);
  EXPECT_EQ(back.records[4].footer().end_sim_time_ns(), 3000u);
}

TEST(Recording, RoundTripsAMillionMessagesByteForByteThroughTheWriterThread) {
  constexpr std::uint64_t kMessages = 1'000'000;
  TempFile file;
  RecordQueue queue(Writer::kDefaultQueueBytes);
  Writer writer(queue, file.path(), kInfo);
  {
    std::jthread writer_thread([&writer](std::stop_token stop) { writer.run(stop); });
    for (std::uint64_t i = 0; i < kMessages; ++i) {
      const auto payload = payload_for(i);
      // The test waits where the simulation would drop: it wants every message.
      while (!queue.try_push(meta_for(i), payload)) std::this_thread::yield();
    }
  }  // request_stop + join: run() writes everything queued before it returns
  writer.finish(kMessages * 1000);
  EXPECT_EQ(writer.stats().records, kMessages);
  EXPECT_EQ(writer.stats().write_errors, 0u);

  MappedFile mapped(file.path());
  Reader reader(mapped.bytes());
  Record record;
  ASSERT_TRUE(reader.next(record));
  ASSERT_TRUE(record.has_header());
  std::uint64_t mismatches = 0;
  std::uint64_t i = 0;
  while (reader.next(record) && record.has_message()) mismatches += matches(record.message(), i++) ? 0 : 1;
  EXPECT_EQ(i, kMessages);
  EXPECT_EQ(mismatches, 0u);
  ASSERT_TRUE(record.has_footer());
  EXPECT_EQ(record.footer().messages(), kMessages);
  EXPECT_FALSE(reader.next(record));
  EXPECT_EQ(reader.end(), ReadEnd::clean) << reader.message();
}

TEST(Recording, ReadsAnExactPrefixOfAFileCutAtEveryByte) {
  TempFile file;
  write_recording(file.path(), 12);
  const auto whole = read_whole(file.path());
  const auto full = read_back(whole);
  ASSERT_EQ(full.records.size(), 14u);
  std::size_t torn = 0;
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    const auto back = read_back(std::span(whole).first(cut));
    ASSERT_NE(back.end, ReadEnd::corrupt) << "cut at " << cut << ": " << back.message;
    ASSERT_LT(back.records.size(), full.records.size());
    for (std::size_t r = 0; r < back.records.size(); ++r) {
      ASSERT_EQ(back.records[r].SerializeAsString(), full.records[r].SerializeAsString()) << "cut at " << cut;
    }
    if (back.end == ReadEnd::torn_tail) {
      ++torn;
      EXPECT_NE(back.message.find("cut short"), std::string::npos) << back.message;
    }
  }
  EXPECT_GT(torn, whole.size() / 2);
}

TEST(Recording, NeverReadsWrongDataFromAFileWithAFlippedBit) {
  TempFile file;
  write_recording(file.path(), 12);
  const auto original = read_whole(file.path());
  const auto full = read_back(original);
  // Every bit of the magic, the header's frame and the first messages; then
  // every 13th bit (the catalogue in the header is long and alike throughout).
  for (std::size_t bit = 0; bit < original.size() * 8; bit += (bit < 400 * 8 ? 1 : 13)) {
    auto flipped = original;
    flipped[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    const auto back = read_back(flipped);
    ASSERT_NE(back.end, ReadEnd::clean) << "bit " << bit << " went unnoticed";
    ASSERT_FALSE(back.message.empty());
    ASSERT_LT(back.records.size(), full.records.size());
    for (std::size_t r = 0; r < back.records.size(); ++r) {
      ASSERT_EQ(back.records[r].SerializeAsString(), full.records[r].SerializeAsString()) << "bit " << bit;
    }
  }
}

TEST(Recording, NamesWhatIsWrongWithAFileThatIsNotARecording) {
  const std::string text = "this is not a recording at all";
  const auto back = read_back(std::as_bytes(std::span(text)));
  EXPECT_EQ(back.end, ReadEnd::corrupt);
  EXPECT_EQ(back.message, "not a sil recording (it does not start with the SILREC1 magic) at byte 0");
  const auto empty = read_back({});
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(empty.end, ReadEnd::torn_tail);
}

TEST(Recording, CountsWhatTheQueueDroppedInTheFooter) {
  TempFile file;
  RecordQueue queue(4096);
  Writer writer(queue, file.path(), kInfo);
  std::uint64_t accepted = 0;
  for (std::uint64_t i = 0; i < 100; ++i) accepted += queue.try_push(meta_for(i), payload_for(i)) ? 1 : 0;
  ASSERT_LT(accepted, 100u);
  writer.finish(0);
  const auto back = read_back(read_whole(file.path()));
  ASSERT_EQ(back.end, ReadEnd::clean);
  ASSERT_TRUE(back.records.back().has_footer());
  EXPECT_EQ(back.records.back().footer().messages(), accepted);
  EXPECT_EQ(back.records.back().footer().dropped(), 100 - accepted);
}

TEST(Recording, RefusesToStartOnAFullDiskNamingTheError) {
  RecordQueue queue(4096);
  try {
    Writer writer(queue, "/dev/full", kInfo);
    FAIL() << "writing the header to /dev/full succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOSPC);
    EXPECT_NE(std::string(e.what()).find("/dev/full"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Writer(queue, "/nonexistent-dir/x.silrec", kInfo), std::system_error);
}

// A write that fails mid-run (here the file size limit, as a disk filling
// up would) is counted, reported to the owner's log sink (never to stderr
// by the library itself), and stops the recording: the file holds an exact
// prefix. In a child process, so the limit stays there; the child writes
// what its sink heard to stdout.
TEST(Recording, AWriteFailureMidRunIsReportedAndLeavesAReadablePrefix) {
  TempFile file;
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG instead of killing
    RecordQueue queue(1 << 22);
    Writer writer(queue, file.path(), kInfo, [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
    });
    const rlimit limit{20'000, 20'000};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    for (std::uint64_t i = 0; i < 2000; ++i) queue.try_push(meta_for(i), payload_for(i));
    std::stop_source stopped;
    stopped.request_stop();
    writer.run(stopped.get_token());  // writes everything queued, then returns
    writer.finish(0);
    const WriterStats stats = writer.stats();
    ::_exit(stats.write_errors == 1 && stats.lost > 0 && stats.records + stats.lost == 2000 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const std::string heard = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the counters were wrong";
  EXPECT_NE(heard.find("write failed: File too large; recording stopped"), std::string::npos) << heard;
  EXPECT_EQ(err, "") << "the library wrote to stderr by itself";
  const auto back = read_back(read_whole(file.path()));
  EXPECT_NE(back.end, ReadEnd::corrupt) << back.message;
  ASSERT_GT(back.records.size(), 1u);
  for (std::size_t r = 1; r < back.records.size(); ++r) {
    ASSERT_TRUE(back.records[r].has_message()) << "no footer after a failed write";
    ASSERT_TRUE(matches(back.records[r].message(), r - 1));
  }
}

}  // namespace
}  // namespace sil::record
