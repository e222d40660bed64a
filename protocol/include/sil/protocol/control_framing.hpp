#pragma once
// A control-plane request or reply as a datagram: the 2-byte id (0xFFF0 for
// a request, 0xFFF1 for a reply, little-endian) and the protobuf body. The
// one encoder and decoder of that framing for C++ harnesses (harness::Link,
// sil's test clients); the simulator's side is the bridge's ControlFrame.
// Neither allocates once `out` and `reply` have grown to size.
#include <cstddef>
#include <span>
#include <string>

namespace sil::control {
class Reply;
class Request;
}  // namespace sil::control

namespace sil::protocol {

// Replaces `out` with the datagram for `request`.
void encode_request(const control::Request& request, std::string& out);

// Parses the Reply in `datagram` into `reply`: false unless the datagram is
// a ControlReply whose body parses.
bool decode_reply(std::span<const std::byte> datagram, control::Reply& reply);

}  // namespace sil::protocol
