#include "sil/bridge/bridge_core.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/system/system_error.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "sil/bridge/hello.hpp"

namespace sil::bridge {

namespace {

boost::asio::ip::udp::endpoint resolve_bind(const BridgeConfig& config) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(config.bind_address, ec);
  if (ec || !address.is_v4()) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "bind address '" + config.bind_address + "' is not an IPv4 address");
  }
  return {address, config.port};
}

// An eventfd that becomes readable when stop is requested, so the rx thread
// can sleep in poll() on the socket and still stop at once.
class StopEvent {
 public:
  explicit StopEvent(std::stop_token stop)
      : fd_{make_eventfd()}, callback_(std::move(stop), Signal{fd_.fd}) {}
  StopEvent(const StopEvent&) = delete;
  StopEvent& operator=(const StopEvent&) = delete;
  int fd() const noexcept { return fd_.fd; }

 private:
  // Throws before callback_ exists, so a failure reports eventfd's own errno.
  static int make_eventfd() {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    return fd;
  }
  struct Signal {
    int fd;
    void operator()() const noexcept {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto written = ::write(fd, &one, sizeof one);
    }
  };
  // Closed only after callback_ is gone: the rx loop can see stop_requested()
  // and return while request_stop() is still running Signal on another
  // thread; ~stop_callback waits for that call to finish, so the fd is never
  // written after it was closed (and possibly reused).
  struct OwnedFd {
    int fd;
    ~OwnedFd() {
      if (fd >= 0) ::close(fd);
    }
  };
  OwnedFd fd_;
  std::stop_callback<Signal> callback_;
};

}  // namespace

std::string_view to_string(Egress egress) noexcept {
  return egress == Egress::batched ? "batched" : "per-message";
}

std::optional<Egress> parse_egress(std::string_view text) noexcept {
  for (const Egress egress : {Egress::per_message, Egress::batched}) {
    if (text == to_string(egress)) return egress;
  }
  return std::nullopt;
}

std::uint64_t BridgeStats::rx_dropped() const noexcept {
  std::uint64_t dropped = rx_inbox_full + rx_not_allowed;
  for (std::size_t i = 0; i < kVerdictCount; ++i) {
    if (static_cast<Verdict>(i) != Verdict::accepted) dropped += rx[i];
  }
  return dropped;
}

BridgeCore::BridgeCore(const BridgeConfig& config, std::size_t max_datagram_size, std::span<Counter> tx_by_message)
    : max_datagram_size_(max_datagram_size), allow_(config.allow), peer_(config.peer), tx_by_message_(tx_by_message) {
  const auto endpoint = resolve_bind(config);
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  if (::bind(fd_, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(),
                            "cannot bind " + config.bind_address + ":" + std::to_string(config.port));
  }
  port_ = local_endpoint().port();
  // Best effort: a smaller buffer than asked for is not an error.
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &config.receive_buffer_bytes, sizeof config.receive_buffer_bytes);
  if (config.egress == Egress::batched) batch_ = std::make_unique<EgressBatch>();
}

BridgeCore::~BridgeCore() { ::close(fd_); }

int BridgeCore::receive_buffer_bytes() const noexcept {
  int bytes = 0;
  socklen_t size = sizeof bytes;
  return ::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, &size) == 0 ? bytes : 0;
}

boost::asio::ip::udp::endpoint BridgeCore::local_endpoint() const {
  boost::asio::ip::udp::endpoint endpoint;
  socklen_t size = static_cast<socklen_t>(endpoint.capacity());
  ::getsockname(fd_, endpoint.data(), &size);
  endpoint.resize(size);
  return endpoint;
}

void BridgeCore::rx_loop(std::stop_token stop, void (*on_readable)(void*), void* context) {
  StopEvent stop_event(stop);
  std::array<pollfd, 2> fds{{{fd_, POLLIN, 0}, {stop_event.fd(), POLLIN, 0}}};
  int timeout_ms = -1;
  while (!stop.stop_requested()) {
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) bump(rx_errors_);
    if (ready > 0 && fds[1].revents != 0) break;
    if (ready > 0 && fds[0].revents != 0) on_readable(context);
    // An idle peer is dropped even while nobody sends: poll wakes for it.
    timeout_ms = expire_idle_peer();
  }
}

