#pragma once
// Connects the bus to a harness over UDP.
//
// Threads (the owner creates both; the bridge starts none):
//  - the rx thread runs run_rx(): receives, validates, records the sender as
//    the active peer, and pushes accepted messages into the inbox;
//  - the simulation thread owns the bus. It waits on inbound_ready_fd(),
//    calls deliver_inbound(bus), and the bus calls on() for egress.
// The inbox and the active-peer word are the only state the two share.
// Who may send is decided first (the allow list), who receives telemetry by
// the peer rules (peer_policy.hpp), both on the receiving thread.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "sil/bridge/allow_list.hpp"
#include "sil/bridge/bundle.hpp"
#include "sil/bridge/datagram.hpp"
#include "sil/bridge/egress_batch.hpp"
#include "sil/bridge/inbox.hpp"
#include "sil/bridge/peer.hpp"
#include "sil/bridge/peer_policy.hpp"
#include "sil/bridge/send_error.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/message.hpp"

namespace sil::bridge {

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

// One inbox slot: a catalogue message or a control request, so both keep
// their arrival order.
template <class... Messages>
using InboundVariant = std::variant<Messages..., ControlFrame>;
using Inbound = ipc::Catalogue::apply<InboundVariant>;

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
  std::uint16_t port = 0;  // 0: the kernel picks one; see UdpBridge::port()
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
  std::array<std::uint64_t, ipc::Catalogue::size> rx_by_message{};  // accepted, by catalogue index
  std::array<std::uint64_t, ipc::Catalogue::size> tx_by_message{};  // sent, by catalogue index
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

class UdpBridge {
 public:
  static constexpr std::size_t kInboxCapacity = 1024;
  // Inbox slots only a control request may take: a flood of messages that
  // fills the inbox cannot also keep a harness from pausing the sim or
  // asking for its stats. Messages get the other kInboxCapacity - this.
  static constexpr std::size_t kControlReserve = 16;

