#pragma once
// The message bus of one system: publish a typed payload of its catalogue,
// and every subscriber that has a handler for that type is called with a
// reference to the publisher's object. The subscriber set is fixed at compile time, so dispatch is a
// sequence of direct (inlinable) calls: no lookup, no type erasure, no
// indirect call, no allocation, no copy.
//
// A subscriber handles a message by declaring one of
//     void on(const T& msg, Bus& bus);   // may publish in response
//     void on(const T& msg);
// for concrete T, or as a template to take every message (the UDP bridge).
// Handlers run depth-first: a message published inside a handler is
// delivered to all subscribers before the outer publish continues, so a
// handler that answers its own message type loops forever.
//
// A gate: when the first subscriber declares `is_publish_gate`, each
// publication first asks it `armed<T>()`; an armed type is handed to its
// `pass(payload, from, deliver)`, which calls deliver with what the
// subscribers get instead (fault injection, sil/core/faults.hpp). `from` is
// the position of the subscriber that published it (kPublishedOutside: somebody
// holding the bus, such as the bridge or a test): a handler on a gated bus is
// given a Sender<I>, the bus as subscriber I publishes on it, and so is a
// simulation's service in tick() (sender<I>()). Who publishes is a template
// argument, so a publication whose type has no fault costs what it costs
// without a gate: one byte load. A bus without a gate compiles to exactly the
// direct calls above, handlers are given the bus itself.
#include <cstddef>
#include <tuple>
#include <utility>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/msg_id.hpp"

namespace sil::ipc {

// A gate's `from` for a publication made on the bus itself, not by a subscriber.
inline constexpr std::size_t kPublishedOutside = static_cast<std::size_t>(-1);

template <AnyCatalogue C, class... Subscribers>
class MessageBus {
  template <class First = void, class...>
  struct FirstOf {
    using type = First;
  };
  using First = typename FirstOf<Subscribers...>::type;

 public:
  using Catalogue = C;
  // The first subscriber is a gate (see above).
  static constexpr bool kHasGate = requires { First::is_publish_gate; };

  // The bus as subscriber I publishes on it, on a gated bus: the gate is
  // told who published. Satisfies Publisher; holds one reference.
  template <std::size_t I>
  class Sender {
   public:
    using Catalogue = C;
    explicit Sender(MessageBus& bus) noexcept : bus_(bus) {}

    template <MsgId Id>
    void publish(const typename C::template Payload<Id>& payload) {
      bus_.template dispatch<I>(payload);
    }
    template <Message T>
      requires C::template contains<T>
    void publish(const T& payload) {
      bus_.template dispatch<I>(payload);
    }

   private:
    MessageBus& bus_;
  };

  explicit MessageBus(Subscribers&... subscribers) noexcept : subscribers_{subscribers...} {}

  MessageBus(const MessageBus&) = delete;  // subscribers keep no pointer to a copy
  MessageBus& operator=(const MessageBus&) = delete;

  // bus.publish<MsgId::RevisionResponse>(payload): the payload must be the
  // type bound to that id in this catalogue; anything else fails to compile.
  template <MsgId Id>
  void publish(const typename C::template Payload<Id>& payload) {
    dispatch<kPublishedOutside>(payload);
  }

  // bus.publish(payload): the id is the payload type's own; a message that
  // is not in this system's catalogue (sil::Messages<...>) fails to compile.
  // A constraint, not a static_assert in the body, so that concepts such as
  // Publisher and `requires { bus.publish(m); }` see the rejection too.
  template <Message T>
    requires C::template contains<T>
  void publish(const T& payload) {
    dispatch<kPublishedOutside>(payload);
  }

  // What subscriber I publishes with: a Sender<I> on a gated bus, else the
  // bus itself (a reference). For an owner that calls a subscriber's own
  // publishing code, such as a simulation ticking its services.
  template <std::size_t I>
  decltype(auto) sender() noexcept {
    static_assert(I < sizeof...(Subscribers), "no subscriber at that position");
    if constexpr (kHasGate) {
      return Sender<I>(*this);
    } else {
      return (*this);
    }
  }

  // For a gate handing back what it held (a delayed message): every
  // subscriber gets it, without passing the gate again.
  template <Message T>
    requires C::template contains<T>
  void deliver_past_gate(const T& payload) {
    deliver_all(payload, std::index_sequence_for<Subscribers...>{});
  }

  // The gate, for a bus that has one.
  auto& gate() noexcept
    requires(kHasGate)
  {
    return std::get<0>(subscribers_);
  }

 private:
  template <std::size_t From, class T>
  void dispatch(const T& payload) {
    if constexpr (kHasGate) {
      auto& gate = std::get<0>(subscribers_);
      if (gate.template armed<T>()) [[unlikely]] {
        gate.pass(payload, From, [this](const T& passed) { deliver_past_gate(passed); });
        return;
      }
    }
    deliver_all(payload, std::index_sequence_for<Subscribers...>{});
  }

  template <class T, std::size_t... I>
  void deliver_all(const T& payload, std::index_sequence<I...>) {
    (deliver<I>(std::get<I>(subscribers_), payload), ...);
  }

  template <std::size_t I, class S, class T>
  void deliver(S& subscriber, const T& payload) {
    decltype(auto) bus = sender<I>();
    if constexpr (requires { subscriber.on(payload, bus); }) {
      subscriber.on(payload, bus);
    } else if constexpr (requires { subscriber.on(payload); }) {
      subscriber.on(payload);
    }
  }

  std::tuple<Subscribers&...> subscribers_;
};

// What a service handler may rely on when it publishes.
template <class B>
concept Publisher = requires(B& bus, const RevisionRequest& payload) { bus.publish(payload); };

}  // namespace sil::ipc

namespace sil {
using ipc::Publisher;  // `void tick(sil::Publisher auto& bus)` in a user's service
}  // namespace sil
