#include "sil/protocol/control_framing.hpp"

#include "sil/ipc/datagram.hpp"
#include "sil/ipc/msg_id.hpp"
#include "sil_control.pb.h"

namespace sil::protocol {

namespace {
constexpr auto kRequestHeader = ipc::header_bytes(ipc::MsgId::ControlRequest);
}  // namespace

void encode_request(const control::Request& request, std::string& out) {
  out.assign(reinterpret_cast<const char*>(kRequestHeader.data()), kRequestHeader.size());
  request.AppendToString(&out);
}

bool decode_reply(std::span<const std::byte> datagram, control::Reply& reply) {
  if (datagram.size() < ipc::kHeaderSize ||
      ipc::datagram_id(datagram) != static_cast<std::uint16_t>(ipc::MsgId::ControlReply)) {
    return false;
  }
  const auto body = datagram.subspan(ipc::kHeaderSize);
  return reply.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

}  // namespace sil::protocol