  // Binds the socket; throws std::system_error (with the address in the
  // message) when the address is not IPv4 or cannot be bound.
  // The socket is a plain one, never registered with an event loop: a
  // socket in an epoll set costs every send a wakeup of its wait queue
  // (measured in tests/bench/cpp/egress_bench.cpp). Owners that wait on it
  // (SimHost) poll a dup()ed descriptor only while they need to.
  explicit UdpBridge(const BridgeConfig& config);
  ~UdpBridge();
  UdpBridge(const UdpBridge&) = delete;
  UdpBridge& operator=(const UdpBridge&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  // The socket's receive buffer as the kernel granted it (SO_RCVBUF).
  int receive_buffer_bytes() const noexcept;
  boost::asio::ip::udp::endpoint local_endpoint() const;

  // Rx thread: blocks until stop is requested (returns within one poll wakeup).
  void run_rx(std::stop_token stop);

  // Sim thread: readable when inbound messages wait for deliver_inbound().
  int inbound_ready_fd() const noexcept { return inbox_.ready_fd(); }

  // Sim thread: publishes every waiting inbound message on the bus, in
  // arrival order, straight from its inbox slot, and passes each control
  // request to on_control(const ControlFrame&) in its place in that order.
  // Resets the wakeup fd. Returns how many items were handled.
  template <class Bus, class OnControl>
  std::size_t deliver_inbound(Bus& bus, OnControl&& on_control) {
    return inbox_.drain(deliverer(bus, on_control));
  }
  template <class Bus>
  std::size_t deliver_inbound(Bus& bus) {
    return deliver_inbound(bus, [](const ControlFrame&) {});
  }

  // Sim thread: the same without touching the wakeup fd, so an empty inbox
  // costs no syscall. For tick boundaries in the fast and step clocks.
  template <class Bus, class OnControl>
  std::size_t deliver_pending(Bus& bus, OnControl&& on_control) {
    return inbox_.drain_pending(deliverer(bus, on_control));
  }

  // Sim thread, for an owner that runs no rx thread (the step clock): reads
  // what is waiting on the socket, validating and counting it exactly as the
  // rx thread does, and hands each item straight to the bus or on_control,
  // in arrival order. Stops when nothing is left, after kRxBatch datagrams,
  // or as soon as stop() is true after an item. Returns how many items it handled.
  template <class Bus, class OnControl, class Stop>
  std::size_t receive_direct(Bus& bus, OnControl&& on_control, Stop&& stop) {
    auto deliver = deliverer(bus, on_control);
    std::size_t handled = 0;
    for (int i = 0; i < kRxBatch; ++i) {
      const Received received = receive_one(direct_);
      if (received == Received::nothing) break;
      if (received != Received::accepted) continue;
      deliver(direct_);
      ++handled;
      if (stop()) break;
    }
    return handled;
  }

  // Readable when datagrams wait on the socket (for receive_direct).
  int socket_fd() const noexcept { return fd_; }

  // Sim thread: sends a control reply (header 0xFFF1 + bytes) to `to`,
  // after everything published before it.
  void send_control(std::uint64_t to, std::span<const std::byte> reply) noexcept;

  // Sim thread, batched egress: sends what the bus published since the last
  // flush. Cheap (no syscall) when nothing is waiting; a no-op per message.
  void flush() noexcept {
    if (batch_ && !batch_->empty()) flush_batch();
  }
  Egress egress() const noexcept { return batch_ ? Egress::batched : Egress::per_message; }

  // The bundle limit a harness asking for `requested` bytes gets (docs/wire-format.md
  // "Bundles"): 0 (none) under per-message egress, whose point is that it
  // copies nothing, and a bundle is a copy.
  std::size_t bundle_bytes_for(std::uint64_t requested) const noexcept {
    return batch_ ? effective_bundle_bytes(requested) : 0;
  }
  // Sim thread: from now on, what goes to `peer` travels in bundles of at
  // most `bytes` (from bundle_bytes_for); 0 turns bundles off. One address
  // at a time: the last harness that asked. What was queued before keeps
  // the form it was queued in.
  void bundle_for(std::uint64_t peer, std::size_t bytes) noexcept;

  // Sim thread, called by the bus for every published message: one sendmsg
  // of {2-byte id, the publisher's payload} to the active peer.
  template <ipc::Message T>
  void on(const T& payload) noexcept {
    // What the peer injected is not echoed back to it; what services
    // publish in response is.
    if (is_injecting(&payload)) return;
    const std::uint64_t peer = peer_.load();
    if (peer == 0) {
      bump(tx_no_peer_);
      return;
    }
    if (batch_) {
      queue(peer, kHeader<T>, &payload, sizeof(T), ipc::kCatalogueIndex<T>);
      return;
    }
    if (send_datagram(peer, kHeader<T>, &payload, sizeof(T))) {
      bump(tx_by_message_[ipc::kCatalogueIndex<T>]);
    } else {
      count_send_error(errno);
    }
  }

  // Sim thread, for bus subscribers: true while `payload` is the inbound
  // message being published (it came from the network), false for what a
  // service publishes, including in reaction to it.
  bool is_injecting(const void* payload) const noexcept { return payload == inbound_; }

  // Any thread.
  BridgeStats stats() const noexcept;
  std::uint64_t active_peer() const noexcept { return peer_.load(); }

 private:
  using Counter = std::atomic<std::uint64_t>;
  // Each counter has one writing thread, so a plain load+store (no locked
  // read-modify-write) is exact and keeps the send path cheap.
  [[gnu::always_inline]] static void bump(Counter& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Sim thread, after a failed sendmsg: the only thing the send path does
  // about an error. Out of line, so the success path stays as it was.
  [[gnu::cold, gnu::noinline]] void count_send_error(int error) noexcept;
  // One sendmsg of {header, body}: two iovecs, so the body is sent from
  // where it lies, never copied. Never blocks the simulation on the network:
  // a full socket buffer loses the datagram (false) and the caller counts it.
  [[gnu::always_inline]] bool send_datagram(std::uint64_t to, const std::array<std::uint8_t, kHeaderSize>& head,
                                            const void* body, std::size_t size) noexcept {
    sockaddr_in address = unpack_peer(to);
    std::array<iovec, 2> iov{{
        {const_cast<std::uint8_t*>(head.data()), kHeaderSize},  // sendmsg never writes through iov_base
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

  // Datagrams read per wakeup: bounds the time one wakeup can take, and the
  // rx thread publishes (one eventfd write) per batch, not per message.
  static constexpr int kRxBatch = 64;
  enum class Received : std::uint8_t { nothing, dropped, accepted };

  void receive_batch();
  // One recvmsg: validated and counted; an accepted item is in `out`.
  Received receive_one(Inbound& out);
  void receive_control(std::span<const std::byte> datagram, bool truncated, const sockaddr_in& from,
                       Inbound& out);
  // Receiving thread: a valid datagram from sender; applies the peer rules.
  void note_sender(std::uint64_t sender, bool hello);
  // Receiving thread: drops an idle peer; the poll timeout (ms, -1: none)
  // until the next check is due.
  int expire_idle_peer();

  template <class Bus, class OnControl>
  auto deliverer(Bus& bus, OnControl& on_control) {
    return [this, &bus, &on_control](const Inbound& item) {
      std::visit(
          [&](const auto& payload) {
            if constexpr (std::is_same_v<std::decay_t<decltype(payload)>, ControlFrame>) {
              on_control(payload);
            } else {
              inbound_ = &payload;
              bus.publish(payload);
              inbound_ = nullptr;
            }
          },
          item);
    };
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  const AllowList allow_;
  PeerTracker peer_;  // the active-peer word and the rules that change it
  SpscInbox<Inbound, kInboxCapacity> inbox_;
  const void* inbound_ = nullptr;  // sim thread: the payload being injected right now
  Inbound direct_;                 // sim thread: the item receive_direct is delivering
  std::unique_ptr<EgressBatch> batch_;  // sim thread; only with Egress::batched

  // rx thread writes
  std::array<Counter, kVerdictCount> rx_{};
  std::array<Counter, ipc::Catalogue::size> rx_by_message_{};
  Counter rx_inbox_full_{0};
  Counter rx_errors_{0};
  Counter rx_not_allowed_{0};
  Counter rx_not_peer_{0};
  Counter peer_changes_{0};
  Counter peer_expiries_{0};
  // sim thread writes
  alignas(64) std::array<Counter, ipc::Catalogue::size> tx_by_message_{};
  Counter tx_no_peer_{0};
  std::array<Counter, kSendErrorCount> tx_errors_{};  // indexed by SendError
};

}  // namespace sil::bridge
