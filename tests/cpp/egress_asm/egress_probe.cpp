// egress_probe: the send path compiled as sil-sim compiles it, in functions
// whose names check_egress_asm.py can find in `objdump -d`:
//   sil_probe_egress          bus.publish(RevisionResponse) on a bus whose
//                             one subscriber is the UdpBridge: the path the
//                             check inspects (no operator new, no malloc,
//                             no memcpy, no indirect call, one sendmsg);
//   sil_probe_copying_send    the same datagram built by copying into a
//                             fresh buffer: the check must reject it, which
//                             shows the check can fail.
// Run, it sends one datagram of each kind to its own bridge's socket (no
// peer, so the bridge counts it as tx_no_peer) and exits 0.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"

using EgressBus = sil::ipc::MessageBus<sil::test::Catalogue, sil::test::Bridge>;

extern "C" [[gnu::noinline, gnu::used]] void sil_probe_egress(EgressBus& bus,
                                                              const sil::ipc::RevisionResponse& payload) {
  bus.publish(payload);
}

extern "C" [[gnu::noinline, gnu::used]] std::size_t sil_probe_copying_send(int fd, const sockaddr_in& to,
                                                                          const void* body, std::size_t size) {
  std::vector<std::byte> datagram(2 + size);
  std::memcpy(datagram.data() + 2, body, size);
  iovec iov{datagram.data(), datagram.size()};
  msghdr header{};
  header.msg_name = const_cast<sockaddr_in*>(&to);
  header.msg_namelen = sizeof to;
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  return ::sendmsg(fd, &header, MSG_DONTWAIT) < 0 ? 0 : datagram.size();
}

int main() {
  sil::test::Bridge bridge({});
  EgressBus bus(bridge);
  const sil::ipc::RevisionResponse payload{};
  sil_probe_egress(bus, payload);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(bridge.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sil_probe_copying_send(bridge.socket_fd(), to, &payload, sizeof payload);
  return bridge.stats().tx_no_peer == 1 ? 0 : 1;
}
