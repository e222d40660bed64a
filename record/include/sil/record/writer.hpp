#pragma once
// The disk side of a recording: drains the RecordQueue on a thread the
// owner creates, encodes each entry as a checksummed frame (frame.hpp,
// sil_record.proto), and writes in bounded chunks, at least every
// kFlushInterval of wall time, so kill -9 loses at most that much.
//
// Lifecycle (owner thread unless noted):
//   Writer w(queue, path, info);   // creates the file; magic + header are on disk on return
//   std::jthread t([&](std::stop_token s) { w.run(s); });   // writer thread
//   ... simulation runs, a Recorder pushes into `queue` ...
//   t.request_stop(); t.join();    // run() writes what was queued, then returns
//   w.finish(end_sim_time_ns);     // footer, fdatasync, close: a finalised file
//
// A failed write (ENOSPC, EIO, ...) is reported once on stderr and counted;
// the writer then stops writing, so the file stays an exact prefix of the
// run, and counts every later record as lost.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "sil/ipc/build_info.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/log_sink.hpp"
#include "sil/record/record_queue.hpp"

namespace sil::record {

class Record;  // sil_record.proto

struct RecordingInfo {
  const ipc::CatalogueInfo* catalogue = nullptr;  // the system's; stored in the header, required
  ipc::BuildInfo build = ipc::kUnknownBuild;      // the system's build; stored in the header
  std::uint32_t rate_hz = 0;
  std::string clock;               // "realtime", "fast" or "step"
  std::uint64_t start_unix_ns = 0; // CLOCK_REALTIME when recording started
  // The parameters set before the first tick (--param), with their values.
  std::vector<ipc::ParamAssignment> params{};
};

// The two clocks a recording starts from, read together.
struct RecordingStart {
  std::uint64_t unix_ns;
  std::chrono::steady_clock::time_point steady;
  static RecordingStart now() noexcept;
};

struct WriterStats {
  std::uint64_t records = 0;       // Message records written to the file
  std::uint64_t bytes = 0;         // file size so far
  std::uint64_t write_errors = 0;  // failed writes (the first stops the recording)
  std::uint64_t lost = 0;          // records taken from the queue but not written after a failure
};

class Writer {
 public:
  static constexpr std::chrono::milliseconds kFlushInterval{50};  // the bound is 100 ms
  static constexpr std::size_t kChunkBytes = 64 * 1024;           // one write(2) at most this much, roughly
  static constexpr std::size_t kDefaultQueueBytes = 8u << 20;     // about 0.9 s at 100,000 messages/s

  // Creates (truncates) `path` and writes the magic and the header before
  // returning. Throws std::system_error naming the path when it cannot.
  // `log` hears of a failed write or sync (the counters say it too).
  Writer(RecordQueue& queue, std::string path, const RecordingInfo& info, LogSink log = {});
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Writer thread: until stop is requested, then drains what is queued.
  void run(std::stop_token stop);

  // Owner, after run() has returned (or was never started): writes what is
  // still queued and the footer, syncs and closes. Idempotent.
  void finish(std::uint64_t end_sim_time_ns);

  // Any thread.
  WriterStats stats() const noexcept;
  const std::string& path() const noexcept { return path_; }

 private:
  std::size_t encode_queued(std::size_t max_entries);
  void write_queued();
  void append(const Record& record);
  void flush();
  void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  RecordQueue& queue_;
  std::string path_;
  LogSink log_;
  int fd_ = -1;
  bool failed_ = false;
  std::vector<std::byte> chunk_;          // encoded frames not yet written
  std::unique_ptr<Record> scratch_;       // reused for every record: no allocation per record once warm
  std::uint64_t chunk_records_ = 0;       // Message records in chunk_
  std::atomic<std::uint64_t> records_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace sil::record
