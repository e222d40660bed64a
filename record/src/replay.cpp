#include "sil/record/replay.hpp"

#include <array>
#include <cstdio>
#include <cstring>

#include "sil/protocol/catalogue_proto.hpp"
#include "sil/record/reader.hpp"
#include "sil_record.pb.h"

namespace sil::record {

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

std::string to_json(const std::optional<TracedMessage>& message) {
  if (!message) return "null";
  return "{\"sim_time_ns\": " + std::to_string(message->sim_time_ns) + ", \"msg_id\": " +
         std::to_string(message->msg_id) + ", \"payload_hex\": \"" + hex(message->payload) + "\"}";
}

// The recorded injected message as the datagram it arrived as, checked
// against the catalogue with the rules a datagram from the network meets.
std::string injected_datagram(const Message& message, const ipc::CatalogueInfo& catalogue) {
  const std::string& payload = message.payload();
  const ipc::MessageInfo* info =
      message.msg_id() > 0xFFFF ? nullptr : catalogue.find(static_cast<std::uint16_t>(message.msg_id()));
  if (info == nullptr || info->size != payload.size()) {
    throw ReplayError("an injected message (id " + std::to_string(message.msg_id()) + ", " +
                      std::to_string(payload.size()) + " bytes) is not in this system's catalogue");
  }
  const auto header = ipc::header_bytes(info->id);
  std::string datagram(header.begin(), header.end());
  return datagram + payload;
}

}  // namespace

std::string to_json(const ReplayResult& result) {
  std::string out = "{\"event\": \"replay\", \"messages\": " + std::to_string(result.messages) +
                    ", \"injected\": " + std::to_string(result.injected) +
                    ", \"complete\": " + (result.complete ? "true" : "false") +
                    ", \"identical\": " + (result.identical() ? "true" : "false");
  if (const auto& d = result.first_divergence) {
    out += ", \"first_divergence\": {\"index\": " + std::to_string(d->index) + ", \"recorded\": " +
           to_json(d->recorded) + ", \"replayed\": " + to_json(d->replayed) + "}";
  }
  return out + "}";
}

Replay::Replay(std::span<const std::byte> file, const ipc::CatalogueInfo& catalogue) {
  Reader reader(file);
  Record record;
  std::uint64_t period_ns = 0;
  std::uint64_t last_ns = 0;
  bool any_message = false;
  while (reader.next(record)) {
    if (record.has_header()) {
      const Header& header = record.header();
      if (header.catalogue().hash() != catalogue.hash) {
        throw ReplayError("the recording was made with catalogue hash " + std::to_string(header.catalogue().hash()) +
                          " and this system has " + std::to_string(catalogue.hash) +
                          ": its messages are laid out differently, so it cannot be replayed");
      }
      if (header.rate_hz() == 0 || header.rate_hz() > 1'000'000'000u) {
        throw ReplayError("the recording's header has no valid tick rate (" + std::to_string(header.rate_hz()) + ")");
      }
      rate_hz_ = header.rate_hz();
      for (const auto& setting : header.params()) {
        const auto value = protocol::read_param_value(setting.value());
        if (!value) throw ReplayError("the recording's header gives parameter " + setting.name() + " no value");
        start_params_.push_back({setting.name(), *value});
      }
      period_ns = 1'000'000'000u / rate_hz_;
    } else if (record.has_footer()) {
      if (record.footer().dropped() != 0) {
        throw ReplayError("the recording dropped " + std::to_string(record.footer().dropped()) +
                          " messages (the writer fell behind), so it is incomplete and cannot be replayed");
      }
      complete_ = true;
      stop_at_ns_ = record.footer().end_sim_time_ns();
    } else {
      const Message& message = record.message();
      if (message.sim_time_ns() < last_ns) {
        throw ReplayError("record " + std::to_string(reader.records() - 1) + " goes back in simulated time");
      }
      last_ns = message.sim_time_ns();
      any_message = true;
      if (message.direction() == INJECTED) {
        if (message.sim_time_ns() % period_ns != 0) {
          throw ReplayError("an injected message at " + std::to_string(message.sim_time_ns()) +
                            " ns is not on a tick boundary of the recorded rate");
        }
        injected_.push_back({message.sim_time_ns(), injected_datagram(message, catalogue), false});
      } else if (message.direction() == CONTROL_REQUEST) {
        control::Request request;
        // A request that did not parse then changed nothing then.
        if (request.ParseFromString(message.payload()) &&
            (request.has_set_params() || request.has_add_fault() || request.has_remove_fault())) {
          injected_.push_back({message.sim_time_ns(), message.payload(), true});
        }
      } else if (message.direction() == PUBLISHED) {
        published_.push_back({message.sim_time_ns(), static_cast<std::uint16_t>(message.msg_id()), message.payload()});
      }
    }
  }
  if (reader.end() == ReadEnd::corrupt) throw ReplayError(reader.message());
  if (reader.records() == 0) throw ReplayError("the recording is empty: it has no header");
  if (reader.end() == ReadEnd::torn_tail) warning_ = reader.message();
  if (!complete_) stop_at_ns_ = any_message ? last_ns + period_ns : 0;  // run the last recorded tick too
  if (complete_ && last_ns > stop_at_ns_) throw ReplayError("the footer's end time is before the last message");
}

}  // namespace sil::record
