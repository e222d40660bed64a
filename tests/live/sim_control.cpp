#include "sim_control.hpp"

#include <stdexcept>
#include <string>

namespace sil::live {

std::optional<control::Reply> SimControl::call(control::Request request, std::chrono::milliseconds within) {
  request.set_sequence(++sequence_);
  const std::string body = request.SerializeAsString();
  std::vector<std::byte> datagram{std::byte{0xF0}, std::byte{0xFF}};
  for (const char c : body) datagram.push_back(static_cast<std::byte>(c));
  send(datagram);
  control::Reply reply;
  const std::uint32_t sequence = sequence_;
  const bool answered = await(
      [&](std::span<const std::byte> bytes) {
        return bytes.size() >= 2 && bytes[0] == std::byte{0xF1} && bytes[1] == std::byte{0xFF} &&
               reply.ParseFromArray(bytes.data() + 2, static_cast<int>(bytes.size() - 2)) &&
               reply.sequence() == sequence;
      },
      within);
  if (!answered) return std::nullopt;
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
