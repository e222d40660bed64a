#pragma once
// Connects the bus to a harness over UDP.
//
// Threads (the owner creates both; the bridge starts none):
//  - the rx thread runs run_rx(): receives, validates, records the sender as
//    the active peer, and pushes accepted messages into the inbox;
//  - the simulation thread owns the bus. It waits on inbound_ready_fd(),
//    calls deliver_inbound(bus), and the bus calls on() for egress.
// The inbox and the active-peer word are the only state the two share.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <string>
#include <variant>

#include "sil/bridge/datagram.hpp"
#include "sil/bridge/inbox.hpp"
#include "sil/bridge/peer.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/message.hpp"

namespace sil::bridge {

struct BridgeConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks one; see UdpBridge::port()
};

// A snapshot of the counters; each one is only ever increased.
struct BridgeStats {
  std::array<std::uint64_t, kVerdictCount> rx{};  // indexed by Verdict
  std::uint64_t rx_inbox_full = 0;                // accepted but dropped: sim not keeping up
  std::uint64_t rx_errors = 0;                    // recvmsg failures
  std::uint64_t peer_changes = 0;
  std::uint64_t tx_sent = 0;
  std::uint64_t tx_no_peer = 0;  // not sent: nobody has talked to us yet
  std::uint64_t tx_errors = 0;   // sendmsg failures (the message is lost, the loop goes on)

  std::uint64_t rx_dropped() const noexcept;
};

class UdpBridge {
 public:
  static constexpr std::size_t kInboxCapacity = 1024;

  // Binds the socket; throws std::system_error (with the address in the
  // message) when the address is not IPv4 or cannot be bound.
  UdpBridge(boost::asio::io_context& io, const BridgeConfig& config);
  UdpBridge(const UdpBridge&) = delete;
  UdpBridge& operator=(const UdpBridge&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  boost::asio::ip::udp::endpoint local_endpoint() const;

  // Rx thread: blocks until stop is requested (returns within one poll wakeup).
  void run_rx(std::stop_token stop);

  // Sim thread: readable when inbound messages wait for deliver_inbound().
  int inbound_ready_fd() const noexcept { return inbox_.ready_fd(); }

  // Sim thread: publishes every waiting inbound message on the bus, in
  // arrival order, straight from its inbox slot. Returns how many.
  template <class Bus>
  std::size_t deliver_inbound(Bus& bus) {
    return inbox_.drain([&](const ipc::AnyMessage& message) {
      std::visit(
          [&](const auto& payload) {
            inbound_ = &payload;
            bus.publish(payload);
            inbound_ = nullptr;
          },
          message);
    });
  }

  // Sim thread, called by the bus for every published message: one sendmsg
  // of {2-byte id, the publisher's payload} to the active peer.
  template <ipc::Message T>
  void on(const T& payload) noexcept {
    // What the peer injected is not echoed back to it; what services
    // publish in response is.
    if (static_cast<const void*>(&payload) == inbound_) return;
    const std::uint64_t peer = peer_.load();
    if (peer == 0) {
      bump(tx_no_peer_);
      return;
    }
    sockaddr_in to = unpack_peer(peer);
    std::array<iovec, 2> iov{{
        {const_cast<std::uint8_t*>(kHeader<T>.data()), kHeaderSize},  // sendmsg never writes through iov_base
        {const_cast<T*>(&payload), sizeof(T)},
    }};
    msghdr header{};
    header.msg_name = &to;
    header.msg_namelen = sizeof to;
    header.msg_iov = iov.data();
    header.msg_iovlen = iov.size();
    // Never block the simulation on the network: a full socket buffer
    // loses this message and is counted.
    if (::sendmsg(fd_, &header, MSG_DONTWAIT) < 0) {
      bump(tx_errors_);
    } else {
      bump(tx_sent_);
    }
  }

  // Any thread.
  BridgeStats stats() const noexcept;
  std::uint64_t active_peer() const noexcept { return peer_.load(); }

 private:
  using Counter = std::atomic<std::uint64_t>;
  // Each counter has one writing thread, so a plain load+store (no locked
  // read-modify-write) is exact and keeps the send path cheap.
  static void bump(Counter& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void receive_batch();

  boost::asio::ip::udp::socket socket_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  ActivePeer peer_;
  SpscInbox<ipc::AnyMessage, kInboxCapacity> inbox_;
  const void* inbound_ = nullptr;  // sim thread: the payload being injected right now

  // rx thread writes
  std::array<Counter, kVerdictCount> rx_{};
  Counter rx_inbox_full_{0};
  Counter rx_errors_{0};
  Counter peer_changes_{0};
  // sim thread writes
  alignas(64) Counter tx_sent_{0};
  Counter tx_no_peer_{0};
  Counter tx_errors_{0};
};

}  // namespace sil::bridge
