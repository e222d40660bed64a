#include "sil/bridge/send_error.hpp"

#include <cerrno>

namespace sil::bridge {

SendError classify_send_error(int error) noexcept {
  switch (error) {
    case ECONNREFUSED: return SendError::connection_refused;
    case EAGAIN: return SendError::would_block;  // EWOULDBLOCK is the same value on Linux
    case ENOBUFS: return SendError::no_buffers;
    case EINTR: return SendError::interrupted;
    case EMSGSIZE: return SendError::message_too_large;
    default: return SendError::other;
  }
}

std::string_view to_string(SendError error) noexcept {
  switch (error) {
    case SendError::connection_refused: return "econnrefused";
    case SendError::would_block: return "eagain";
    case SendError::no_buffers: return "enobufs";
    case SendError::interrupted: return "eintr";
    case SendError::message_too_large: return "emsgsize";
    case SendError::other: return "other";
  }
  return "other";
}

}  // namespace sil::bridge
