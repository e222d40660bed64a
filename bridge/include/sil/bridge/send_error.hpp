#pragma once
// Why a sendmsg failed, in the classes the stats report. A failed send loses
// that one datagram; the loop that sent it goes on.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sil::bridge {

enum class SendError : std::uint8_t {
  connection_refused,  // ECONNREFUSED: an ICMP port-unreachable came back
  would_block,         // EAGAIN / EWOULDBLOCK: the socket buffer is full
  no_buffers,          // ENOBUFS: the kernel is out of buffer space
  interrupted,         // EINTR
  message_too_large,   // EMSGSIZE
  other,
};
inline constexpr std::size_t kSendErrorCount = 6;

SendError classify_send_error(int error) noexcept;

// "econnrefused", "eagain", "enobufs", "eintr", "emsgsize", "other".
std::string_view to_string(SendError error) noexcept;

}  // namespace sil::bridge
