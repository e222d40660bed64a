#include "ingest_receiver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace sil::python {

namespace {

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// Room for the SO_RXQ_OVFL counter (a u32) and the UDP_GRO segment size
// (an int) in each receive's ancillary data.
constexpr std::size_t kControlSize = CMSG_SPACE(sizeof(std::uint32_t)) + CMSG_SPACE(sizeof(int));
// The largest UDP payload: a coalesced run is never longer.
constexpr std::size_t kGroSlotSize = 65536;

// Full batches read back to back before poll() looks at the stop event
// again: bounds how long a flood can delay stop().
constexpr int kBatchesPerWakeup = 64;

}  // namespace

struct DatagramReceiver::Batch {
  // slot_size: room for one datagram (kMaxDatagramSize; MSG_TRUNC reports
  // anything longer), or with GRO for one coalesced run (up to 64 KiB).
  Batch(std::size_t size, std::size_t bytes_per_slot)
      : slot_size(bytes_per_slot), buffers(size * bytes_per_slot), headers(size), iovecs(size), controls(size) {
    for (std::size_t i = 0; i < size; ++i) {
      iovecs[i] = {buffers.data() + i * slot_size, slot_size};
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
  }
  // The kernel overwrites the lengths and flags: reset before each call.
  void rearm() noexcept {
    for (std::size_t i = 0; i < headers.size(); ++i) {
      headers[i].msg_hdr.msg_control = controls[i].data();
      headers[i].msg_hdr.msg_controllen = controls[i].size();
      headers[i].msg_hdr.msg_flags = 0;
    }
  }
  std::span<const std::byte> received(std::size_t i) const noexcept {
    return {buffers.data() + i * slot_size, std::min<std::size_t>(headers[i].msg_len, slot_size)};
  }

  std::size_t slot_size;
  std::vector<std::byte> buffers;
  std::vector<mmsghdr> headers;
  std::vector<iovec> iovecs;
  struct alignas(cmsghdr) Control : std::array<unsigned char, kControlSize> {};
  std::vector<Control> controls;
};

DatagramReceiver::DatagramReceiver(int fd, std::size_t batch, bool gro) {
  if (batch == 0 || batch > kMaxBatch) {
    throw std::invalid_argument("batch must be 1.." + std::to_string(kMaxBatch) + ", got " + std::to_string(batch));
  }
  int type = 0;
  socklen_t type_length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0) throw_errno("not a socket");
  if (type != SOCK_DGRAM) throw std::invalid_argument("not a datagram socket");
  fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (fd_ < 0) throw_errno("dup");
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "eventfd");
  }
  const int on = 1;
  // Without it loss would go unseen; a kernel without it is not worth
  // receiving from in bulk.
  if (::setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0) {
    const int error = errno;
    ::close(stop_fd_);
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "setsockopt(SO_RXQ_OVFL)");
  }
  if (gro && ::setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof on) != 0) {
    const int error = errno;
    ::close(stop_fd_);
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "setsockopt(UDP_GRO)");
  }
  batch_ = std::make_unique<Batch>(batch, gro ? kGroSlotSize : kMaxDatagramSize);
  signal_stop();  // readable while no thread runs: see wait()
}

DatagramReceiver::~DatagramReceiver() {
  stop();
  ::close(stop_fd_);
  ::close(fd_);
}

int DatagramReceiver::set_receive_buffer(int bytes) {
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0) throw_errno("setsockopt(SO_RCVBUF)");
  return receive_buffer();
}

int DatagramReceiver::receive_buffer() const {
  int granted = 0;
  socklen_t length = sizeof granted;
  if (::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0) throw_errno("getsockopt(SO_RCVBUF)");
  return granted;
}

void DatagramReceiver::start() {
  if (thread_.joinable()) return;
  std::uint64_t pending = 0;
  [[maybe_unused]] const auto cleared = ::read(stop_fd_, &pending, sizeof pending);
  stopping_.store(false, std::memory_order_relaxed);
  thread_ = std::thread([this] { run(); });
}

