#pragma once
// The harness's end of a sim's UDP port, in C++: the one piece that frames a
// control request, sends it, and reads until its Reply (opening bundles,
// keeping the bus datagrams that come before it, setting aside what does
// not decode), without allocating per round trip. sil.StepLink's lockstep
// loop is built on it (python/src/step.cpp, docs/scenarios.md "Stepping in
// a loop: sil.StepLink"), and so are sil's own C++ test harnesses. The
// Python harness's counterpart is python/sil/transport.py.
//
// No threads and no Python objects here: a binding releases the GIL around
// wait_reply() and turns outcomes into exceptions.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sil::control {
class Reply;
class Request;
}  // namespace sil::control

namespace sil::harness {

// How many ticks one Advance may ask for, so that what they send fits the
// socket's receive buffer even when the sim sends faster than this process
// reads: the buffer bytes a tick took so far (learnt from each advance),
// doubled for ticks busier than the average. The kernel charges a datagram
// its buffer plus bookkeeping, so a datagram's cost is a guess on the safe
// side. NetworkTarget (python/sil/target_network.py) uses it too, as
// RxBudget of the system module.
class RxBudget {
 public:
  // The kernel's bookkeeping for one small datagram in a receive buffer
  // (measured ~830 bytes on Linux), with a margin; a datagram costs that
  // plus twice its length (a bundle can be 64 KiB).
  static constexpr std::size_t kBytesPerDatagram = 2048;
  static constexpr std::uint64_t kMaxChunkTicks = std::uint64_t{1} << 20;

  static constexpr std::size_t cost(std::size_t datagram_length) noexcept {
    return kBytesPerDatagram + 2 * datagram_length;
  }
  // receive_buffer: SO_RCVBUF as granted; the largest reply's share is kept back.
  explicit RxBudget(std::size_t receive_buffer) noexcept;
  std::uint64_t chunk_ticks() const noexcept;
  // After an advance: `bytes` of buffer (sum of cost()) for `ticks` ticks.
  void learn(std::size_t bytes, std::uint64_t ticks) noexcept;

 private:
  double budget_;
  double per_tick_ = 4.0 * kBytesPerDatagram;
};

class Link {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Wait : std::uint8_t {
    reply,        // the reply to the request is in reply()
    timed_out,    // nothing answered before the deadline
    interrupted,  // a signal arrived (EINTR): the caller checks for it and waits again
    refused,      // ECONNREFUSED: nothing listens at the sim's port any more
  };

  // Uses a duplicate of fd, a blocking UDP socket connected to the sim (the
  // caller keeps its own, and sets its receive buffer before). Throws
  // std::system_error, std::invalid_argument.
  explicit Link(int fd);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Send a request; return its sequence number, or 0 when the kernel
  // refused the datagram (last_send_error() says why).
  std::uint32_t send_hello(std::uint32_t catalogue_hash, std::uint32_t bundle_bytes);
  std::uint32_t send_advance(std::uint64_t ticks);
  // Any request; its sequence number is set here.
  std::uint32_t send_request(const control::Request& request);
  bool send_datagram(std::span<const std::byte> datagram) noexcept;
  int last_send_error() const noexcept { return send_error_; }

  // Reads until a reply to one of the requests first..last (sequence
  // numbers, in sending order) has arrived or `deadline` passes.
  // Bus datagrams before it are kept (for_each_datagram); replies to other
  // requests are skipped; datagrams that are neither are kept as
  // undecodable with the reason. Never blocks past the deadline by more
  // than one receive slice.
  Wait wait_reply(std::uint32_t first, std::uint32_t last, Clock::time_point deadline);
  // The same for whatever reply comes first, whatever its sequence (the
  // answer to a request sent as raw bytes, which may have none).
  Wait wait_any_reply(Clock::time_point deadline);
  const control::Reply& reply() const noexcept { return *reply_; }

  // What arrived since the last call: datagrams exactly as the sim would
  // have sent them alone (bundles opened), in arrival order.
  template <class Fn>
  void for_each_datagram(Fn&& fn) const {
    for (std::size_t i = 0; i < ends_.size(); ++i) {
      const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
      fn(std::span<const std::byte>(kept_.data() + begin, ends_[i] - begin));
    }
  }
  void clear_datagrams() noexcept;
  // Buffer bytes (RxBudget::cost) of what arrived up to and including the
  // last reply; reset by wait_reply.
  std::size_t reply_cost() const noexcept { return reply_cost_; }

  struct Undecodable {
    std::vector<std::byte> bytes;
    std::string reason;
  };
  std::vector<Undecodable>& undecodable() noexcept { return undecodable_; }

  int receive_buffer() const noexcept;
  std::uint64_t datagrams() const noexcept { return datagrams_; }  // received, bundles counted once
  std::uint64_t bundles() const noexcept { return bundles_; }

 private:
  std::uint32_t next_sequence() noexcept;
  // Frames and sends request_, which carries `sequence`; 0 when not sent.
  std::uint32_t send_prepared(std::uint32_t sequence);
  // One item as the sim would have sent it alone: true when it is a reply
  // awaited (first..last). first 0: none is awaited any more.
  bool take(std::span<const std::byte> datagram, std::uint32_t first, std::uint32_t last);

  int fd_ = -1;
  bool any_reply_ = false;  // wait_any_reply: the first reply is the one
  std::uint32_t next_sequence_ = 1;
  int send_error_ = 0;
  std::unique_ptr<control::Request> request_;
  std::unique_ptr<control::Reply> reply_;
  std::string out_;                  // the request datagram, reused
  std::vector<std::byte> buffer_;    // one received datagram
  std::vector<std::byte> kept_;      // bus datagrams, back to back
  std::vector<std::size_t> ends_;    // where each one ends in kept_
  std::vector<Undecodable> undecodable_;
  std::size_t pending_cost_ = 0;     // since the last reply
  std::size_t reply_cost_ = 0;
  std::uint64_t datagrams_ = 0;
  std::uint64_t bundles_ = 0;
};

}  // namespace sil::harness
