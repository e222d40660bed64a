#include "sil/record/recover.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "sil/record/frame_reader.hpp"
#include "sil/record/reader.hpp"
#include "sil_record.pb.h"
#include "write_all.hpp"

namespace sil::record {

namespace {

// How many frames the damaged bytes [from, to) held, when their length
// fields, unverified, lead exactly from one to the next and on to `to`.
std::optional<std::uint64_t> frames_between(std::span<const std::byte> file, std::size_t from, std::size_t to) {
  std::uint64_t count = 0;
  std::size_t at = from;
  while (at < to && to - at >= kFrameHeaderBytes) {
    const std::uint32_t length = load_u32_le(file.subspan(at).first<4>());
    if (length > to - at - kFrameHeaderBytes) return std::nullopt;
    at += kFrameHeaderBytes + length;
    ++count;
  }
  if (at != to) return std::nullopt;
  return count;
}

std::string at_byte(std::size_t offset) { return "at byte " + std::to_string(offset); }

// Reads the header, which a recording cannot be read without (its
// catalogue), and hands magic and header on.
void copy_header(std::span<const std::byte> file, FrameReader& frames, Recovery& recovery,
                 const std::function<void(std::span<const std::byte>)>& write) {
  std::span<const std::byte> body;
  FrameStatus status = frames.next(body);
  if (status == FrameStatus::bad_magic) {
    // The writer puts the header right after the magic: if it is intact
    // there, only the magic was damaged.
    Record record;
    if (!intact_frame_at(file, kMagic.size(), is_record, body) || !parse_record(body, record) ||
        !record.has_header()) {
      throw RecoverError(std::string(problem_of(status)) + ", and no intact header " + at_byte(kMagic.size()) +
                         ": nothing to recover");
    }
    recovery.skipped.push_back({0, kMagic.size(), 0, std::string(problem_of(status))});
    frames.resume_at(kMagic.size());
    status = frames.next(body);
  }
  if (status == FrameStatus::end || status == FrameStatus::torn_tail) {
    throw RecoverError("the recording ends before its header is complete (" + at_byte(frames.offset()) +
                       "): nothing to recover");
  }
  if (status != FrameStatus::ok) {
    throw RecoverError("the header " + at_byte(frames.offset()) + " is damaged (" + std::string(problem_of(status)) +
                       "); a recording cannot be read without it: nothing to recover");
  }
  Record record;
  if (!parse_record(body, record) || !record.has_header()) {
    throw RecoverError("the first record " + at_byte(frames.offset()) + " is not a header: nothing to recover");
  }
  write(std::as_bytes(std::span{kMagic}));
  write(file.subspan(frames.offset(), kFrameHeaderBytes + body.size()));
}

}  // namespace

Recovery recover(std::span<const std::byte> file, const std::function<void(std::span<const std::byte>)>& write) {
  Recovery recovery;
  FrameReader frames(file, is_record);
  copy_header(file, frames, recovery, write);
  const auto skip = [&](std::size_t from, std::size_t to, std::optional<std::uint64_t> count, std::string why) {
    recovery.skipped.push_back({from, to - from, count, std::move(why)});
  };
  Record record;
  std::span<const std::byte> body;
  while (true) {
    const FrameStatus status = frames.next(body);
    const std::size_t at = frames.offset();
    if (status == FrameStatus::end) break;
    if (status == FrameStatus::torn_tail) {
      skip(at, file.size(), 1, "the last frame is incomplete (the recording was cut short)");
      break;
    }
    if (status == FrameStatus::ok && parse_record(body, record)) {
      const std::size_t frame_end = at + kFrameHeaderBytes + body.size();
      if (record.has_message()) {
        write(file.subspan(at, frame_end - at));
        ++recovery.messages;
        continue;
      }
      if (record.has_header()) {
        skip(at, file.size(), std::nullopt, "a second header (what follows belongs to another recording)");
        break;
      }
      // The footer ends the run: it is copied only if no record before it
      // was lost (a damaged magic loses none); anything after it is not
      // part of the run.
      recovery.footer_offset = at;
      if (std::none_of(recovery.skipped.begin(), recovery.skipped.end(),
                       [](const SkippedBytes& skipped) { return skipped.offset != 0; })) {
        write(file.subspan(at, frame_end - at));
        recovery.footer = true;
      }
      if (frame_end != file.size()) {
        skip(frame_end, file.size(), frames_between(file, frame_end, file.size()), "data after the footer");
      }
      break;
    }
    // Damage: go on at the next intact frame, wherever it starts.
    const std::size_t next = find_intact_frame(file, at + 1, is_record);
    skip(at, next, frames_between(file, at, next),
         status == FrameStatus::ok ? "a record that does not parse as sil.record.Record"
                                   : std::string(problem_of(status)));
    if (next == file.size()) break;
    frames.resume_at(next);
  }
  return recovery;
}

Recovery recover_to_fd(std::span<const std::byte> file, int fd) {
  constexpr std::size_t kChunkBytes = 1 << 16;
  std::vector<std::byte> chunk;
  chunk.reserve(2 * kChunkBytes);
  const auto flush = [&] {
    if (const int error = write_all(fd, chunk); error != 0) {
      throw std::system_error(error, std::generic_category(), "cannot write the recovered recording");
    }
    chunk.clear();
  };
  Recovery recovery = recover(file, [&](std::span<const std::byte> bytes) {
    chunk.insert(chunk.end(), bytes.begin(), bytes.end());
    if (chunk.size() >= kChunkBytes) flush();
  });
  flush();
  return recovery;
}

}  // namespace sil::record