void DatagramReceiver::stop() noexcept {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_relaxed);
  signal_stop();
  thread_.join();
}

void DatagramReceiver::signal_stop() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
}

bool DatagramReceiver::wait(std::chrono::nanoseconds timeout) const noexcept {
  std::array<pollfd, 2> fds{{{inbox_.ready_fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}}};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1'000'000));
    const int n = ::poll(fds.data(), fds.size(), ms);
    if (n > 0) return fds[0].revents != 0;
    if (n == 0 || errno != EINTR) return false;
  }
}

ReceiverCounters DatagramReceiver::counters() const noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  return {received_.load(relaxed),      ring_overruns_.load(relaxed), kernel_drops_.load(relaxed),
          receive_calls_.load(relaxed), gro_runs_.load(relaxed),      errors_.load(relaxed),
          refused_.load(relaxed)};
}

void DatagramReceiver::run() noexcept {
  std::array<pollfd, 2> fds{{{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}}};
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno != EINTR) bump(errors_);
      continue;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents != 0) receive_available();
  }
}

void DatagramReceiver::receive_available() noexcept {
  for (int i = 0; i < kBatchesPerWakeup && !stopping_.load(std::memory_order_relaxed); ++i) {
    if (receive_batch() < batch_->headers.size()) return;
  }
}

std::size_t DatagramReceiver::receive_batch() noexcept {
  Batch& batch = *batch_;
  batch.rearm();
  // MSG_TRUNC: msg_len is the datagram's real length, even when cut.
  const int count = ::recvmmsg(fd_, batch.headers.data(), static_cast<unsigned>(batch.headers.size()),
                               MSG_DONTWAIT | MSG_TRUNC, nullptr);
  if (count <= 0) {
    if (count < 0 && errno == ECONNREFUSED) {
      bump(refused_);
    } else if (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      bump(errors_);
    }
    return 0;
  }
  const auto received = static_cast<std::size_t>(count);
  std::uint64_t datagrams = 0;
  std::uint64_t runs = 0;
  std::uint64_t overruns = 0;
  std::uint64_t drops = kernel_drops_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < received; ++i) {
    msghdr& header = batch.headers[i].msg_hdr;
    std::size_t segment = 0;  // GRO: a run of datagrams of this size (the last may be shorter)
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        std::uint32_t counter = 0;
        std::memcpy(&counter, CMSG_DATA(c), sizeof counter);
        drops = std::max<std::uint64_t>(drops, counter);
      } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        segment = size > 0 ? static_cast<std::size_t>(size) : 0;
      }
    }
    // One datagram per slot: its first kMaxDatagramSize bytes, its length as
    // sent, and whether it was longer than any message.
    const auto push = [&](std::span<const std::byte> one, std::size_t wire_length, bool cut) {
      ++datagrams;
      RawDatagram* slot = inbox_.claim();
      if (slot == nullptr) {
        ++overruns;
        return;
      }
      slot->wire_length = static_cast<std::uint32_t>(wire_length);
      slot->truncated = cut || wire_length > slot->bytes.size();
      slot->length = static_cast<std::uint16_t>(std::min(one.size(), slot->bytes.size()));
      std::memcpy(slot->bytes.data(), one.data(), slot->length);
      inbox_.commit();
    };
    const auto data = batch.received(i);
    if (segment == 0) {
      push(data, batch.headers[i].msg_len, (header.msg_flags & MSG_TRUNC) != 0);
    } else {
      ++runs;
      for (std::size_t at = 0; at < data.size(); at += segment) {
        const auto one = data.subspan(at, std::min(segment, data.size() - at));
        push(one, one.size(), false);
      }
    }
  }
  // Counters first: publish() is a release store the consumer acquires, so
  // whoever sees these datagrams also sees the counts that came with them.
  bump(received_, datagrams);
  bump(receive_calls_);
  if (runs != 0) bump(gro_runs_, runs);
  if (overruns != 0) bump(ring_overruns_, overruns);
  kernel_drops_.store(drops, std::memory_order_relaxed);
  inbox_.publish();
  return received;
}

}  // namespace sil::python
