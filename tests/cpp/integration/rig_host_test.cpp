// A rig's own loop: RigHost on a thread of the test's (the rig's thread,
// its only owner), a harness on the test's thread speaking the control
// plane, and a driver thread handing readings over through a DriverInbox.
// Under ThreadSanitizer in make sanitize (integration_tests).
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <atomic>
#include <cstdint>
#include <stop_token>
#include <thread>
#include <vector>

#include "sil/core/driver_inbox.hpp"
#include "sil/core/rig_host.hpp"
#include "sil_control.pb.h"
#include "sim_harness.hpp"
#include "test_system.hpp"
#include "thermal/messages.hpp"
#include "wait.hpp"

namespace sil::core {
namespace {

using test::Harness;

// Every PlantTemperature the rig's bus carries, on the rig's thread.
struct ReadingWitness {
  std::vector<double> temperatures;
  std::atomic<std::size_t> count{0};
  void on(const thermal::PlantTemperature& reading) {
    temperatures.push_back(reading.temperature_c);
    count.store(temperatures.size());
  }
};

// The rig: its loop polls the socket and the driver inbox and ticks on
// request, on one thread that alone touches the simulation.
class Rig {
 public:
  explicit Rig(ReadingWitness& witness, bridge::PeerRules peer = {})
      : bridge_({.bind_address = "127.0.0.1", .port = 0, .peer = peer}),
        host_(sim_, bridge_, {}, witness),
        thread_([this](std::stop_token stop) { loop(stop); }) {}
  ~Rig() { stop(); }
  // Stops the rig's thread; what it touched may be read afterwards.
  void stop() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    thread_.join();
  }
  std::uint16_t port() const { return bridge_.port(); }
  std::uint64_t active_peer() const { return bridge_.active_peer(); }
  DriverInbox<test::Catalogue>& readings() { return readings_; }
  void request_ticks(std::uint64_t n) { ticks_wanted_.fetch_add(n); }

 private:
  void loop(std::stop_token stop) {
    std::array<pollfd, 2> fds{{{host_.socket_fd(), POLLIN, 0}, {readings_.ready_fd(), POLLIN, 0}}};
    while (!stop.stop_requested()) {
      const int peer_due_ms = host_.expire_idle_peer();
      ::poll(fds.data(), fds.size(), peer_due_ms < 0 ? 5 : std::min(peer_due_ms, 5));
      host_.receive();
      readings_.deliver(host_.bus());
      for (; ticks_done_ < ticks_wanted_.load(); ++ticks_done_) host_.tick();
    }
  }

