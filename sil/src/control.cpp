#include "sil/core/control.hpp"


#include "sil/ipc/catalogue_info.hpp"
#include "sil/protocol/catalogue_proto.hpp"
#include "sil_control.pb.h"

#include <google/protobuf/stubs/logging.h>

namespace sil::core {

namespace pb = ::sil::control;

std::string_view to_string(ClockMode mode) noexcept {
  switch (mode) {
    case ClockMode::realtime: return "realtime";
    case ClockMode::fast: return "fast";
    case ClockMode::step: return "step";
  }
  return "?";
}

std::optional<ClockMode> parse_clock_mode(std::string_view text) noexcept {
  for (const ClockMode mode : {ClockMode::realtime, ClockMode::fast, ClockMode::step}) {
    if (text == to_string(mode)) return mode;
  }
  return std::nullopt;
}

namespace {

ControlError invalid(std::uint32_t sequence, std::string message) {
  return {sequence, ControlErrorCode::invalid_argument, std::move(message)};
}

std::variant<AdvanceCommand, ControlError> parse_advance(std::uint32_t sequence, const pb::Advance& advance,
                                                         const ipc::CatalogueInfo& catalogue) {
  AdvanceCommand command;
  if (advance.has_until()) {
    const pb::Until& until = advance.until();
    if (advance.ticks() != 0 || advance.duration_ns() != 0) {
      return invalid(sequence, "advance: give either ticks, duration_ns or until (with limit_ns), not several");
    }
    if (until.limit_ns() == 0) return invalid(sequence, "advance.until: limit_ns must be > 0");
    if (until.msg_id() > 0xFFFF) return invalid(sequence, "advance.until: msg_id " + std::to_string(until.msg_id()) + " is not a MsgId");
    WatchSpec spec{static_cast<std::uint16_t>(until.msg_id()), std::nullopt};
    if (!until.field().empty()) {
      FieldMatch match{until.field(), std::int64_t{0}};
      switch (until.equals().value_case()) {
        case pb::FieldValue::kIntValue: match.value = until.equals().int_value(); break;
        case pb::FieldValue::kFloatValue: match.value = until.equals().float_value(); break;
        case pb::FieldValue::kTextValue: match.value = until.equals().text_value(); break;
        case pb::FieldValue::VALUE_NOT_SET:
          return invalid(sequence, "advance.until: field '" + until.field() + "' needs a value in equals");
      }
      spec.match = std::move(match);
    }
    if (auto problem = validate(spec, catalogue); !problem.empty()) return invalid(sequence, "advance.until: " + problem);
    command.duration_ns = until.limit_ns();
    command.until = std::move(spec);
    return command;
  }
  if ((advance.ticks() == 0) == (advance.duration_ns() == 0)) {
    return invalid(sequence, "advance: give exactly one of ticks or duration_ns (> 0), or an until");
  }
  command.ticks = advance.ticks();
  command.duration_ns = advance.duration_ns();
  return command;
}

void fill_time(pb::Reply& reply, std::uint32_t sequence, const HostStatus& status) {
  reply.set_sequence(sequence);
  reply.set_sim_time_ns(status.sim_time_ns);
  reply.set_tick(status.tick);
}

std::string serialize(const pb::Reply& reply) {
  std::string out;
  reply.SerializeToString(&out);
  return out;
}

void fill_counts(google::protobuf::RepeatedPtrField<pb::IdCount>* out, const std::vector<IdCount>& counts) {
  for (const auto& c : counts) {
    auto* entry = out->Add();
    entry->set_msg_id(c.msg_id);
    entry->set_name(std::string(c.name));
    entry->set_count(c.count);
  }
}

}  // namespace

std::variant<ControlCommand, ControlError> parse_control(std::span<const std::byte> bytes,
                                                       const ipc::CatalogueInfo& catalogue) {
  pb::Request request;
  // Protobuf logs a line to stderr for some malformed input (invalid UTF-8
  // in a string field), once per datagram: a sender could flood the log.
  // The error reply already names the problem.
  const google::protobuf::LogSilencer quiet;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return ControlError{0, ControlErrorCode::malformed,
                        "not a sil.control.Request (" + std::to_string(bytes.size()) + " bytes that do not parse)"};
  }
  const std::uint32_t seq = request.sequence();
  switch (request.command_case()) {
    case pb::Request::kHello:
      return ControlCommand{seq, HelloCommand{request.hello().catalogue_hash(), request.hello().bundle_bytes()}};
    case pb::Request::kAdvance: {
      auto advance = parse_advance(seq, request.advance(), catalogue);
      if (auto* error = std::get_if<ControlError>(&advance)) return std::move(*error);
      return ControlCommand{seq, std::get<AdvanceCommand>(std::move(advance))};
    }
    case pb::Request::kPause: return ControlCommand{seq, PauseCommand{}};
    case pb::Request::kResume: return ControlCommand{seq, ResumeCommand{}};
    case pb::Request::kSetSpeed: {
      const double speed = request.set_speed().speed();
      if (!valid_speed(speed)) {
        return invalid(seq, "set_speed: speed must be > 0 and <= 1e6, got " + std::to_string(speed));
      }
      return ControlCommand{seq, SetSpeedCommand{speed}};
    }
    case pb::Request::kGetStats: return ControlCommand{seq, GetStatsCommand{}};
    case pb::Request::kGetCatalogue: return ControlCommand{seq, GetCatalogueCommand{}};
    case pb::Request::kGetParams: {
      const auto& names = request.get_params().names();
      return ControlCommand{seq, GetParamsCommand{{names.begin(), names.end()}}};
    }
    case pb::Request::kSetParams: {
      SetParamsCommand command;
      for (const auto& setting : request.set_params().set()) {
        const auto value = protocol::read_param_value(setting.value());
        if (!value) return invalid(seq, "set_params: " + setting.name() + " is given no value");
        command.assignments.push_back({setting.name(), *value});
      }
      if (command.assignments.empty()) return invalid(seq, "set_params: no parameter given");
      return ControlCommand{seq, std::move(command)};
    }
    case pb::Request::kAddFault: {
      const pb::AddFault& add = request.add_fault();
      AddFaultCommand command;
      FaultSpec& spec = command.spec;
      const auto kind = parse_fault_kind(add.kind());
      if (!kind) {
        return invalid(seq, "add_fault: unknown kind '" + add.kind() +
                                "' (kinds: drop, delay, duplicate, freeze, field, rate_limit)");
      }
      spec.kind = *kind;
      if (add.msg_id() > 0xFFFF) return invalid(seq, "add_fault: msg_id " + std::to_string(add.msg_id()) + " is not a MsgId");
      spec.msg_id = static_cast<std::uint16_t>(add.msg_id());
      spec.probability = add.has_p() ? add.p() : 1.0;
      spec.seed = add.seed();
      spec.start_ns = add.start_ns();
      spec.end_ns = add.end_ns() == 0 ? kUntilRemoved : add.end_ns();
      spec.delay_ns = add.delay_ns();
      spec.min_interval_ns = add.min_interval_ns();
      spec.field = add.field();
      if (spec.kind == FaultKind::field) {
        const auto op = parse_field_op(add.op());
        if (!op) return invalid(seq, "add_fault: field: unknown op '" + add.op() + "' (set, offset, scale, noise)");
        spec.op = *op;
      }
      spec.value = add.value();
      spec.instance = add.instance();
      return ControlCommand{seq, std::move(command)};
    }
    case pb::Request::kRemoveFault: return ControlCommand{seq, RemoveFaultCommand{request.remove_fault().id()}};
    case pb::Request::kListFaults: return ControlCommand{seq, ListFaultsCommand{}};
    case pb::Request::COMMAND_NOT_SET: break;
  }
  return ControlError{seq, ControlErrorCode::unknown_command,
                      "the request carries no command this build knows (hello, advance, pause, resume, set_speed, "
                      "get_stats, get_catalogue, get_params, set_params, add_fault, remove_fault, list_faults)"};
}

