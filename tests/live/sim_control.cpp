#include "sim_control.hpp"

#include "sil/protocol/control_framing.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sil::live {

std::uint32_t SimControl::send_request(control::Request request) {
  request.set_sequence(++sequence_);
  std::string datagram;
  protocol::encode_request(request, datagram);
  send(std::as_bytes(std::span{datagram.data(), datagram.size()}));
  return sequence_;
}

std::optional<control::Reply> SimControl::call(control::Request request, std::chrono::milliseconds within) {
  const std::uint32_t sequence = send_request(std::move(request));
  std::optional<control::Reply> reply;
  const bool answered = await(
      [&](std::span<const std::byte> bytes) {
        reply = control_reply(bytes);
        return reply && reply->sequence() == sequence;
      },
      within);
  if (!answered) return std::nullopt;
  return reply;
}

std::optional<control::Reply> control_reply(std::span<const std::byte> datagram) {
  control::Reply reply;
  if (!protocol::decode_reply(datagram, reply)) return std::nullopt;
  return reply;
}

control::Stats SimControl::stats() {
  control::Request request;
  request.mutable_get_stats();
  const auto reply = call(request, std::chrono::seconds{20});
  if (!reply || !reply->has_stats()) throw std::runtime_error("sil-sim did not answer GetStats");
  return reply->stats();
}

std::uint64_t count_for(const google::protobuf::RepeatedPtrField<control::IdCount>& counts, std::uint16_t msg_id) {
  for (const auto& entry : counts) {
    if (entry.msg_id() == msg_id) return entry.count();
  }
  return 0;
}

std::uint64_t drops_for(const control::Stats& stats, const std::string& reason) {
  const auto it = stats.drops().find(reason);
  return it == stats.drops().end() ? 0 : it->second;
}

}  // namespace sil::live
