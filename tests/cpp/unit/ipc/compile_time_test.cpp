// What the type system rejects. Each property is a static_assert over a
// concept: a requires-expression is only SFINAE-friendly inside a template,
// so a concept is what lets "does not compile" be checked without a
// compile-fail test. The one runtime test keeps gtest reporting this file.
#include <gtest/gtest.h>

#include <concepts>
#include <type_traits>
#include <utility>
#include <cstddef>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/declare.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/ipc/msg_id.hpp"

namespace sil::ipc {
namespace {

// A subscriber that takes everything, so the bus has something to call.
struct Sink {
  void on(const auto&) {}
};
// The bus needs a catalogue: the framework's three messages.
using Bus = MessageBus<FrameworkCatalogue, Sink>;

// A well-formed message that the framework's catalogue does not hold.
SIL_MESSAGE(Outsider, 2999, (sil::u32, value));
static_assert(Message<Outsider> && exact_layout<Outsider>);
// A bus over a catalogue without Heartbeat.
using NarrowBus = MessageBus<Catalogue<RevisionRequest, RevisionResponse>, Sink>;

template <class B, MsgId Id, class P>
concept CanPublishWithId = requires(B& bus, const P& payload) { bus.template publish<Id>(payload); };

template <class B, class P>
concept CanPublish = requires(B& bus, const P& payload) { bus.publish(payload); };

// The id and the payload type must agree.
static_assert(!CanPublishWithId<Bus, MsgId::RevisionResponse, RevisionRequest>);
static_assert(!CanPublishWithId<Bus, MsgId::RevisionRequest, RevisionResponse>);
static_assert(!CanPublishWithId<Bus, MsgId::Heartbeat, RevisionRequest>);
static_assert(!CanPublishWithId<Bus, MsgId::RevisionResponse, Heartbeat>);
static_assert(CanPublishWithId<Bus, MsgId::RevisionResponse, RevisionResponse>);
static_assert(CanPublishWithId<Bus, MsgId::RevisionRequest, RevisionRequest>);
static_assert(CanPublishWithId<Bus, MsgId::Heartbeat, Heartbeat>);

// Without an id, any message publishes under its own id; a non-message does not.
struct NotAMessage {
  int value;
};
static_assert(CanPublish<Bus, RevisionRequest>);
static_assert(CanPublish<Bus, RevisionResponse>);
static_assert(CanPublish<Bus, Heartbeat>);
static_assert(!CanPublish<Bus, NotAMessage>);
static_assert(!CanPublish<Bus, int>);

// A message publishes only on a bus whose catalogue holds it.
static_assert(!FrameworkCatalogue::contains<Outsider>);
static_assert(!CanPublish<Bus, Outsider>);
static_assert(!CanPublish<NarrowBus, Heartbeat>);
static_assert(CanPublish<NarrowBus, RevisionRequest>);
static_assert(CanPublish<MessageBus<Catalogue<Outsider>, Sink>, Outsider>);
static_assert(!CanPublish<MessageBus<Catalogue<Outsider>, Sink>, Heartbeat>);

// What a service publishes with on a gated bus (MessageBus::Sender) keeps
// every rule above: it is a Publisher, and the catalogue and the id still bind.
struct Gate {
  static constexpr bool is_publish_gate = true;
  template <class T>
  bool armed() const noexcept {
    return false;
  }
  template <class T, class Deliver>
  void pass(const T&, std::size_t, Deliver&&) {}
};
using GatedNarrowBus = MessageBus<Catalogue<RevisionRequest, RevisionResponse>, Gate, Sink>;
using Sender = GatedNarrowBus::Sender<1>;
static_assert(GatedNarrowBus::kHasGate && !Bus::kHasGate);
static_assert(std::same_as<decltype(std::declval<GatedNarrowBus&>().sender<1>()), Sender>);
static_assert(std::same_as<decltype(std::declval<Bus&>().sender<0>()), Bus&>, "no gate: the bus itself");
static_assert(Publisher<Sender>);
static_assert(CanPublish<Sender, RevisionRequest>);
static_assert(!CanPublish<Sender, Heartbeat>);
static_assert(!CanPublish<Sender, Outsider>);
static_assert(!CanPublish<Sender, NotAMessage>);
static_assert(CanPublishWithId<Sender, MsgId::RevisionResponse, RevisionResponse>);
static_assert(!CanPublishWithId<Sender, MsgId::RevisionResponse, RevisionRequest>);

// The id -> type binding.
static_assert(std::same_as<FrameworkCatalogue::Payload<MsgId::RevisionRequest>, RevisionRequest>);
static_assert(std::same_as<FrameworkCatalogue::Payload<MsgId::RevisionResponse>, RevisionResponse>);
static_assert(std::same_as<FrameworkCatalogue::Payload<MsgId::Heartbeat>, Heartbeat>);

// Every catalogue entry is a Message with an exact layout and binds back to itself.
template <class T>
constexpr bool well_formed_entry() {
  return Message<T> && exact_layout<T> && std::same_as<FrameworkCatalogue::Payload<T::id>, T> && alignof(T) == 1;
}
static_assert([] {
  bool all = true;
  FrameworkCatalogue::for_each([&](auto type) { all = all && well_formed_entry<typename decltype(type)::type>(); });
  return all;
}());

// Things that are not messages.
static_assert(!Message<NotAMessage>);
static_assert(!Message<int>);

// The bus is not copyable (subscribers would be shared by two buses).
static_assert(!std::is_copy_constructible_v<Bus>);
static_assert(!std::is_copy_assignable_v<Bus>);

// Services may rely on Publisher; the bus satisfies it.
static_assert(Publisher<Bus>);
static_assert(!Publisher<Sink>);

TEST(CompileTimeTyping, HoldsForEveryCatalogueMessage) {
  int visited = 0;
  FrameworkCatalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    EXPECT_TRUE(well_formed_entry<T>()) << T::name;
    ++visited;
  });
  EXPECT_EQ(static_cast<std::size_t>(visited), FrameworkCatalogue::size);
}

}  // namespace
}  // namespace sil::ipc