std::string encode_ready(std::uint32_t sequence, const HostStatus& status, std::uint32_t client_catalogue_hash,
                         std::uint32_t bundle_bytes, const ipc::CatalogueInfo& catalogue, const ipc::BuildInfo& build) {
  pb::Reply reply;
  fill_time(reply, sequence, status);
  auto* ready = reply.mutable_ready();
  ready->set_version(std::string(build.version));
  ready->set_git_revision(std::string(build.git_revision));
  ready->set_catalogue_hash(catalogue.hash);
  ready->set_catalogue_matches(client_catalogue_hash == catalogue.hash);
  ready->set_clock(std::string(to_string(status.clock)));
  ready->set_rate_hz(status.rate_hz);
  ready->set_speed(status.speed);
  ready->set_paused(status.paused);
  ready->set_bundle_bytes(bundle_bytes);
  return serialize(reply);
}

std::string encode_advanced(std::uint32_t sequence, const HostStatus& status, const AdvanceOutcome& outcome) {
  pb::Reply reply;
  fill_time(reply, sequence, status);
  auto* advanced = reply.mutable_advanced();
  advanced->set_ticks_run(outcome.ticks_run);
  advanced->set_matched(outcome.matched);
  if (outcome.matched) {
    advanced->set_matched_payload(outcome.matched_payload.data(), outcome.matched_payload.size());
    advanced->set_matched_at_ns(outcome.matched_at_ns);
  }
  return serialize(reply);
}

