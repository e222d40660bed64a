#pragma once
// What a UDP bridge does whatever the system's catalogue: the socket, who
// may send (the allow list) and who receives telemetry (the peer rules),
// egress of one datagram or a batch, control replies, and the counters that
// are not per message. UdpBridge<Catalogue> (udp_bridge.hpp) adds the typed
// half: decoding into the catalogue's messages and publishing them.
//
// Threads: the receiving thread (the rx thread, or the simulation thread
// when the owner runs none) calls read_one(), note_sender() and
// expire_idle_peer(); the simulation thread sends. The active-peer word and
// the counters are the only state the two share.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "sil/bridge/allow_list.hpp"
#include "sil/bridge/bundle.hpp"
#include "sil/bridge/egress_batch.hpp"
#include "sil/bridge/hello.hpp"
#include "sil/bridge/peer.hpp"
#include "sil/bridge/peer_policy.hpp"
#include "sil/bridge/send_error.hpp"
#include "sil/ipc/datagram.hpp"

namespace sil::bridge {

// The wire format's names, where the bridge's users have always found them.
using ipc::encode_datagram;
using ipc::is_control_request;
using ipc::kHeader;
using ipc::kVerdictCount;
using ipc::to_string;
using ipc::Verdict;

// A control-plane request as received: raw protobuf bytes (parsed on the
// simulation thread, which owns everything a request acts on) and who sent
// it, so the reply goes back to them.
struct ControlFrame {
  static constexpr std::size_t kMaxSize = 512;  // far above any valid request

  std::uint64_t sender = 0;  // packed like the active peer (peer.hpp)
  std::uint16_t size = 0;
  bool too_large = false;  // longer than kMaxSize: bytes not kept, answered with an error
  std::array<std::byte, kMaxSize> bytes;

  std::span<const std::byte> view() const noexcept { return {bytes.data(), size}; }
};

// How bus messages leave (docs/wire-format.md "Egress modes").
enum class Egress : std::uint8_t {
  // One sendmsg per message, straight from the publisher's payload: no copy,
  // and the datagram is on its way before publish() returns.
  per_message,
  // Copied into a batch and sent when the owner calls flush() (SimHost: at
  // the end of every tick, and before every control reply): one sendmmsg per
  // tick, with runs of equal-sized messages as one UDP GSO send.
  batched,
};

std::string_view to_string(Egress egress) noexcept;  // "per-message", "batched"
std::optional<Egress> parse_egress(std::string_view text) noexcept;

struct BridgeConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks one; see port()
  Egress egress = Egress::per_message;
  AllowList allow{};       // empty: any sender
  PeerRules peer{};
  // SO_RCVBUF asked for: bursts (a harness injecting fast, a hostile
  // sender) wait in the kernel instead of being dropped there, uncounted by
  // us. The kernel caps it at net.core.rmem_max (often 208 KiB to 4 MiB).
  int receive_buffer_bytes = 4 << 20;
};

// A snapshot of the counters; each one is only ever increased.
struct BridgeStats {
  std::array<std::uint64_t, kVerdictCount> rx{};  // indexed by Verdict
  std::vector<std::uint64_t> rx_by_message;       // accepted, by catalogue index
  std::vector<std::uint64_t> tx_by_message;       // sent, by catalogue index
  std::uint64_t rx_inbox_full = 0;                // accepted but dropped: sim not keeping up
  std::uint64_t rx_not_allowed = 0;               // dropped unread: the sender is outside the allow list
  std::uint64_t rx_not_peer = 0;                  // accepted from a sender a sticky peer kept from taking over
  std::uint64_t rx_errors = 0;                    // recvmsg failures
  std::uint64_t peer_changes = 0;
  std::uint64_t peer_expiries = 0;  // peers dropped by the idle timeout
  std::uint64_t tx_sent = 0;     // all messages sent (sum of tx_by_message)
  std::uint64_t tx_no_peer = 0;  // not sent: nobody has talked to us yet
  std::uint64_t tx_errors = 0;   // sendmsg failures (the message is lost, the loop goes on)
  std::array<std::uint64_t, kSendErrorCount> tx_errors_by_reason{};  // indexed by SendError; sums to tx_errors

