#include "sil/harness/link.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "sil/bridge/bundle.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/ipc/msg_id.hpp"
#include "sil/protocol/control_framing.hpp"
#include "sil_control.pb.h"

namespace sil::harness {

namespace {

constexpr std::uint16_t kReplyId = static_cast<std::uint16_t>(ipc::MsgId::ControlReply);

// A blocking receive wakes at least this often, so a deadline is kept to
// within one slice without a poll() before every receive.
constexpr timeval kReceiveSlice{0, 100'000};

// Room for the largest UDP payload, plus one byte: a datagram that fills it
// was longer than any the sim sends.
constexpr std::size_t kBufferSize = 65536;

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

RxBudget::RxBudget(std::size_t receive_buffer) noexcept
    : budget_(static_cast<double>(std::max(kBytesPerDatagram,
                                           receive_buffer > cost(bridge::kMaxBundleBytes)
                                               ? receive_buffer - cost(bridge::kMaxBundleBytes)
                                               : std::size_t{0}))) {}

std::uint64_t RxBudget::chunk_ticks() const noexcept {
  const double ticks = budget_ / (2.0 * std::max(per_tick_, 0.01));
  if (ticks < 1.0) return 1;
  return std::min(kMaxChunkTicks, static_cast<std::uint64_t>(ticks));
}

void RxBudget::learn(std::size_t bytes, std::uint64_t ticks) noexcept {
  per_tick_ = std::max({static_cast<double>(bytes) / static_cast<double>(std::max<std::uint64_t>(ticks, 1)),
                        per_tick_ * 0.75, static_cast<double>(kBytesPerDatagram)});
}

Link::Link(int fd)
    : request_(std::make_unique<control::Request>()),
      reply_(std::make_unique<control::Reply>()),
      buffer_(kBufferSize) {
  int type = 0;
  socklen_t type_length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0) throw_errno("not a socket");
  if (type != SOCK_DGRAM) throw std::invalid_argument("not a datagram socket");
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno("fcntl(F_GETFL)");
  // A duplicate shares O_NONBLOCK with the original, and a blocking receive
  // with a timeout is what makes a round trip cost one receive call.
  if ((flags & O_NONBLOCK) != 0) throw std::invalid_argument("the socket must be blocking");
  fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (fd_ < 0) throw_errno("dup");
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &kReceiveSlice, sizeof kReceiveSlice) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "setsockopt(SO_RCVTIMEO)");
  }
}

Link::~Link() { ::close(fd_); }

int Link::receive_buffer() const noexcept {
  int granted = 0;
  socklen_t length = sizeof granted;
  if (::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0) return 0;
  return granted;
}

std::uint32_t Link::next_sequence() noexcept {
  const std::uint32_t sequence = next_sequence_++;
  if (next_sequence_ == 0) next_sequence_ = 1;  // 0 means "none" (see take)
  return sequence;
}

std::uint32_t Link::send_hello(std::uint32_t catalogue_hash, std::uint32_t bundle_bytes) {
  request_->Clear();
  const std::uint32_t sequence = next_sequence();
  request_->set_sequence(sequence);
  auto* hello = request_->mutable_hello();
  hello->set_catalogue_hash(catalogue_hash);
  hello->set_bundle_bytes(bundle_bytes);
  return send_prepared(sequence);
}

std::uint32_t Link::send_advance(std::uint64_t ticks) {
  // Clear() keeps the Advance allocated; the same request object serves
  // every round trip without touching the heap.
  if (!request_->has_advance()) request_->Clear();
  const std::uint32_t sequence = next_sequence();
  request_->set_sequence(sequence);
  request_->mutable_advance()->set_ticks(ticks);
  return send_prepared(sequence);
}

std::uint32_t Link::send_request(const control::Request& request) {
  *request_ = request;
  const std::uint32_t sequence = next_sequence();
  request_->set_sequence(sequence);
  return send_prepared(sequence);
}

std::uint32_t Link::send_prepared(std::uint32_t sequence) {
  protocol::encode_request(*request_, out_);
  return send_datagram(std::as_bytes(std::span{out_.data(), out_.size()})) ? sequence : 0;
}

bool Link::send_datagram(std::span<const std::byte> datagram) noexcept {
  if (::send(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT) >= 0) return true;
  send_error_ = errno;
  return false;
}

void Link::clear_datagrams() noexcept {
  kept_.clear();
  ends_.clear();
}

Link::Wait Link::wait_reply(std::uint32_t first, std::uint32_t last, Clock::time_point deadline) {
  for (;;) {
    const ssize_t length = ::recv(fd_, buffer_.data(), buffer_.size(), MSG_TRUNC);
    if (length < 0) {
      if (errno == EINTR) return Wait::interrupted;
      if (errno == ECONNREFUSED) return Wait::refused;
      if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("recv");
      if (Clock::now() >= deadline) return Wait::timed_out;
      continue;
    }
    ++datagrams_;
    const auto size = static_cast<std::size_t>(length);
    pending_cost_ += RxBudget::cost(size);
    if (size >= buffer_.size()) {
      undecodable_.push_back({{buffer_.begin(), buffer_.end()}, "truncated"});
    } else {
      const std::span<const std::byte> datagram(buffer_.data(), size);
      bool found = false;
      if (bridge::is_bundle(datagram)) {
        ++bundles_;
        const auto verdict = bridge::for_each_bundled(
            datagram, [&](std::span<const std::byte> item) { found = take(item, found ? 0 : first, last) || found; });
        if (verdict != bridge::BundleVerdict::ok) {
          undecodable_.push_back({{datagram.begin(), datagram.end()}, "bundle " + std::string(to_string(verdict))});
        }
      } else {
        found = take(datagram, first, last);
      }
      if (found) {
        reply_cost_ = pending_cost_;
        pending_cost_ = 0;
        return Wait::reply;
      }
    }
    // A flood of datagrams without the reply still ends at the deadline.
    if (Clock::now() >= deadline) return Wait::timed_out;
  }
}

Link::Wait Link::wait_any_reply(Clock::time_point deadline) {
  any_reply_ = true;
  const Wait outcome = wait_reply(1, 1, deadline);
  any_reply_ = false;
  return outcome;
}

bool Link::take(std::span<const std::byte> datagram, std::uint32_t first, std::uint32_t last) {
  if (datagram.size() >= ipc::kHeaderSize && ipc::datagram_id(datagram) == kReplyId) {
    // Sequence 0 is never sent: once the reply is found, later ones are
    // skipped unparsed, so they cannot overwrite it.
    if (first == 0) return false;
    // Parsed into a scratch object first would cost an allocation per
    // reply; a reply to some other request simply gets overwritten.
    if (!protocol::decode_reply(datagram, *reply_)) {
      undecodable_.push_back({{datagram.begin(), datagram.end()}, "malformed control reply"});
      return false;
    }
    return any_reply_ || reply_->sequence() - first <= last - first;  // unsigned: right across a wrap too
  }
  kept_.insert(kept_.end(), datagram.begin(), datagram.end());
  ends_.push_back(kept_.size());
  return false;
}

}  // namespace sil::harness
