// Dispatch: who is called, in what order, with which object.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"

namespace sil::ipc {
namespace {

// Every subscriber appends "<name>:<message>" to one shared log, so the
// order across subscribers is visible.
using Log = std::vector<std::string>;

// on(msg) form, one message type.
struct RequestReader {
  Log& log;
  std::vector<const void*> addresses;
  void on(const RevisionRequest& msg) {
    log.push_back("reader:request " + std::to_string(msg.request_id));
    addresses.push_back(&msg);
  }
};

// on(msg, bus) form; the bus type is not known when the subscriber is declared.
struct RequestAnswerer {
  Log& log;
  std::vector<const void*> addresses;
  void on(const RevisionRequest& msg, Publisher auto& bus) {
    log.push_back("answerer:request " + std::to_string(msg.request_id));
    addresses.push_back(&msg);
    RevisionResponse response{};
    response.request_id = msg.request_id + 1000;
    bus.publish(response);
  }
};

// A template handler takes every message (as the UDP bridge does).
struct Everything {
  Log& log;
  std::vector<const void*> addresses;
  template <Message T>
  void on(const T& msg) {
    log.push_back("everything:" + std::string(T::name));
    addresses.push_back(&msg);
  }
};

// Handles nothing; the bus must skip it without complaint.
struct Deaf {
  int calls = 0;
  void listen(const RevisionRequest&) { ++calls; }  // not called on(): never a handler
};

// The bus over the framework's catalogue; the subscribers' types deduced.
template <class... Subscribers>
MessageBus<FrameworkCatalogue, Subscribers...> framework_bus(Subscribers&... subscribers) {
  return MessageBus<FrameworkCatalogue, Subscribers...>(subscribers...);
}

struct HeartbeatOnly {
  Log& log;
  void on(const Heartbeat& msg) { log.push_back("heartbeat:" + std::to_string(msg.sequence)); }
};

TEST(MessageBus, DeliversToEverySubscriberWithAHandlerInDeclarationOrder) {
  // No two subscribers log the same way, so a reversed or shuffled order
  // cannot produce the same log.
  Log log;
  RequestReader first{log, {}};
  Everything second{log, {}};
  HeartbeatOnly third{log};
  auto bus = framework_bus(first, second, third);

  bus.publish(RevisionRequest{.request_id = 5});
  bus.publish(Heartbeat{.sequence = 9, .tick = 0, .sim_time_ns = 0});

  EXPECT_EQ(log, (Log{"reader:request 5", "everything:RevisionRequest", "everything:Heartbeat", "heartbeat:9"}));
}

TEST(MessageBus, CallsEachSubscriberOncePerMessageEvenWhenTwoAreAlike) {
  Log log;
  Everything a{log, {}};
  Everything b{log, {}};
  auto bus = framework_bus(a, b);

  bus.publish(Heartbeat{.sequence = 1, .tick = 0, .sim_time_ns = 0});

  EXPECT_EQ(a.addresses.size(), 1U);
  EXPECT_EQ(b.addresses.size(), 1U);
  EXPECT_EQ(log.size(), 2U);
}

TEST(MessageBus, SkipsSubscribersWithoutAHandlerForTheType) {
  Log log;
  Deaf deaf;
  HeartbeatOnly heartbeats{log};
  RequestReader reader{log, {}};
  auto bus = framework_bus(deaf, heartbeats, reader);

  bus.publish(RevisionRequest{.request_id = 1});
  bus.publish(RevisionResponse{});

  EXPECT_EQ(log, (Log{"reader:request 1"}));
  EXPECT_EQ(deaf.calls, 0);
}

TEST(MessageBus, CallsBothHandlerFormsAndPassesTheBusToTheTwoArgumentForm) {
  Log log;
  RequestReader reader{log, {}};
  RequestAnswerer answerer{log, {}};
  Everything everything{log, {}};
  auto bus = framework_bus(reader, answerer, everything);

  bus.publish(RevisionRequest{.request_id = 3});

  EXPECT_EQ(log, (Log{"reader:request 3", "answerer:request 3", "everything:RevisionResponse",
                      "everything:RevisionRequest"}));
}

TEST(MessageBus, DeliversANestedPublishDepthFirstBeforeTheOuterPublishContinues) {
  Log log;
  Everything before{log, {}};
  RequestAnswerer answerer{log, {}};
  Everything after{log, {}};
  auto bus = framework_bus(before, answerer, after);

  bus.publish(RevisionRequest{.request_id = 1});

  // The response reaches every subscriber (including `before` again) before
  // `after` sees the request.
  EXPECT_EQ(log, (Log{"everything:RevisionRequest", "answerer:request 1", "everything:RevisionResponse",
                      "everything:RevisionResponse", "everything:RevisionRequest"}));
}

TEST(MessageBus, HandsEverySubscriberThePublishersObjectWithoutCopying) {
  Log log;
  RequestReader reader{log, {}};
  RequestAnswerer answerer{log, {}};
  Everything everything{log, {}};
  auto bus = framework_bus(reader, answerer, everything);

  const RevisionRequest request{.request_id = 77};
  bus.publish(request);
  bus.publish<MsgId::RevisionRequest>(request);

  ASSERT_EQ(reader.addresses.size(), 2U);
  ASSERT_EQ(answerer.addresses.size(), 2U);
  ASSERT_EQ(everything.addresses.size(), 4U);  // two requests, two nested responses
  for (const void* address : reader.addresses) EXPECT_EQ(address, &request);
  for (const void* address : answerer.addresses) EXPECT_EQ(address, &request);
  EXPECT_NE(everything.addresses[0], &request) << "the first is the answerer's response";
  EXPECT_EQ(everything.addresses[1], &request);
  EXPECT_EQ(everything.addresses[3], &request);
}

TEST(MessageBus, PublishWithAnExplicitIdDeliversLikePublishWithout) {
  Log log;
  HeartbeatOnly heartbeats{log};
  auto bus = framework_bus(heartbeats);

  bus.publish<MsgId::Heartbeat>(Heartbeat{.sequence = 1, .tick = 0, .sim_time_ns = 0});
  bus.publish(Heartbeat{.sequence = 2, .tick = 0, .sim_time_ns = 0});

  EXPECT_EQ(log, (Log{"heartbeat:1", "heartbeat:2"}));
}

// A gate that passes everything through and notes who published each
// message it was asked about (every type is armed).
struct WhoGate {
  static constexpr bool is_publish_gate = true;
  std::vector<std::size_t> from;
  template <class T>
  bool armed() const noexcept {
    return true;
  }
  template <class T, class Deliver>
  void pass(const T& payload, std::size_t publisher, Deliver&& deliver) {
    from.push_back(publisher);
    deliver(payload);
  }
};

// A service's tick, as a simulation calls it: through sender<I>().
struct Ticker {
  void tick(Publisher auto& bus) { bus.publish(RevisionRequest{.request_id = 9}); }
};

TEST(MessageBus, TellsItsGateWhichSubscriberPublishedAndOutsideForTheBusItself) {
  Log log;
  WhoGate gate;
  RequestAnswerer answerer{log, {}};
  Ticker ticker;
  RequestReader reader{log, {}};
  auto bus = framework_bus(gate, answerer, ticker, reader);
  bus.publish(RevisionRequest{.request_id = 1});
  EXPECT_EQ(gate.from, (std::vector<std::size_t>{kPublishedOutside, 1})) << "the request from outside, the answer from 1";
  gate.from.clear();
  auto as_ticker = bus.sender<2>();
  ticker.tick(as_ticker);
  EXPECT_EQ(gate.from, (std::vector<std::size_t>{2, 1})) << "the ticker's request, then the answerer's response";
  EXPECT_EQ(log, (Log{"answerer:request 1", "reader:request 1", "answerer:request 9", "reader:request 9"}));
}

}  // namespace
}  // namespace sil::ipc
