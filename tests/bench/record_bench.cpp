// Recording speed and size (issue 4), printed to stdout as a JSON list of
// {"name", "value", "unit", "baseline", "ratio"} like run.py's results:
//  - record_sim_thread_cost: what recording adds on the simulation thread
//    per message, ns. Every millisecond the loop publishes 100 65-byte
//    RevisionResponses through a bus with the Recorder (100,000 messages/s,
//    recorded by a Writer thread to a temporary file) and 100 through the
//    same bus without it, timing each batch; per block of the run the
//    difference of the per-message costs, then the median over the blocks.
//  - record_dropped: records the queue had to drop (must be 0).
//  - record_file_bytes_per_message.
//  - record_reader_rate: the C++ Reader over the file, records/s, against
//    the bare FrameReader (checksums only) in alternating repetitions.
// Usage: record_bench [--quick] [--dir DIR]   (10 s of recording; --quick: 2 s)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/record/frame_reader.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/record_queue.hpp"
#include "sil/record/recorder.hpp"
#include "sil/record/writer.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "sil_record.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using sil::ipc::RevisionResponse;

constexpr int kMessagesPerMs = 100;  // 100,000 messages/s
constexpr int kBlocks = 10;

// Nothing here is injected: everything is PUBLISHED.
struct NoInjection {
  bool is_injecting(const void*) const noexcept { return false; }
};

// The other subscriber on both buses, so the baseline is a real publish.
struct Sink {
  std::uint64_t sum = 0;
  void on(const RevisionResponse& response) { sum += response.request_id; }
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string entry(const std::string& name, double value, const std::string& unit, const std::string& baseline_name = {},
                  double baseline = 0, const std::string& baseline_unit = {}) {
  std::string out = "{\"name\": \"" + name + "\", \"value\": " + number(value) + ", \"unit\": \"" + unit + "\", ";
  if (baseline_name.empty()) return out + "\"baseline\": null, \"ratio\": null}";
  return out + "\"baseline\": {\"name\": \"" + baseline_name + "\", \"value\": " + number(baseline) +
         ", \"unit\": \"" + baseline_unit + "\"}, \"ratio\": " + number(value / baseline) + "}";
}

template <class Bus>
double publish_batch(Bus& bus, RevisionResponse& message, std::uint32_t& sequence) {
  const auto start = Clock::now();
  for (int i = 0; i < kMessagesPerMs; ++i) {
    message.request_id = sequence++;
    bus.publish(message);
  }
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: record_bench [--quick] [--dir DIR]\n");
      return 2;
    }
  }
  const int total_ms = quick ? 2000 : 10000;
  const std::string path = (dir / ("record_bench_" + std::to_string(::getpid()) + ".silrec")).string();

  sil::ipc::SimClock sim_clock(1000);
  NoInjection origin;
  Sink sink;
  sil::record::RecordQueue queue(sil::record::Writer::kDefaultQueueBytes);
  const auto start = sil::record::RecordingStart::now();
  const auto catalogue = sil::ipc::catalogue_info<sil::ipc::FrameworkCatalogue>();
  sil::record::Writer writer(queue, path,
                             {.catalogue = &catalogue, .rate_hz = 1000, .clock = "fast", .start_unix_ns = start.unix_ns});
  sil::record::Recorder<NoInjection> recorder(queue, sim_clock, origin, start.steady);
  sil::ipc::MessageBus<sil::ipc::FrameworkCatalogue, Sink, sil::record::Recorder<NoInjection>> recorded_bus(sink, recorder);
  sil::ipc::MessageBus<sil::ipc::FrameworkCatalogue, Sink> plain_bus(sink);

  RevisionResponse message{};
  message.git_revision = "0123456789abcdef0123456789abcdef01234567";
  std::uint32_t sequence = 0;
  std::uint32_t plain_sequence = 0;
  std::vector<double> with_ns(kBlocks), without_ns(kBlocks);
  std::uint64_t recorded = 0;
  {
    std::jthread writer_thread([&writer](std::stop_token stop) { writer.run(stop); });
    const auto t0 = Clock::now();
    for (int ms = 0; ms < total_ms; ++ms) {
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(ms));
      const int block = ms * kBlocks / total_ms;
      // Alternate which goes first, so neither always finds a warm cache.
      if (ms % 2 == 0) {
        with_ns[block] += publish_batch(recorded_bus, message, sequence);
        without_ns[block] += publish_batch(plain_bus, message, plain_sequence);
      } else {
        without_ns[block] += publish_batch(plain_bus, message, plain_sequence);
        with_ns[block] += publish_batch(recorded_bus, message, sequence);
      }
      recorded += kMessagesPerMs;
      sim_clock.advance();
    }
  }
  writer.finish(sim_clock.now_ns());
  const auto stats = writer.stats();
  const double per_block = static_cast<double>(total_ms / kBlocks * kMessagesPerMs);
  std::vector<double> added, plain;
  for (int b = 0; b < kBlocks; ++b) {
    added.push_back((with_ns[b] - without_ns[b]) / per_block);
    plain.push_back(without_ns[b] / per_block);
  }

  // The reader: whole passes over the file, alternating with the bare frame reader.
  sil::record::MappedFile file(path);
  std::vector<double> reader_rates, frame_rates;
  std::uint64_t read_records = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t = Clock::now();
    sil::record::Reader reader(file.bytes());
    sil::record::Record record;
    std::uint64_t n = 0;
    while (reader.next(record)) ++n;
    reader_rates.push_back(static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t).count());
    read_records = n;

    t = Clock::now();
    sil::record::FrameReader frames(file.bytes(), sil::record::is_record);
    std::span<const std::byte> bytes;
    std::uint64_t m = 0;
    while (frames.next(bytes) == sil::record::FrameStatus::ok) ++m;
    frame_rates.push_back(static_cast<double>(m) / std::chrono::duration<double>(Clock::now() - t).count());
  }
  std::filesystem::remove(path);

  std::fprintf(stderr,
               "record_bench: %llu messages in %d ms (sink sum %llu), %llu written, %llu dropped, %llu write errors, "
               "%llu bytes, read back %llu records\n",
               static_cast<unsigned long long>(recorded), total_ms, static_cast<unsigned long long>(sink.sum),
               static_cast<unsigned long long>(stats.records), static_cast<unsigned long long>(queue.dropped()),
               static_cast<unsigned long long>(stats.write_errors), static_cast<unsigned long long>(stats.bytes),
               static_cast<unsigned long long>(read_records));
  const double added_ns = median(added);
  const double plain_ns = median(plain);
  std::printf("[\n  %s,\n  %s,\n  %s,\n  %s\n]\n",
              entry("record_sim_thread_cost", added_ns, "ns/message", "publish_without_recorder", plain_ns,
                    "ns/message")
                  .c_str(),
              entry("record_dropped", static_cast<double>(queue.dropped() + stats.lost), "records").c_str(),
              entry("record_file_bytes_per_message", static_cast<double>(stats.bytes) / static_cast<double>(recorded),
                    "bytes/message")
                  .c_str(),
              entry("record_reader_rate", median(reader_rates), "records/s", "frame_reader_rate", median(frame_rates),
                    "records/s")
                  .c_str());
  return stats.write_errors == 0 ? 0 : 1;
}
