// Damage at every byte of a real recording (docs/recording-format.md
// "Damage"): a file cut at any byte reads as an exact prefix ending in a torn
// tail (or cleanly, at a frame boundary); a byte changed anywhere is
// corruption reported at the offset of the frame it is in, never a clean or
// torn end; and recover() salvages every frame the damage did not touch.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "recording_files.hpp"
#include "sil/record/frame.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/recover.hpp"
#include "sil_record.pb.h"
#include "test_recordings.hpp"

namespace sil::record {
namespace {

constexpr std::uint64_t kMessages = 30;

// The original: header, kMessages messages, footer; and where its frames start.
struct Original {
  std::vector<std::byte> bytes;
  std::vector<Record> records;
  std::vector<std::size_t> starts;  // of each frame, then the file's size

  Original() {
    test::TempFile file("sil_damage_test");
    write_recording(file.path(), kMessages);
    bytes = test::read_whole(file.path());
    const auto back = test::read_back(bytes);
    EXPECT_EQ(back.end, ReadEnd::clean) << back.message;
    records = back.records;
    std::size_t at = kMagic.size();
    while (at < bytes.size()) {
      starts.push_back(at);
      at += kFrameHeaderBytes + load_u32_le(std::span(bytes).subspan(at).first<4>());
    }
    starts.push_back(at);
  }

