#pragma once
// Recordings written by the real Writer for the record tests: message i has
// known metadata and 65 payload bytes derived from i.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "sil/ipc/build_info.hpp"
#include "sil/record/record_queue.hpp"
#include "sil/record/writer.hpp"
#include "sil_record.pb.h"
#include "test_system.hpp"

namespace sil::record {

// Message i of a test recording: 65 payload bytes derived from i.
inline EntryMeta meta_for(std::uint64_t i) {
  EntryMeta meta;
  meta.sim_time_ns = i * 1000;
  meta.wall_ns = i * 3;
  meta.msg_id = static_cast<std::uint16_t>(2000 + i % 7);
  meta.direction = i % 5 == 0 ? MessageDirection::injected : MessageDirection::published;
  return meta;
}
inline std::array<std::byte, 65> payload_for(std::uint64_t i) {
  std::array<std::byte, 65> bytes{};
  for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::byte>((i >> (k % 8 * 8)) ^ k);
  return bytes;
}

inline bool matches(const Message& message, std::uint64_t i) {
  const EntryMeta meta = meta_for(i);
  const auto payload = payload_for(i);
  return message.sim_time_ns() == meta.sim_time_ns && message.wall_ns() == meta.wall_ns &&
         message.msg_id() == meta.msg_id && static_cast<int>(message.direction()) == static_cast<int>(meta.direction) &&
         message.payload().size() == payload.size() &&
         std::memcmp(message.payload().data(), payload.data(), payload.size()) == 0;
}

// A build unlike the default one, so the header is seen to carry the one given.
constexpr ipc::BuildInfo kBuild{"1.2.3", 1, 2, 3, "0123456789abcdef0123456789abcdef01234567", true, 1'700'000'000};
inline const RecordingInfo kInfo{.catalogue = &sil::test::catalogue_info(),
                                 .build = kBuild,
                                 .rate_hz = 250,
                                 .clock = "step",
                                 .start_unix_ns = 1'700'000'000'000'000'000u};

// A finished recording of `count` messages, written synchronously.
inline void write_recording(const std::string& path, std::uint64_t count) {
  RecordQueue queue(1 << 16);
  Writer writer(queue, path, kInfo);
  for (std::uint64_t i = 0; i < count; ++i) ASSERT_TRUE(queue.try_push(meta_for(i), payload_for(i)));
  writer.finish(count * 1000);
}

}  // namespace sil::record