  std::uint64_t rx_dropped() const noexcept;
};

class BridgeCore {
 public:
  using Counter = std::atomic<std::uint64_t>;

  // Binds the socket; throws std::system_error (with the address in the
  // message) when the address is not IPv4 or cannot be bound.
  // The socket is a plain one, never registered with an event loop: a
  // socket in an epoll set costs every send a wakeup of its wait queue
  // (measured in tests/bench/cpp/egress_bench.cpp). Owners that wait on it
  // (SimHost) poll a dup()ed descriptor only while they need to.
  // `tx_by_message` are the per-message send counters the owner keeps (one
  // per catalogue message), which batched egress counts into.
  BridgeCore(const BridgeConfig& config, std::size_t max_datagram_size, std::span<Counter> tx_by_message);
  ~BridgeCore();
  BridgeCore(const BridgeCore&) = delete;
  BridgeCore& operator=(const BridgeCore&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // The socket's receive buffer as the kernel granted it (SO_RCVBUF).
  int receive_buffer_bytes() const noexcept;
  boost::asio::ip::udp::endpoint local_endpoint() const;
  // Readable when datagrams wait on the socket.
  int socket_fd() const noexcept { return fd_; }
  // Receiving thread: drops the peer if it has been silent longer than the
  // idle timeout. Returns how long (ms, rounded up, at least 1) until the
  // next check is due, or -1 when none is (no timeout, or no peer). An owner
  // that receives on its own loop calls it when that time is up.
  int expire_idle_peer();

  // Sim thread: sends a control reply (header 0xFFF1 + bytes) to `to`,
  // after everything published before it.
  void send_control(std::uint64_t to, std::span<const std::byte> reply) noexcept;

  // Sim thread, batched egress: sends what the bus published since the last
  // flush. Cheap (no syscall) when nothing is waiting; a no-op per message.
  void flush() noexcept {
    if (batch_ && !batch_->empty()) flush_batch();
  }
  Egress egress() const noexcept { return batch_ ? Egress::batched : Egress::per_message; }

  // The bundle limit a harness asking for `requested` bytes gets
  // (docs/wire-format.md "Bundles"): 0 (none) under per-message egress,
  // whose point is that it copies nothing, and a bundle is a copy.
  std::size_t bundle_bytes_for(std::uint64_t requested) const noexcept {
    return batch_ ? effective_bundle_bytes(requested, max_datagram_size_) : 0;
  }
  // Sim thread: from now on, what goes to `peer` travels in bundles of at
  // most `bytes` (from bundle_bytes_for); 0 turns bundles off. One address
  // at a time: the last harness that asked. What was queued before keeps
  // the form it was queued in.
  void bundle_for(std::uint64_t peer, std::size_t bytes) noexcept;

  // Any thread.
  std::uint64_t active_peer() const noexcept { return peer_.load(); }

 protected:
  // Each counter has one writing thread, so a plain load+store (no locked
  // read-modify-write) is exact and keeps the send path cheap.
  [[gnu::always_inline]] static void bump(Counter& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  // Sim thread: the egress of one message, T's header and payload.
  [[gnu::always_inline]] void send_message(const std::array<std::uint8_t, ipc::kHeaderSize>& head, const void* body,
                                           std::size_t size, std::uint16_t counter, Counter& sent) noexcept {
    const std::uint64_t peer = peer_.load();
    if (peer == 0) {
      bump(tx_no_peer_);
      return;
    }
    if (batch_) {
      queue(peer, head, body, size, counter);
      return;
    }
    if (send_datagram(peer, head, body, size)) {
      bump(sent);
    } else {
      count_send_error(errno);
    }
  }

  // -- receiving thread ---------------------------------------------------

  // One datagram as read: its bytes (at most the buffer), whether the
  // kernel cut it, and who sent it.
  struct Datagram {
    std::span<const std::byte> bytes;
    bool truncated = false;
    bool from_ipv4 = false;
    sockaddr_in from{};
  };
  enum class Read : std::uint8_t { nothing, not_allowed, datagram };
  // One recvmsg into `buffer`: nothing waiting, dropped unread by the allow
  // list (counted), or a datagram to validate.
  Read read_one(std::span<std::byte> buffer, Datagram& out) noexcept;
  // The control request in `datagram` as a frame for the simulation thread;
  // one too long still gets a frame (without its bytes) so it can be
  // answered with an error. Returns what it asks of the peer rules.
  static PeerClaim make_control_frame(const Datagram& datagram, ControlFrame& frame) noexcept;
  // A valid datagram from `datagram.from`; applies the peer rules.
  void accept_sender(const Datagram& datagram, PeerClaim claim);
  // Blocks until stop is requested, calling on_readable(context) whenever
  // the socket is readable and expiring an idle peer on time.
  void rx_loop(std::stop_token stop, void (*on_readable)(void*), void* context);
  void count_verdict(Verdict verdict) noexcept { bump(rx_[static_cast<std::size_t>(verdict)]); }
  void count_inbox_full() noexcept { bump(rx_inbox_full_); }

  // Fills everything but the per-message counters.
  void fill_stats(BridgeStats& s) const noexcept;

  std::size_t max_datagram_size() const noexcept { return max_datagram_size_; }

 private:
  // Sim thread, after a failed sendmsg: the only thing the send path does
  // about an error. Out of line, so the success path stays as it was.
  [[gnu::cold, gnu::noinline]] void count_send_error(int error) noexcept;
  // One sendmsg of {header, body}: two iovecs, so the body is sent from
  // where it lies, never copied. Never blocks the simulation on the network:
  // a full socket buffer loses the datagram (false) and the caller counts it.
  [[gnu::always_inline]] bool send_datagram(std::uint64_t to, const std::array<std::uint8_t, ipc::kHeaderSize>& head,
                                            const void* body, std::size_t size) noexcept {
    sockaddr_in address = unpack_peer(to);
    std::array<iovec, 2> iov{{
        {const_cast<std::uint8_t*>(head.data()), ipc::kHeaderSize},  // sendmsg never writes through iov_base
        {const_cast<void*>(body), size},
    }};
    msghdr header{};
    header.msg_name = &address;
    header.msg_namelen = sizeof address;
    header.msg_iov = iov.data();
    header.msg_iovlen = iov.size();
    return ::sendmsg(fd_, &header, MSG_DONTWAIT) >= 0;
  }

  // Batched egress: copies the datagram into the batch, flushing first when
  // it is full, so nothing is dropped for want of room. Out of line: the
  // copy stays out of the per-message path, which the egress_asm test
  // checks copies nothing (it stops at this function).
  [[gnu::noinline]] void queue(std::uint64_t to, std::span<const std::uint8_t> head, const void* body,
                               std::size_t size, std::uint16_t counter) noexcept;
  void flush_batch() noexcept;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::size_t max_datagram_size_;
  const AllowList allow_;
  PeerTracker peer_;                    // the active-peer word and the rules that change it
  std::unique_ptr<EgressBatch> batch_;  // sim thread; only with Egress::batched
  std::span<Counter> tx_by_message_;    // the owner's, sim thread writes

  // receiving thread writes
  std::array<Counter, kVerdictCount> rx_{};
  Counter rx_inbox_full_{0};
  Counter rx_errors_{0};
  Counter rx_not_allowed_{0};
  Counter rx_not_peer_{0};
  Counter peer_changes_{0};
  Counter peer_expiries_{0};
  // sim thread writes
  alignas(64) Counter tx_no_peer_{0};
  std::array<Counter, kSendErrorCount> tx_errors_{};  // indexed by SendError
};

}  // namespace sil::bridge
