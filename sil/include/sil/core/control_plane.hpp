#pragma once
// The control plane as every host answers it, whoever owns the loop: it
// parses each request, answers the ones that do not depend on the clock
// (Hello, GetStats, GetCatalogue, parameters and faults) and errors, and hands the others (Advance,
// Pause, Resume, SetSpeed) back to the host that runs the clock. It owns the
// bus subscribers the answers read: the Watch an advance-until arms, the
// trace digest and the per-message publish counts, and it sends every reply,
// so the owner's Extra subscribers that declare on_control_request(span) /
// on_control_reply(span) see each request's and reply's bytes in order.
// SimHost (sil-sim's asio loop) and RigHost (a HIL rig's own loop) both
// answer through it.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "sil/bridge/bridge_core.hpp"
#include "sil/core/control.hpp"
#include "sil/core/publish_counter.hpp"
#include "sil/core/state_requests.hpp"
#include "sil/core/trace_digest.hpp"
#include "sil/core/watch.hpp"
#include "sil/ipc/catalogue_info.hpp"

namespace sil::core {

template <class Sim, class Bridge, class... Extra>
class ControlPlane {
 public:
  using Catalogue = typename Sim::Catalogue;
  static_assert(std::is_same_v<Catalogue, typename Bridge::Catalogue>, "the bridge serves another system");

  ControlPlane(Sim& sim, Bridge& bridge, LogSink log, Extra&... extra)
      : sim_(sim),
        bridge_(bridge),
        log_(std::move(log)),
        extras_(extra...),
        catalogue_(sim.catalogue()),
        watch_(Catalogue::max_payload_size),
        digest_(sim.clock()) {}
  ControlPlane(const ControlPlane&) = delete;  // the bus holds references to the subscribers
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Bus subscribers, in the order a host puts them on its bus.
  Watch& watch() noexcept { return watch_; }
  TraceDigest& digest() noexcept { return digest_; }
  PublishCounter<Catalogue>& published() noexcept { return published_; }

  const Watch& watch() const noexcept { return watch_; }
  const TraceDigest& trace() const noexcept { return digest_; }
  const ipc::CatalogueInfo& catalogue() const noexcept { return catalogue_; }
  std::uint64_t requests() const noexcept { return requests_; }
  std::uint64_t errors() const noexcept { return errors_; }

  StatsSnapshot stats(std::uint64_t overruns) const {
    const bridge::BridgeStats b = bridge_.stats();
    StatsSnapshot s;
    s.ticks = sim_.clock().tick();
    s.overruns = overruns;
    std::size_t index = 0;
    for (const auto& info : catalogue_.messages) {
      const auto id = static_cast<std::uint16_t>(info.id);
      s.published.push_back({id, info.name, published_.count(index)});
      s.received.push_back({id, info.name, b.rx_by_message[index]});
      s.sent.push_back({id, info.name, b.tx_by_message[index]});
      ++index;
    }
    for (std::size_t v = 1; v < ipc::kVerdictCount; ++v) {
      s.drops.emplace_back(ipc::to_string(static_cast<ipc::Verdict>(v)), b.rx[v]);
    }
    s.drops.emplace_back("inbox_full", b.rx_inbox_full);
    s.drops.emplace_back("not_allowed", b.rx_not_allowed);
    s.tx_errors = b.tx_errors;
    for (std::size_t e = 0; e < bridge::kSendErrorCount; ++e) {
      s.tx_errors_by_reason.emplace_back(bridge::to_string(static_cast<bridge::SendError>(e)),
                                         b.tx_errors_by_reason[e]);
    }
    s.tx_no_peer = b.tx_no_peer;
    s.peer_changes = b.peer_changes;
    s.peer_expiries = b.peer_expiries;
    s.rx_not_peer = b.rx_not_peer;
    s.control_requests = requests_;
    s.control_errors = errors_;
    s.trace_digest = digest_.digest();
    s.trace_count = digest_.count();
    s.counters = sim_.counters();
    return s;
  }

  // One request. Answers what it can: an error, Hello, GetStats,
  // GetCatalogue. Returns any other command, for the host's clock to carry
  // out (and answer with reply()).
  std::optional<ControlCommand> handle(const bridge::ControlFrame& frame, const HostStatus& status,
                                       std::uint64_t overruns) {
    ++requests_;
    std::apply([&](auto&... extra) { (observe_request(extra, frame.view()), ...); }, extras_);
    if (frame.too_large) {
      fail(frame.sender,
           {0, ControlErrorCode::too_large,
            "control request longer than " + std::to_string(bridge::ControlFrame::kMaxSize) + " bytes"},
           status);
      return std::nullopt;
    }
    auto parsed = parse_control(frame.view(), catalogue_);
    if (auto* error = std::get_if<ControlError>(&parsed)) {
      fail(frame.sender, std::move(*error), status);
      return std::nullopt;
    }
    auto& command = std::get<ControlCommand>(parsed);
    const std::uint64_t from = frame.sender;
    const std::uint32_t seq = command.sequence;
    if (const auto* hello = std::get_if<HelloCommand>(&command.action)) {
      if (hello->catalogue_hash != catalogue_.hash && log_) {
        log_("warning: a harness with catalogue hash " + std::to_string(hello->catalogue_hash) +
             " connected; this system has " + std::to_string(catalogue_.hash));
      }
      // Ready itself goes out in the old form; bundles start after it, so a
      // harness knows from Ready what is coming.
      const auto bundle_bytes = static_cast<std::uint32_t>(bridge_.bundle_bytes_for(hello->bundle_bytes));
      reply(from, encode_ready(seq, status, hello->catalogue_hash, bundle_bytes, catalogue_, sim_.build()));
      bridge_.bundle_for(from, bundle_bytes);
      return std::nullopt;
    }
    if (std::holds_alternative<GetStatsCommand>(command.action)) {
      reply(from, encode_stats(seq, status, stats(overruns)));
      return std::nullopt;
    }
    if (std::holds_alternative<GetCatalogueCommand>(command.action)) {
      reply(from, encode_catalogue(seq, status, catalogue_));
      return std::nullopt;
    }
    // Parameters and faults: applied now, between ticks, in arrival order
    // with messages.
    if (auto answer = answer_state_request(sim_, command, status)) {
      if (answer->refused) ++errors_;
      reply(from, answer->bytes);
      return std::nullopt;
    }
    return std::move(command);
  }

  void fail(std::uint64_t to, ControlError error, const HostStatus& status) {
    ++errors_;
    reply(to, encode_error(error, status));
  }

  // Sends a reply (after everything published before it); the Extras see it first.
  void reply(std::uint64_t to, const std::string& bytes) {
    const auto view = std::as_bytes(std::span{bytes.data(), bytes.size()});
    std::apply([&](auto&... extra) { (observe_reply(extra, view), ...); }, extras_);
    bridge_.send_control(to, view);
  }

 private:
  template <class E>
  static void observe_request(E& extra, std::span<const std::byte> request) {
    if constexpr (requires { extra.on_control_request(request); }) extra.on_control_request(request);
  }
  template <class E>
  static void observe_reply(E& extra, std::span<const std::byte> reply) {
    if constexpr (requires { extra.on_control_reply(reply); }) extra.on_control_reply(reply);
  }

  Sim& sim_;
  Bridge& bridge_;
  LogSink log_;
  std::tuple<Extra&...> extras_;
  const ipc::CatalogueInfo& catalogue_;  // the simulation's
  Watch watch_;
  TraceDigest digest_;
  PublishCounter<Catalogue> published_;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
};

}  // namespace sil::core