  test::Sim sim_{100};
  test::Bridge bridge_;
  RigHost<test::Sim, test::Bridge, ReadingWitness> host_;
  DriverInbox<test::Catalogue> readings_;
  std::atomic<std::uint64_t> ticks_wanted_{0};
  std::uint64_t ticks_done_ = 0;
  std::jthread thread_;  // last: starts once everything it uses exists
};

control::Request hello() {
  control::Request request;
  request.mutable_hello()->set_catalogue_hash(test::kHash);
  return request;
}

TEST(RigHost, AnswersTheControlPlaneFromTheRigsLoop) {
  ReadingWitness witness;
  Rig rig(witness);
  Harness harness(rig.port());

  const control::Reply ready = harness.call(hello());
  ASSERT_TRUE(ready.has_ready()) << ready.DebugString();
  EXPECT_EQ(ready.ready().catalogue_hash(), test::kHash);
  EXPECT_TRUE(ready.ready().catalogue_matches());
  EXPECT_EQ(ready.ready().clock(), "realtime");
  EXPECT_EQ(ready.ready().rate_hz(), 100U);

  control::Request catalogue;
  catalogue.mutable_get_catalogue();
  const control::Reply described = harness.call(catalogue);
  ASSERT_TRUE(described.has_catalogue());
  EXPECT_EQ(described.catalogue().messages_size(), static_cast<int>(test::Catalogue::size));

  rig.request_ticks(3);
  ASSERT_TRUE(test::wait_until([&] {
    control::Request stats;
    stats.mutable_get_stats();
    return harness.call(stats).stats().ticks() == 3;
  }));
}

TEST(RigHost, PublishesWhatTheHarnessSendsAtOnceAndTheServicesAnswer) {
  ReadingWitness witness;
  Rig rig(witness);
  Harness harness(rig.port());
  ASSERT_TRUE(harness.call(hello()).has_ready());

  harness.inject(ipc::RevisionRequest{.request_id = 4242});
  // The answer comes without a tick: the rig's loop published the request
  // when it read it, and RevisionService answered within that publish.
  std::vector<test::Bytes> before;
  control::Request stats;
  stats.mutable_get_stats();
  const control::Reply reply = harness.call(stats, &before);
  ASSERT_TRUE(reply.has_stats());
  EXPECT_EQ(reply.stats().ticks(), 0U);
  bool answered = false;
  for (const auto& datagram : before) {
    const auto decoded = test::decode_datagram(datagram);
    if (const auto* response = std::get_if<ipc::RevisionResponse>(&decoded.message); decoded.accepted() && response) {
      answered = response->request_id == 4242U;
    }
  }
  EXPECT_TRUE(answered) << "no RevisionResponse for the injected request before the stats reply";
}

TEST(RigHost, DropsAnIdlePeerWhileNobodySends) {
  ReadingWitness witness;
  Rig rig(witness, {.idle_timeout = std::chrono::milliseconds(50)});
  Harness harness(rig.port());
  ASSERT_TRUE(harness.call(hello()).has_ready());  // the Hello made it the peer
  // Silent from here on: the rig's loop alone must notice.
  ASSERT_TRUE(test::wait_until([&] { return rig.active_peer() == 0; }));
  control::Request stats;
  stats.mutable_get_stats();
  EXPECT_EQ(harness.call(stats).stats().peer_expiries(), 1U);
}

TEST(RigHost, RefusesToBeSteppedPausedOrSpedUpAndSaysWhy) {
  ReadingWitness witness;
  Rig rig(witness);
  Harness harness(rig.port());
  control::Request advance;
  advance.mutable_advance()->set_ticks(1);
  control::Request pause;
  pause.mutable_pause();
  control::Request speed;
  speed.mutable_set_speed()->set_speed(2.0);
  for (const auto& request : {advance, pause, speed}) {
    const control::Reply reply = harness.call(request);
    ASSERT_TRUE(reply.has_error()) << reply.DebugString();
    EXPECT_EQ(reply.error().code(), control::Error::WRONG_CLOCK);
    EXPECT_NE(reply.error().message().find("this rig runs its own loop"), std::string::npos) << reply.error().message();
  }
  control::Request stats;
  stats.mutable_get_stats();
  EXPECT_EQ(harness.call(stats).stats().ticks(), 0U) << "a refused advance ran nothing";
}

TEST(DriverInbox, ADriverThreadsReadingsArriveInOrderAndNoneIsLost) {
  ReadingWitness witness;
  Rig rig(witness);
  constexpr int kReadings = 20'000;
  std::atomic<std::uint64_t> refused{0};
  std::jthread driver([&] {
    for (int i = 0; i < kReadings; ++i) {
      // A real driver would drop (post never blocks); this one waits, so
      // every reading must arrive. Bounded: the loop delivers every 5 ms.
      for (int attempt = 0; !rig.readings().post(thermal::PlantTemperature{.temperature_c = i, .heater_power_w = 0.0});
           ++attempt) {
        ASSERT_LT(attempt, 1'000'000) << "the rig's loop stopped delivering";
        refused.fetch_add(1);
        std::this_thread::yield();
      }
    }
  });
  driver.join();
  ASSERT_TRUE(test::wait_until([&] { return witness.count.load() == kReadings; }));
  rig.stop();
  EXPECT_EQ(rig.readings().dropped(), refused.load()) << "every refused post is counted";
  ASSERT_EQ(witness.temperatures.size(), static_cast<std::size_t>(kReadings));
  for (int i = 0; i < kReadings; ++i) ASSERT_EQ(witness.temperatures[static_cast<std::size_t>(i)], i) << i;
}

TEST(DriverInbox, AFullInboxRefusesAndCountsInsteadOfBlocking) {
  DriverInbox<test::Catalogue, 8> inbox;
  int accepted = 0;
  for (int i = 0; i < 20; ++i) accepted += inbox.post(thermal::HeaterCommand{.power_w = i}) ? 1 : 0;
  EXPECT_EQ(accepted, 8);
  EXPECT_EQ(inbox.dropped(), 12U);
}

}  // namespace
}  // namespace sil::core