  // The index of the frame byte `offset` is in (the magic: none).
  std::optional<std::size_t> frame_of(std::size_t offset) const {
    if (offset < kMagic.size()) return std::nullopt;
    std::size_t frame = 0;
    while (starts[frame + 1] <= offset) ++frame;
    return frame;
  }
};

const Original& original() {
  static const Original file;  // written once for all the tests of this file
  return file;
}

struct Recovered {
  Recovery recovery;
  std::vector<std::byte> bytes;
};

Recovered recover_bytes(std::span<const std::byte> file) {
  Recovered out;
  out.recovery = recover(file, [&out](std::span<const std::byte> bytes) {
    out.bytes.insert(out.bytes.end(), bytes.begin(), bytes.end());
  });
  return out;
}

// The records of `back` are records [0, count) of the original, byte for byte.
::testing::AssertionResult is_prefix(const std::vector<Record>& back, std::size_t count) {
  if (back.size() != count) {
    return ::testing::AssertionFailure() << back.size() << " records instead of " << count;
  }
  for (std::size_t r = 0; r < count; ++r) {
    if (back[r].SerializeAsString() != original().records[r].SerializeAsString()) {
      return ::testing::AssertionFailure() << "record " << r << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(Damage, TheTestRecordingHasAFewDozenFrames) {
  EXPECT_EQ(original().records.size(), kMessages + 2);
  EXPECT_EQ(original().starts.size(), kMessages + 3);
}

TEST(Damage, AFileCutAtEveryByteReadsAsAnExactPrefixWithATornTail) {
  const auto& file = original();
  for (std::size_t cut = 0; cut < file.bytes.size(); ++cut) {
    const auto back = test::read_back(std::span(file.bytes).first(cut));
    const auto frame = file.frame_of(cut);
    const bool at_boundary = frame && file.starts[*frame] == cut;
    ASSERT_EQ(back.end, at_boundary ? ReadEnd::clean : ReadEnd::torn_tail) << "cut at " << cut << ": " << back.message;
    ASSERT_TRUE(is_prefix(back.records, frame.value_or(0))) << "cut at " << cut;
    if (!at_boundary) {
      Reader reader(std::span(file.bytes).first(cut));
      Record record;
      while (reader.next(record)) {
      }
      EXPECT_EQ(reader.offset(), frame ? file.starts[*frame] : 0u) << "cut at " << cut;
      EXPECT_NE(reader.message().find("cut short at byte " + std::to_string(reader.offset())), std::string::npos);
    }
  }
}

TEST(Damage, AChangedByteAnywhereIsCorruptionAtItsFrame) {
  const auto& file = original();
  for (std::size_t at = 0; at < file.bytes.size(); ++at) {
    for (const auto change : {std::byte{0xFF}, std::byte{0x01}, std::byte{0x80}}) {
      auto damaged = file.bytes;
      damaged[at] ^= change;
      Reader reader(damaged);
      std::vector<Record> back;
      Record record;
      while (reader.next(record)) back.push_back(record);
      const auto frame = file.frame_of(at);
      ASSERT_EQ(reader.end(), ReadEnd::corrupt) << "byte " << at << " went unnoticed: " << reader.message();
      ASSERT_EQ(reader.offset(), frame ? file.starts[*frame] : 0u) << "byte " << at << ": " << reader.message();
      ASSERT_NE(reader.message().find("at byte " + std::to_string(reader.offset())), std::string::npos);
      ASSERT_TRUE(is_prefix(back, frame.value_or(0))) << "byte " << at;
    }
  }
}

// The case: one length field made larger, running past the end of
// the file, used to read as a file cut short.
TEST(Damage, ALengthRunningPastTheEndIsNotATornTailWhenTheFileGoesOn) {
  const auto& file = original();
  auto damaged = file.bytes;
  const std::size_t third = file.starts[3];
  damaged[third + 2] ^= std::byte{0x10};  // + 1 MiB: past the end, under the 16 MiB limit
  const auto back = test::read_back(damaged);
  EXPECT_EQ(back.end, ReadEnd::corrupt);
  EXPECT_EQ(back.message, "a frame length that runs past the end of the file, though the file was not cut short "
                          "there (the file is corrupted) at byte " + std::to_string(third));
  EXPECT_TRUE(is_prefix(back.records, 3));
}

// could_be_record() only saves work: whatever it refuses, the parse
// refuses too. Tried on every record of the recording, each cut at every
// length and with every byte changed, and on pseudo-random bytes.
TEST(Damage, WhatCouldBeRecordRefusesNeverParses) {
  std::vector<std::string> tried;
  for (const Record& record : original().records) {
    const std::string bytes = record.SerializeAsString();
    EXPECT_TRUE(could_be_record(std::as_bytes(std::span(bytes))));
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      tried.push_back(bytes.substr(0, n));
      for (const char change : {'\x01', '\x80', '\xff'}) {
        tried.push_back(bytes);
        tried.back()[n] = static_cast<char>(tried.back()[n] ^ change);
      }
    }
  }
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes(static_cast<std::size_t>(1 + i % 40), '\0');
    for (char& c : bytes) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      c = static_cast<char>(state >> 56);
    }
    tried.push_back(bytes);
  }
  std::size_t refused = 0;
  for (const std::string& bytes : tried) {
    const auto span = std::as_bytes(std::span(bytes));
    if (could_be_record(span)) continue;
    ++refused;
    ASSERT_FALSE(is_record(span)) << "could_be_record refused a record";
  }
  EXPECT_GT(refused, tried.size() / 2);
}

TEST(Damage, RecoverCopiesAnIntactFileByteForByte) {
  const auto out = recover_bytes(original().bytes);
  EXPECT_TRUE(out.recovery.intact());
  EXPECT_TRUE(out.recovery.footer);
  EXPECT_EQ(out.recovery.messages, kMessages);
  EXPECT_EQ(out.bytes, original().bytes);
}

TEST(Damage, RecoverSalvagesEveryFrameTheDamageDidNotTouch) {
  const auto& file = original();
  const std::size_t footer = file.starts.size() - 2;
  for (std::size_t at = 0; at < file.bytes.size(); ++at) {
    auto damaged = file.bytes;
    damaged[at] ^= std::byte{0xFF};
    const auto frame = file.frame_of(at);
    if (frame == 0u) {  // the header: nothing can be read without its catalogue
      EXPECT_THROW(recover_bytes(damaged), RecoverError) << "byte " << at;
      continue;
    }
    const auto out = recover_bytes(damaged);
    const auto back = test::read_back(out.bytes);
    ASSERT_EQ(back.end, ReadEnd::clean) << "byte " << at << ": " << back.message;
    ASSERT_EQ(out.recovery.skipped.size(), 1u) << "byte " << at;
    const SkippedBytes& skipped = out.recovery.skipped[0];
    if (!frame) {  // the magic: only it is replaced; the run is whole
      EXPECT_EQ(skipped.offset, 0u);
      EXPECT_EQ(skipped.bytes, kMagic.size());
      EXPECT_EQ(out.bytes, file.bytes) << "byte " << at;
      continue;
    }
    ASSERT_EQ(skipped.offset, file.starts[*frame]) << "byte " << at;
    ASSERT_EQ(skipped.offset + skipped.bytes, file.starts[*frame + 1]) << "byte " << at;
    if (at >= file.starts[*frame] + 4) {
      EXPECT_EQ(skipped.frames, 1u) << "byte " << at << ": the length was intact";
    }
    // Every record but the damaged one; the footer only if it was not the
    // damaged frame's successor in a gap (a recording with a gap has none).
    std::vector<Record> expected;
    for (std::size_t r = 0; r < footer; ++r) {
      if (r != *frame) expected.push_back(file.records[r]);
    }
    ASSERT_EQ(back.records.size(), expected.size()) << "byte " << at;
    for (std::size_t r = 0; r < expected.size(); ++r) {
      ASSERT_EQ(back.records[r].SerializeAsString(), expected[r].SerializeAsString()) << "byte " << at;
    }
    EXPECT_FALSE(out.recovery.footer);
    EXPECT_EQ(out.recovery.messages, *frame == footer ? kMessages : kMessages - 1);
    EXPECT_EQ(out.recovery.footer_offset.has_value(), *frame != footer) << "byte " << at;
  }
}

TEST(Damage, RecoverOfAFileCutAtEveryByteKeepsTheExactPrefix) {
  const auto& file = original();
  for (std::size_t cut = 0; cut < file.bytes.size(); ++cut) {
    const auto part = std::span(file.bytes).first(cut);
    const auto frame = file.frame_of(cut);
    if (!frame || *frame == 0 || (*frame == 1 && cut < file.starts[1])) {
      EXPECT_THROW(recover_bytes(part), RecoverError) << "cut at " << cut;
      continue;
    }
    const auto out = recover_bytes(part);
    const bool at_boundary = file.starts[*frame] == cut;
    EXPECT_EQ(out.recovery.skipped.size(), at_boundary ? 0u : 1u) << "cut at " << cut;
    if (!at_boundary) {
      EXPECT_EQ(out.recovery.skipped[0].offset, file.starts[*frame]);
      EXPECT_EQ(out.recovery.skipped[0].bytes, cut - file.starts[*frame]);
    }
    EXPECT_EQ(std::vector(out.bytes), std::vector(part.begin(), part.begin() + static_cast<long>(file.starts[*frame])))
        << "cut at " << cut;
  }
}

TEST(Damage, RecoverSkipsDataAfterTheFooterAndKeepsTheFooter) {
  auto file = original().bytes;
  const std::size_t end = file.size();
  for (int i = 0; i < 20; ++i) file.push_back(std::byte{0});
  EXPECT_EQ(test::read_back(file).end, ReadEnd::corrupt);
  const auto out = recover_bytes(file);
  EXPECT_TRUE(out.recovery.footer);
  ASSERT_EQ(out.recovery.skipped.size(), 1u);
  EXPECT_EQ(out.recovery.skipped[0].offset, end);
  EXPECT_EQ(out.recovery.skipped[0].why, "data after the footer");
  EXPECT_EQ(out.bytes, original().bytes);
}

TEST(Damage, RecoverSkipsAZeroFilledRegionAndWhatFollowsAnotherHeader) {
  const auto& file = original();
  // Frames 5 to 7 zeroed (as a lost disk block reads): eight zero bytes
  // pass a CRC-32C as an empty record, which is not a record.
  auto damaged = file.bytes;
  for (std::size_t at = file.starts[5]; at < file.starts[8]; ++at) damaged[at] = std::byte{0};
  // Then a whole recording appended in place of the footer.
  damaged.resize(file.starts[file.starts.size() - 2]);
  damaged.insert(damaged.end(), file.bytes.begin() + kMagic.size(), file.bytes.end());
  const auto back = test::read_back(damaged);
  EXPECT_EQ(back.end, ReadEnd::corrupt);
  EXPECT_EQ(back.message,
            "a record that does not parse as sil.record.Record at byte " + std::to_string(file.starts[5]));
  const auto out = recover_bytes(damaged);
  ASSERT_EQ(out.recovery.skipped.size(), 2u);
  EXPECT_EQ(out.recovery.skipped[0].offset, file.starts[5]);
  EXPECT_EQ(out.recovery.skipped[0].bytes, file.starts[8] - file.starts[5]);
  EXPECT_EQ(out.recovery.skipped[1].offset, file.starts[file.starts.size() - 2]);
  EXPECT_EQ(out.recovery.skipped[1].why, "a second header (what follows belongs to another recording)");
  EXPECT_EQ(out.recovery.messages, kMessages - 3);
}

TEST(Damage, RecoverRefusesAFileWithoutAnIntactHeader) {
  const std::string text = "this is not a recording at all";
  try {
    recover_bytes(std::as_bytes(std::span(text)));
    FAIL() << "recovered a text file";
  } catch (const RecoverError& e) {
    EXPECT_STREQ(e.what(), "not a sil recording (it does not start with the SILREC1 magic), and no intact header "
                           "at byte 8: nothing to recover");
  }
  EXPECT_THROW(recover_bytes({}), RecoverError);
}

}  // namespace
}  // namespace sil::record
