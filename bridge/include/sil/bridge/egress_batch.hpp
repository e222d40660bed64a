#pragma once
// Batched egress: the datagrams published during one tick, sent at the end
// of the tick in as few syscalls as the kernel allows.
//
// The rule that makes it safe: a publisher's payload may die as soon as
// publish() returns, so a datagram that is sent later has to be copied
// first. add() copies header and payload into a preallocated arena; flush()
// hands the whole arena to one sendmmsg. Runs of equal-sized datagrams to
// the same peer go out as one UDP GSO send (UDP_SEGMENT): one trip through
// the network stack for up to kMaxSegments datagrams, which the kernel cuts
// apart again, so the receiver still sees one message per datagram, in
// order. Where GSO is refused (an old kernel, a device without it), the
// batch falls back to one entry per datagram, still in one sendmmsg.
//
// For a peer that asked for bundles (bundle_for()), the datagrams to it are
// packed into bundles instead (bundle.hpp): one datagram holding as many as
// fit under the peer's limit, so the harness takes one trip through the
// kernel per tick instead of one per message.
//
// Nothing here allocates after construction and nothing blocks: a full
// socket buffer loses the datagrams of that entry, and the caller counts them.
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sil/bridge/bundle.hpp"
#include "sil/bridge/peer.hpp"

namespace sil::bridge {

class EgressBatch {
 public:
  // One tick of the example system publishes a handful of messages; a tick
  // that publishes more than this many (bundled or not) is flushed early,
  // never dropped.
  static constexpr std::size_t kMaxDatagrams = 256;
  static constexpr std::size_t kArenaBytes = 64 * 1024;
  // The kernel's per-send segment limit (UDP_MAX_SEGMENTS) is 64 on older
  // kernels and larger on newer ones; 64 is accepted everywhere.
  static constexpr std::size_t kMaxSegments = 64;
  static constexpr std::uint16_t kNoCounter = 0xFFFF;

  struct Outcome {
    std::size_t sent = 0;
    std::size_t failed = 0;
  };

  bool empty() const noexcept { return count_ == 0; }
  bool gso_enabled() const noexcept { return gso_; }
  void disable_gso() noexcept { gso_ = false; }

  // Datagrams to `to` are bundled from now on, each bundle at most
  // `max_bytes` (already effective_bundle_bytes()); 0 turns it off. One
  // peer at a time: the harness that asked. Takes effect for what is added next.
  void bundle_for(std::uint64_t to, std::size_t max_bytes) noexcept {
    bundle_to_ = max_bytes == 0 ? 0 : to;
    bundle_bytes_ = max_bytes;
    open_bundle_ = false;
  }

  // Copies {head, body} for `to`: a datagram of its own, or an item of the
  // open bundle. False when the batch has no room left: flush, then add again.
  bool add(std::uint64_t to, std::span<const std::uint8_t> head, const void* body, std::size_t size,
           std::uint16_t counter) noexcept {
    const std::size_t length = head.size() + size;
    const std::size_t item = kBundleItemHeaderSize + length;  // its size inside a bundle
    if (queued_ == kMaxDatagrams) return false;
    const bool bundled = to != 0 && to == bundle_to_ && kHeaderSize + item <= bundle_bytes_;
    if (bundled && open_bundle_) {
      // The open bundle is the last datagram, and it goes to bundle_to_.
      Datagram& open = datagrams_[count_ - 1];
      if (open.length + item <= bundle_bytes_) {
        if (used_ + item > kArenaBytes) return false;
        append_item(head, body, size);
        open.length = static_cast<std::uint16_t>(open.length + item);
        ++open.messages;
        counters_[queued_++] = counter;
        return true;
      }
    }
    const std::size_t datagram = bundled ? kHeaderSize + item : length;
    if (count_ == kMaxDatagrams || used_ + datagram > kArenaBytes) return false;
    datagrams_[count_++] = {to, static_cast<std::uint32_t>(used_), static_cast<std::uint16_t>(datagram),
                            static_cast<std::uint16_t>(queued_), 1};
    counters_[queued_++] = counter;
    open_bundle_ = bundled;
    if (bundled) {
      static constexpr auto kBundleHeader = header_bytes(ipc::MsgId::Bundle);
      std::memcpy(arena_.data() + used_, kBundleHeader.data(), kHeaderSize);
      used_ += kHeaderSize;
      append_item(head, body, size);
    } else {
      copy(head, body, size);
    }
    return true;
  }

  // Sends everything and empties the batch. on_sent(counter) and
  // on_failed(counter, errno) are called once per datagram, in order.
  template <class OnSent, class OnFailed>
  Outcome flush(int fd, OnSent&& on_sent, OnFailed&& on_failed) noexcept {
    Outcome outcome;
    std::size_t first = 0;  // first datagram not yet handed to the kernel
    while (first < count_) {
      const std::size_t entries = build_entries(first);
      std::size_t done = 0;  // entries finished, sent or failed
      while (done < entries) {
        const int sent = ::sendmmsg(fd, messages_.data() + done, static_cast<unsigned>(entries - done), MSG_DONTWAIT);
        if (sent > 0) {
          for (int i = 0; i < sent; ++i) outcome.sent += report(done + static_cast<std::size_t>(i), on_sent);
          done += static_cast<std::size_t>(sent);
          continue;
        }
        if (errno == EINTR) continue;
        if (segments_[done] > 1 && gso_refused(errno)) {
          // Stop using GSO and rebuild from this entry's first datagram.
          gso_ = false;
          break;
        }
        const int error = errno;
        outcome.failed += report(done, [&](std::uint16_t counter) { on_failed(counter, error); });
        // This entry is lost; the rest still goes.
        ++done;
      }
      first = done < entries ? starts_[done] : next_;
    }
    count_ = 0;
    queued_ = 0;
    used_ = 0;
    open_bundle_ = false;
    return outcome;
  }

