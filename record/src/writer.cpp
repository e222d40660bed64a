#include "sil/record/writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "sil/record/frame.hpp"
#include "write_all.hpp"
#include "sil/protocol/catalogue_proto.hpp"
#include "sil_record.pb.h"

namespace sil::record {

static_assert(static_cast<int>(MessageDirection::published) == PUBLISHED);
static_assert(static_cast<int>(MessageDirection::injected) == INJECTED);
static_assert(static_cast<int>(MessageDirection::control_request) == CONTROL_REQUEST);
static_assert(static_cast<int>(MessageDirection::control_reply) == CONTROL_REPLY);

namespace {

constexpr std::uint32_t kFormatVersion = 1;
// Entries encoded between two looks at the clock and the stop token.
constexpr std::size_t kDrainBatch = 4096;
// How long the writer sleeps when the queue is empty: short against the
// flush interval and against the queue (8 MiB hold 0.9 s at 100,000
// messages/s), long enough that an idle recording costs nothing.
constexpr std::chrono::milliseconds kIdleWait{10};

}  // namespace

RecordingStart RecordingStart::now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return {static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec),
          std::chrono::steady_clock::now()};
}

Writer::Writer(RecordQueue& queue, std::string path, const RecordingInfo& info, LogSink log)
    : queue_(queue), path_(std::move(path)), log_(std::move(log)), scratch_(std::make_unique<Record>()) {
  if (info.catalogue == nullptr) throw std::invalid_argument("a recording needs the system's catalogue");
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot create recording " + path_);
  chunk_.reserve(2 * kChunkBytes);
  const auto magic = std::as_bytes(std::span{kMagic});
  chunk_.insert(chunk_.end(), magic.begin(), magic.end());

  Record record;
  Header& header = *record.mutable_header();
  const auto& build = info.build;
  header.set_format_version(kFormatVersion);
  header.set_version(std::string(build.version));
  header.set_git_revision(std::string(build.git_revision));
  protocol::fill_catalogue(*header.mutable_catalogue(), *info.catalogue);
  header.set_rate_hz(info.rate_hz);
  header.set_clock(info.clock);
  header.set_start_unix_ns(info.start_unix_ns);
  for (const auto& param : info.params) {
    auto* setting = header.add_params();
    setting->set_name(param.name);
    protocol::fill_param_value(*setting->mutable_value(), param.value);
  }
  append(record);
  const int error = write_all(fd_, chunk_);
  if (error != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::system_error(error, std::generic_category(), "cannot write recording " + path_);
  }
  bump(bytes_, chunk_.size());
  chunk_.clear();
}

Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
}

void Writer::append(const Record& record) {
  const std::size_t size = record.ByteSizeLong();
  const std::size_t at = chunk_.size();
  chunk_.resize(at + kFrameHeaderBytes + size);
  auto* body = reinterpret_cast<std::uint8_t*>(chunk_.data() + at + kFrameHeaderBytes);
  record.SerializeWithCachedSizesToArray(body);
  encode_frame_header(std::span(chunk_).subspan(at).first<kFrameHeaderBytes>(),
                      std::span(chunk_).subspan(at + kFrameHeaderBytes, size));
}

std::size_t Writer::encode_queued(std::size_t max_entries) {
  return queue_.drain(
      [this](const EntryMeta& meta, std::span<const std::byte> payload) {
        Message& message = *scratch_->mutable_message();
        message.set_sim_time_ns(meta.sim_time_ns);
        message.set_wall_ns(meta.wall_ns);
        message.set_msg_id(meta.msg_id);
        message.set_direction(static_cast<Direction>(meta.direction));
        message.set_payload(payload.data(), payload.size());
        append(*scratch_);
        ++chunk_records_;
      },
      max_entries);
}

void Writer::flush() {
  if (chunk_.empty()) return;
  if (!failed_) {
    const int error = write_all(fd_, chunk_);
    if (error == 0) {
      bump(bytes_, chunk_.size());
      bump(records_, chunk_records_);
    } else {
      // The file now ends in a torn frame at worst: still an exact prefix.
      // Writing on after the failure could leave a gap in the middle.
      failed_ = true;
      bump(write_errors_);
      if (log_) {
        log_("recording " + path_ + ": write failed: " + std::strerror(error) +
             "; recording stopped, the file keeps what came before");
      }
    }
  }
  if (failed_) bump(lost_, chunk_records_);
  chunk_.clear();
  chunk_records_ = 0;
}

void Writer::run(std::stop_token stop) {
  using Clock = std::chrono::steady_clock;
  auto last_flush = Clock::now();
  while (!stop.stop_requested()) {
    const std::size_t encoded = encode_queued(kDrainBatch);
    const auto now = Clock::now();
    if (chunk_.size() >= kChunkBytes || now - last_flush >= kFlushInterval) {
      flush();
      last_flush = now;
    }
    if (encoded == 0) std::this_thread::sleep_for(kIdleWait);
  }
  write_queued();
}

void Writer::write_queued() {
  while (encode_queued(kDrainBatch) != 0) {
    if (chunk_.size() >= kChunkBytes) flush();
  }
  flush();
}

void Writer::finish(std::uint64_t end_sim_time_ns) {
  if (fd_ < 0) return;
  write_queued();
  if (!failed_) {
    Record record;
    Footer& footer = *record.mutable_footer();
    footer.set_messages(records_.load(std::memory_order_relaxed));
    footer.set_dropped(queue_.dropped());
    footer.set_end_sim_time_ns(end_sim_time_ns);
    append(record);
    flush();
    if (!failed_ && ::fdatasync(fd_) != 0) {
      bump(write_errors_);
      if (log_) log_("recording " + path_ + ": fdatasync failed: " + std::strerror(errno));
    }
  }
  ::close(fd_);
  fd_ = -1;
}

WriterStats Writer::stats() const noexcept {
  return {records_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed),
          write_errors_.load(std::memory_order_relaxed), lost_.load(std::memory_order_relaxed)};
}

}  // namespace sil::record