std::string encode_ack(std::uint32_t sequence, const HostStatus& status) {
  pb::Reply reply;
  fill_time(reply, sequence, status);
  reply.mutable_ack();
  return serialize(reply);
}

std::string encode_stats(std::uint32_t sequence, const HostStatus& status, const StatsSnapshot& s) {
  pb::Reply reply;
  fill_time(reply, sequence, status);
  auto* stats = reply.mutable_stats();
  stats->set_ticks(s.ticks);
  stats->set_overruns(s.overruns);
  fill_counts(stats->mutable_published(), s.published);
  fill_counts(stats->mutable_received(), s.received);
  fill_counts(stats->mutable_sent(), s.sent);
  for (const auto& [reason, count] : s.drops) (*stats->mutable_drops())[std::string(reason)] = count;
  stats->set_tx_errors(s.tx_errors);
  stats->set_tx_no_peer(s.tx_no_peer);
  stats->set_peer_changes(s.peer_changes);
  for (const auto& [reason, count] : s.tx_errors_by_reason) {
    (*stats->mutable_tx_errors_by_reason())[std::string(reason)] = count;
  }
  stats->set_peer_expiries(s.peer_expiries);
  stats->set_rx_not_peer(s.rx_not_peer);
  stats->set_control_requests(s.control_requests);
  stats->set_control_errors(s.control_errors);
  stats->set_trace_digest(s.trace_digest);
  stats->set_trace_count(s.trace_count);
  for (const auto& [name, count] : s.counters) (*stats->mutable_counters())[std::string(name)] = count;
  stats->set_clock(std::string(to_string(status.clock)));
  stats->set_speed(status.speed);
  stats->set_paused(status.paused);
  return serialize(reply);
}

std::string encode_catalogue(std::uint32_t sequence, const HostStatus& status, const ipc::CatalogueInfo& catalogue) {
  pb::Reply reply;
  fill_time(reply, sequence, status);
  protocol::fill_catalogue(*reply.mutable_catalogue(), catalogue);
  return serialize(reply);
}

std::string encode_params(std::uint32_t sequence, const HostStatus& status, const ParamTable& table,
                          const std::vector<std::string>& names) {
  pb::Reply reply;
  fill_time(reply, sequence, status);
  auto* values = reply.mutable_params()->mutable_values();
  const auto add = [&](const ParamTable::Entry& entry) {
    auto* setting = values->Add();
    setting->set_name(entry.info.name);
    protocol::fill_param_value(*setting->mutable_value(), table.get(entry));
  };
  if (names.empty()) {
    for (const auto& entry : table.entries()) add(entry);
    return serialize(reply);
  }
  for (const auto& name : names) {
    if (const auto* entry = table.find(name)) add(*entry);
  }
  return serialize(reply);
}

std::string encode_faults(std::uint32_t sequence, const HostStatus& status, const FaultSet& faults,
                          std::uint32_t added) {
  pb::Reply reply;
  fill_time(reply, sequence, status);
  auto* out = reply.mutable_faults();
  out->set_available(faults.available());
  for (const auto kind : kFaultKinds) out->add_kinds(std::string(kind));
  out->set_added(added);
  for (const auto& fault : faults.faults()) {
    auto* state = out->add_faults();
    state->set_id(fault.id);
    state->set_affected(fault.affected);
    const FaultSpec& spec = fault.spec;
    auto* f = state->mutable_fault();
    f->set_kind(std::string(to_string(spec.kind)));
    f->set_msg_id(spec.msg_id);
    f->set_p(spec.probability);
    f->set_seed(spec.seed);
    f->set_start_ns(spec.start_ns);
    f->set_end_ns(spec.end_ns == kUntilRemoved ? 0 : spec.end_ns);
    f->set_delay_ns(spec.delay_ns);
    f->set_min_interval_ns(spec.min_interval_ns);
    if (spec.kind == FaultKind::field) {
      f->set_field(spec.field);
      f->set_op(std::string(to_string(spec.op)));
      f->set_value(spec.value);
    }
    f->set_instance(spec.instance);
  }
  return serialize(reply);
}

std::string encode_error(const ControlError& error, const HostStatus& status) {
  pb::Reply reply;
  fill_time(reply, error.sequence, status);
  auto* e = reply.mutable_error();
  e->set_code(static_cast<pb::Error::Code>(error.code));
  e->set_message(error.message);
  return serialize(reply);
}

}  // namespace sil::core