 private:
  struct Datagram {
    std::uint64_t to;
    std::uint32_t offset;
    std::uint16_t length;
    std::uint16_t first_message;  // its messages' counters: counters_[first_message...]
    std::uint16_t messages;       // 1, or a bundle's item count
  };

  void copy(std::span<const std::uint8_t> head, const void* body, std::size_t size) noexcept {
    std::memcpy(arena_.data() + used_, head.data(), head.size());
    std::memcpy(arena_.data() + used_ + head.size(), body, size);
    used_ += head.size() + size;
  }
  // An item of the bundle being built at the end of the arena: its length, then the datagram.
  void append_item(std::span<const std::uint8_t> head, const void* body, std::size_t size) noexcept {
    const auto prefix = le_u16_bytes(static_cast<std::uint16_t>(head.size() + size));
    std::memcpy(arena_.data() + used_, prefix.data(), prefix.size());
    used_ += prefix.size();
    copy(head, body, size);
  }
  // Room for one UDP_SEGMENT control message.
  using Control = std::array<std::byte, CMSG_SPACE(sizeof(std::uint16_t))>;

  static bool gso_refused(int error) noexcept { return error == EIO || error == EINVAL || error == EOPNOTSUPP; }

  // Fills messages_ from datagram `first` on; returns how many entries.
  // starts_[e] is entry e's first datagram, segments_[e] how many it holds;
  // next_ is the datagram after the last entry built.
  std::size_t build_entries(std::size_t first) noexcept {
    std::size_t entries = 0;
    std::size_t d = first;
    while (d < count_) {
      const Datagram& head = datagrams_[d];
      std::size_t run = 1;
      while (gso_ && run < kMaxSegments && d + run < count_ && datagrams_[d + run].to == head.to &&
             datagrams_[d + run].length == head.length) {
        ++run;
      }
      addresses_[entries] = unpack_peer(head.to);
      iov_[entries] = {arena_.data() + head.offset, run * head.length};
      mmsghdr& message = messages_[entries];
      message = {};
      message.msg_hdr.msg_name = &addresses_[entries];
      message.msg_hdr.msg_namelen = sizeof(sockaddr_in);
      message.msg_hdr.msg_iov = &iov_[entries];
      message.msg_hdr.msg_iovlen = 1;
      if (run > 1) {
        message.msg_hdr.msg_control = controls_[entries].data();
        message.msg_hdr.msg_controllen = controls_[entries].size();
        cmsghdr* cmsg = CMSG_FIRSTHDR(&message.msg_hdr);
        cmsg->cmsg_level = SOL_UDP;
        cmsg->cmsg_type = UDP_SEGMENT;
        cmsg->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
        const std::uint16_t segment = head.length;
        std::memcpy(CMSG_DATA(cmsg), &segment, sizeof segment);
      }
      starts_[entries] = d;
      segments_[entries] = run;
      ++entries;
      d += run;
    }
    next_ = d;
    return entries;
  }

  // Calls back once per message in the entry (a bundle holds several);
  // returns how many.
  template <class Report>
  std::size_t report(std::size_t entry, Report&& callback) noexcept {
    std::size_t messages = 0;
    for (std::size_t i = 0; i < segments_[entry]; ++i) {
      const Datagram& datagram = datagrams_[starts_[entry] + i];
      for (std::size_t m = 0; m < datagram.messages; ++m) callback(counters_[datagram.first_message + m]);
      messages += datagram.messages;
    }
    return messages;
  }

  bool gso_ = true;
  std::uint64_t bundle_to_ = 0;    // the peer that takes bundles; 0: none
  std::size_t bundle_bytes_ = 0;   // its limit per bundle
  bool open_bundle_ = false;       // the last datagram is a bundle that may still grow
  std::size_t count_ = 0;          // datagrams
  std::size_t queued_ = 0;         // messages (a bundle's items each count)
  std::size_t used_ = 0;
  std::size_t next_ = 0;
  alignas(8) std::array<std::byte, kArenaBytes> arena_{};
  std::array<Datagram, kMaxDatagrams> datagrams_{};
  std::array<std::uint16_t, kMaxDatagrams> counters_{};  // one per message, in order
  // One entry per sendmmsg message: a single datagram or a GSO run.
  std::array<mmsghdr, kMaxDatagrams> messages_{};
  std::array<sockaddr_in, kMaxDatagrams> addresses_{};
  std::array<iovec, kMaxDatagrams> iov_{};
  std::array<Control, kMaxDatagrams> controls_{};
  std::array<std::size_t, kMaxDatagrams> starts_{};
  std::array<std::size_t, kMaxDatagrams> segments_{};
};

}  // namespace sil::bridge
