#pragma once
// The harness's bulk receive path, without Python: one thread reads a UDP
// socket with recvmmsg (a batch of datagrams per syscall) and hands them to
// the consumer through the bridge's SPSC inbox. The thread never touches a
// Python object, so it runs without the GIL and can be joined while the
// GIL is held.
//
// Loss is counted, never silent:
//  - kernel_drops: the socket's own drop counter (SO_RXQ_OVFL), as stamped
//    on the latest datagram received: datagrams the kernel dropped because
//    the socket buffer was full, since the socket was created;
//  - ring_overruns: datagrams read while the inbox was full (the consumer
//    fell behind by a whole ring), counted and discarded.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "sil/ipc/datagram.hpp"
#include "system.hpp"
#include "sil/bridge/inbox.hpp"

namespace sil::python {

// One received datagram as the kernel delivered it, not yet validated.
struct RawDatagram {
  std::uint32_t wire_length = 0;  // as sent; more than `length` when truncated
  std::uint16_t length = 0;       // bytes kept
  bool truncated = false;         // MSG_TRUNC: longer than any message
  std::array<std::byte, kMaxDatagramSize> bytes;

  std::span<const std::byte> view() const noexcept { return {bytes.data(), length}; }
};

struct ReceiverCounters {
  std::uint64_t received = 0;       // datagrams read from the socket
  std::uint64_t ring_overruns = 0;  // of those, discarded because the inbox was full
  std::uint64_t kernel_drops = 0;   // the socket's drop counter (SO_RXQ_OVFL)
  std::uint64_t receive_calls = 0;  // recvmmsg calls that returned datagrams
  std::uint64_t gro_runs = 0;       // receives that carried a UDP_GRO run of several datagrams
  std::uint64_t errors = 0;         // recvmmsg/poll failures other than "nothing there"
  std::uint64_t refused = 0;        // ECONNREFUSED: the connected peer's port is closed
};

class DatagramReceiver {
 public:
  static constexpr std::size_t kRingCapacity = std::size_t{1} << 16;
  static constexpr std::size_t kMaxBatch = 1024;

  // Reads a duplicate of fd (the caller keeps its own and may go on sending
  // on it). batch: receives per recvmmsg, 1..kMaxBatch. Turns on
  // SO_RXQ_OVFL. gro: also UDP_GRO, so a run of equal-sized datagrams a
  // local sender sent with UDP GSO arrives as one receive (split here into
  // its datagrams); each of the batch slots is then 64 KiB. Throws
  // std::system_error or std::invalid_argument.
  DatagramReceiver(int fd, std::size_t batch, bool gro = false);
  ~DatagramReceiver();
  DatagramReceiver(const DatagramReceiver&) = delete;
  DatagramReceiver& operator=(const DatagramReceiver&) = delete;

  // Asks the kernel for a receive buffer of `bytes` (SO_RCVBUF, capped by
  // net.core.rmem_max) and returns what it granted (getsockopt: the kernel
  // doubles the request for its bookkeeping).
  int set_receive_buffer(int bytes);
  int receive_buffer() const;

  // start() creates the receiving thread (no-op while it runs); stop()
  // wakes and joins it. Datagrams already in the inbox stay there.
  void start();
  void stop() noexcept;
  bool running() const noexcept { return thread_.joinable(); }

  // Consumer side (one thread at a time). wait() blocks up to timeout for
  // the inbox to become non-empty, and returns at once while the thread is
  // not running (nothing would fill it). drain() passes every
  // datagram in the inbox to fn, in arrival order, and returns the count.
  bool wait(std::chrono::nanoseconds timeout) const noexcept;
  template <class Fn>
  std::size_t drain(Fn&& fn) {
    return inbox_.drain(std::forward<Fn>(fn));
  }

  ReceiverCounters counters() const noexcept;

 private:
  using Inbox = bridge::SpscInbox<RawDatagram, kRingCapacity>;
  struct Batch;  // the recvmmsg scratch: headers, iovecs, control buffers

  void run() noexcept;
  void signal_stop() noexcept;
  // Reads until the socket is empty (bounded); false when stop was requested.
  void receive_available() noexcept;
  std::size_t receive_batch() noexcept;

  int fd_ = -1;
  int stop_fd_ = -1;
  Inbox inbox_;
  std::unique_ptr<Batch> batch_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // Written by the receiving thread only; read by anyone.
  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> ring_overruns_{0};
  std::atomic<std::uint64_t> kernel_drops_{0};
  std::atomic<std::uint64_t> receive_calls_{0};
  std::atomic<std::uint64_t> gro_runs_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace sil::python
