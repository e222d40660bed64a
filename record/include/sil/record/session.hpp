#pragma once
// A recording of one run, for any owner (sil-sim's --record, a rig): the
// queue the simulation thread fills through Recorders, and the Writer the
// owner's writer thread runs. No thread is started here:
//
//     sil::record::Session session(path, {&catalogue, build, rate_hz, "realtime"}, log);
//     std::jthread writer([&](std::stop_token stop) { session.run(stop); });
//     auto recorder = session.recorder(sim.clock(), bridge);   // a bus subscriber
//     ...
//     writer.request_stop(); writer.join();
//     const std::string counters = session.finish(sim.clock().now_ns());   // JSON
#include <cstdint>
#include <stop_token>
#include <string>

#include "sil/ipc/log_sink.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "sil/record/record_queue.hpp"
#include "sil/record/recorder.hpp"
#include "sil/record/writer.hpp"

namespace sil::record {

class Session {
 public:
  // Creates (or truncates) the file and writes its header; throws
  // std::system_error when it cannot. info.start_unix_ns is set here.
  Session(const std::string& path, RecordingInfo info, LogSink log = {})
      : start_(RecordingStart::now()), queue_(Writer::kDefaultQueueBytes), writer_(queue_, path, started(info), std::move(log)) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // A bus subscriber that records every publication; `origin` tells what
  // was injected (its is_injecting(), e.g. the bridge).
  template <class Origin>
  Recorder<Origin> recorder(const ipc::SimClock& clock, const Origin& origin) {
    return {queue_, clock, origin, start_.steady};
  }

  // The owner's writer thread, until stop is requested.
  void run(std::stop_token stop) { writer_.run(std::move(stop)); }

  // After the writer thread has stopped: writes the rest and the footer,
  // and returns the counters as one JSON object
  // ({"messages": N, "dropped": N, "bytes": N, "write_errors": N, "lost": N}).
  std::string finish(std::uint64_t end_sim_time_ns) {
    writer_.finish(end_sim_time_ns);
    const WriterStats w = writer_.stats();
    return "{\"messages\": " + std::to_string(w.records) + ", \"dropped\": " + std::to_string(queue_.dropped()) +
           ", \"bytes\": " + std::to_string(w.bytes) + ", \"write_errors\": " + std::to_string(w.write_errors) +
           ", \"lost\": " + std::to_string(w.lost) + "}";
  }

 private:
  RecordingInfo started(RecordingInfo info) const {
    info.start_unix_ns = start_.unix_ns;
    return info;
  }

  RecordingStart start_;
  RecordQueue queue_;
  Writer writer_;
};

}  // namespace sil::record
