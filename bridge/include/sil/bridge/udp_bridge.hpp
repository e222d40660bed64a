#pragma once
// Connects the bus of one system to a harness over UDP.
//
// Threads (the owner creates both; the bridge starts none):
//  - the rx thread runs run_rx(): receives, validates, records the sender as
//    the active peer, and pushes accepted messages into the inbox;
//  - the simulation thread owns the bus. It waits on inbound_ready_fd(),
//    calls deliver_inbound(bus), and the bus calls on() for egress.
// An owner that runs no rx thread (sil-sim's realtime and step clocks, a HIL
// rig's own loop) calls receive_direct() on the simulation thread instead.
// The inbox and the active-peer word are the only state the two share.
// Who may send is decided first (the allow list), who receives telemetry by
// the peer rules (peer_policy.hpp), both on the receiving thread.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <type_traits>
#include <variant>

#include "sil/bridge/bridge_core.hpp"
#include "sil/bridge/inbox.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/ipc/message.hpp"

namespace sil::bridge {

template <ipc::AnyCatalogue C>
class UdpBridge : public BridgeCore {
 public:
  using Catalogue = C;
  static constexpr std::size_t kInboxCapacity = 1024;
  // Inbox slots only a control request may take: a flood of messages that
  // fills the inbox cannot also keep a harness from pausing the sim or
  // asking for its stats. Messages get the other kInboxCapacity - this.
  static constexpr std::size_t kControlReserve = 16;
  static constexpr std::size_t kMaxDatagramSize = ipc::kMaxDatagramSize<C>;

  // One inbox slot: a catalogue message or a control request, so both keep
  // their arrival order.
  template <class... Messages>
  using InboundVariant = std::variant<Messages..., ControlFrame>;
  using Inbound = typename C::template apply<InboundVariant>;

  explicit UdpBridge(const BridgeConfig& config) : BridgeCore(config, kMaxDatagramSize, tx_by_message_) {}

  // Rx thread: blocks until stop is requested (returns within one poll wakeup).
  void run_rx(std::stop_token stop) {
    rx_loop(std::move(stop), [](void* self) { static_cast<UdpBridge*>(self)->receive_batch(); }, this);
  }

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

  // Sim thread, for an owner that runs no rx thread (the realtime and step
  // clocks, a HIL rig's loop): reads what is waiting on the socket, validating and
  // counting it exactly as the rx thread does, and hands each item straight
  // to the bus or on_control, in arrival order. Stops when nothing is left,
  // after kRxBatch datagrams, or as soon as stop() is true after an item.
  // Returns how many items it handled.
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
  template <class Bus, class OnControl>
  std::size_t receive_direct(Bus& bus, OnControl&& on_control) {
    return receive_direct(bus, on_control, [] { return false; });
  }

  // Sim thread, called by the bus for every published message: one sendmsg
  // of {2-byte id, the publisher's payload} to the active peer.
  template <ipc::Message T>
  void on(const T& payload) noexcept {
    // What the peer injected is not echoed back to it; what services
    // publish in response is.
    if (is_injecting(&payload)) return;
    constexpr auto index = C::template index_of<T>;
    send_message(ipc::kHeader<T>, &payload, sizeof(T), static_cast<std::uint16_t>(index), tx_by_message_[index]);
  }

  // Sim thread, for bus subscribers: true while `payload` is the inbound
  // message being published (it came from the network), false for what a
  // service publishes, including in reaction to it.
  bool is_injecting(const void* payload) const noexcept { return payload == inbound_; }

  // Any thread.
  BridgeStats stats() const {
    BridgeStats s;
    fill_stats(s);
    s.rx_by_message.resize(C::size);
    s.tx_by_message.resize(C::size);
    for (std::size_t i = 0; i < C::size; ++i) {
      s.rx_by_message[i] = rx_by_message_[i].load(std::memory_order_relaxed);
      s.tx_by_message[i] = tx_by_message_[i].load(std::memory_order_relaxed);
      s.tx_sent += s.tx_by_message[i];
    }
    return s;
  }

 private:
  // Datagrams read per wakeup: bounds the time one wakeup can take, and the
  // rx thread publishes (one eventfd write) per batch, not per message.
  static constexpr int kRxBatch = 64;
  enum class Received : std::uint8_t { nothing, dropped, accepted };

  void receive_batch() {
    Inbound scratch;  // takes what arrives while the inbox is full, to validate and count it
    for (int i = 0; i < kRxBatch; ++i) {
      Inbound* slot = inbox_.claim();
      const Received received = receive_one(slot != nullptr ? *slot : scratch);
      if (received == Received::nothing) break;
      if (received != Received::accepted) continue;
      const bool control = slot != nullptr && std::holds_alternative<ControlFrame>(*slot);
      if (slot != nullptr && (control || inbox_.free_beyond(kControlReserve))) {
        inbox_.commit();
      } else {
        count_inbox_full();
      }
    }
    inbox_.publish();
  }

  // One recvmsg: validated and counted; an accepted item is in `out`.
  Received receive_one(Inbound& out) {
    // Room for the largest valid datagram (a message or a control request)
    // and no more: for anything longer, MSG_TRUNC makes the kernel report
    // the real length and flag the cut.
    alignas(8) std::array<std::byte, std::max(kMaxDatagramSize, ipc::kHeaderSize + ControlFrame::kMaxSize)> buffer;
    Datagram datagram;
    const Read read = read_one(buffer, datagram);
    if (read == Read::nothing) return Received::nothing;
    if (read == Read::not_allowed) return Received::dropped;
    PeerClaim claim = PeerClaim::ordinary;
    if (ipc::is_control_request(datagram.bytes)) {
      claim = make_control_frame(datagram, out.template emplace<ControlFrame>());
    } else {
      const Verdict verdict = ipc::decode_datagram_into<C>(datagram.bytes, datagram.truncated, out);
      count_verdict(verdict);
      if (verdict != Verdict::accepted) return Received::dropped;
      bump(rx_by_message_[out.index()]);
    }
    // A valid datagram, message or control request: under the peer rules
    // its sender may become the peer, so what an Advance publishes reaches
    // the harness that asked; a query (GetStats, GetCatalogue) never makes it.
    accept_sender(datagram, claim);
    return Received::accepted;
  }

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

  SpscInbox<Inbound, kInboxCapacity> inbox_;
  const void* inbound_ = nullptr;  // sim thread: the payload being injected right now
  Inbound direct_;                 // sim thread: the item receive_direct is delivering
  std::array<Counter, C::size> rx_by_message_{};               // receiving thread writes
  alignas(64) std::array<Counter, C::size> tx_by_message_{};  // sim thread writes
};

}  // namespace sil::bridge