int BridgeCore::expire_idle_peer() {
  if (peer_.rules().idle_timeout.count() <= 0) return -1;  // off: no clock read, no timeout
  const auto now = PeerTracker::Clock::now();
  if (peer_.expire(now)) bump(peer_expiries_);
  PeerTracker::Time at;
  if (!peer_.expiry(at)) return -1;
  // Rounded up, and at least 1 ms, so the wakeup is never early and never spins.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(at - now).count() + 1;
  return static_cast<int>(std::clamp<std::int64_t>(wait, 1, 60'000));
}

void BridgeCore::accept_sender(const Datagram& datagram, PeerClaim claim) {
  if (!datagram.from_ipv4) return;
  const std::uint64_t sender = pack_peer(datagram.from);
  const auto now = peer_.uses_time() ? PeerTracker::Clock::now() : PeerTracker::Time{};
  if (peer_.expire(now)) bump(peer_expiries_);
  if (claim == PeerClaim::query) {
    peer_.seen(sender, now);
    return;
  }
  switch (peer_.observe(sender, claim == PeerClaim::hello, now)) {
    case PeerTracker::Outcome::changed: bump(peer_changes_); break;
    case PeerTracker::Outcome::refused: bump(rx_not_peer_); break;
    case PeerTracker::Outcome::same: break;
  }
}

BridgeCore::Read BridgeCore::read_one(std::span<std::byte> buffer, Datagram& out) noexcept {
  sockaddr_in from{};
  iovec iov{buffer.data(), buffer.size()};
  msghdr header{};
  header.msg_name = &from;
  header.msg_namelen = sizeof from;
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  const ssize_t length = ::recvmsg(fd_, &header, MSG_DONTWAIT | MSG_TRUNC);
  if (length < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) bump(rx_errors_);
    return Read::nothing;
  }
  out.from_ipv4 = header.msg_namelen == sizeof from && from.sin_family == AF_INET;
  out.from = from;
  // First, before the bytes are looked at: only allowed senders count.
  if (!allow_.empty() && !(out.from_ipv4 && allow_.allows(from.sin_addr.s_addr))) {
    bump(rx_not_allowed_);
    return Read::not_allowed;
  }
  out.truncated = (header.msg_flags & MSG_TRUNC) != 0;
  out.bytes = buffer.first(std::min(static_cast<std::size_t>(length), buffer.size()));
  return Read::datagram;
}

PeerClaim BridgeCore::make_control_frame(const Datagram& datagram, ControlFrame& frame) noexcept {
  frame.sender = datagram.from_ipv4 ? pack_peer(datagram.from) : 0;
  const auto body = datagram.bytes.subspan(ipc::kHeaderSize);
  frame.too_large = datagram.truncated || body.size() > ControlFrame::kMaxSize;
  frame.size = frame.too_large ? 0 : static_cast<std::uint16_t>(body.size());
  if (!frame.too_large) std::copy(body.begin(), body.end(), frame.bytes.begin());
  return datagram.truncated ? PeerClaim::ordinary : claim_of_request(body);
}

void BridgeCore::send_control(std::uint64_t to, std::span<const std::byte> reply) noexcept {
  static constexpr auto kReplyHeader = ipc::header_bytes(ipc::MsgId::ControlReply);
  if (batch_) {
    // The reply joins the tick's datagrams: one syscall for both, and it
    // still arrives after them.
    if (batch_->add(to, kReplyHeader, reply.data(), reply.size(), EgressBatch::kNoCounter)) {
      flush_batch();
      return;
    }
    flush();
  }
  if (!send_datagram(to, kReplyHeader, reply.data(), reply.size())) count_send_error(errno);
}

void BridgeCore::bundle_for(std::uint64_t peer, std::size_t bytes) noexcept {
  if (!batch_) return;
  flush();
  batch_->bundle_for(peer, bytes);
}

void BridgeCore::count_send_error(int error) noexcept {
  bump(tx_errors_[static_cast<std::size_t>(classify_send_error(error))]);
}

void BridgeCore::queue(std::uint64_t to, std::span<const std::uint8_t> head, const void* body, std::size_t size,
                      std::uint16_t counter) noexcept {
  if (batch_->add(to, head, body, size, counter)) return;
  flush_batch();
  if (!batch_->add(to, head, body, size, counter)) count_send_error(EMSGSIZE);  // larger than the whole batch
}

void BridgeCore::flush_batch() noexcept {
  batch_->flush(
      fd_,
      [this](std::uint16_t counter) {
        if (counter != EgressBatch::kNoCounter) bump(tx_by_message_[counter]);
      },
      [this](std::uint16_t, int error) { count_send_error(error); });
}

void BridgeCore::fill_stats(BridgeStats& s) const noexcept {
  for (std::size_t i = 0; i < kVerdictCount; ++i) s.rx[i] = rx_[i].load(std::memory_order_relaxed);
  s.rx_inbox_full = rx_inbox_full_.load(std::memory_order_relaxed);
  s.rx_errors = rx_errors_.load(std::memory_order_relaxed);
  s.rx_not_allowed = rx_not_allowed_.load(std::memory_order_relaxed);
  s.rx_not_peer = rx_not_peer_.load(std::memory_order_relaxed);
  s.peer_changes = peer_changes_.load(std::memory_order_relaxed);
  s.peer_expiries = peer_expiries_.load(std::memory_order_relaxed);
  s.tx_no_peer = tx_no_peer_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kSendErrorCount; ++i) {
    s.tx_errors_by_reason[i] = tx_errors_[i].load(std::memory_order_relaxed);
    s.tx_errors += s.tx_errors_by_reason[i];
  }
}

}  // namespace sil::bridge
