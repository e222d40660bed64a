#include "sil/record/frame_reader.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using sil::record::FrameReader;
using sil::record::FrameStatus;

// Bytes shaped like a serialized record (field 2, length-delimited), as
// could_be_record() wants of a frame found after damage.
std::string record_of(std::string_view text) {
  std::string out = "\x12";
  for (std::size_t n = text.size(); ; n >>= 7) {
    out += static_cast<char>((n & 0x7F) | (n > 0x7F ? 0x80 : 0));
    if (n <= 0x7F) break;
  }
  return out + std::string(text);
}

const std::vector<std::string> kRecords{record_of("first"), "", record_of(std::string(300, 'x')),
                                        record_of("last one")};

// A recording's bytes: the magic, then one frame per record.
std::vector<std::byte> file_of(const std::vector<std::string>& records) {
  std::vector<std::byte> file;
  for (const char c : sil::record::kMagic) file.push_back(static_cast<std::byte>(c));
  for (const auto& record : records) {
    const auto body = std::as_bytes(std::span(record));
    std::array<std::byte, sil::record::kFrameHeaderBytes> header{};
    sil::record::encode_frame_header(header, body);
    file.insert(file.end(), header.begin(), header.end());
    file.insert(file.end(), body.begin(), body.end());
  }
  return file;
}

std::string text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The record check, for judging damage: the Reader's parses a protobuf;
// here could_be_record() alone decides.
bool any_bytes(std::span<const std::byte>) { return true; }

std::size_t frame_offset(std::size_t index) {
  std::size_t offset = sil::record::kMagic.size();
  for (std::size_t i = 0; i < index; ++i) offset += 8 + kRecords[i].size();
  return offset;
}

// Reads every frame; returns the records and the final status.
std::pair<std::vector<std::string>, FrameStatus> read_all(std::span<const std::byte> file) {
  FrameReader reader(file, any_bytes);
  std::vector<std::string> records;
  std::span<const std::byte> record;
  FrameStatus status;
  while ((status = reader.next(record)) == FrameStatus::ok) records.push_back(text_of(record));
  return {records, status};
}

TEST(FrameReader, ReturnsEveryRecordThenEnd) {
  const auto file = file_of(kRecords);
  const auto [records, status] = read_all(file);
  EXPECT_EQ(records, kRecords);
  EXPECT_EQ(status, FrameStatus::end);
}

TEST(FrameReader, AMagicAloneIsAnEmptyRecording) {
  const auto [records, status] = read_all(file_of({}));
  EXPECT_TRUE(records.empty());
  EXPECT_EQ(status, FrameStatus::end);
}

TEST(FrameReader, RejectsAFileThatIsNotARecording) {
  auto file = file_of(kRecords);
  file[6] = std::byte{'2'};
  FrameReader reader(file, any_bytes);
  std::span<const std::byte> record;
  EXPECT_EQ(reader.next(record), FrameStatus::bad_magic);
  EXPECT_EQ(reader.offset(), 0u);
  const std::string_view text = "hello";
  EXPECT_EQ(read_all(std::as_bytes(std::span(text))).second, FrameStatus::bad_magic);
}

TEST(FrameReader, ReadsAnExactPrefixOfAFileCutAtAnyByte) {
  const auto file = file_of(kRecords);
  std::vector<std::size_t> boundaries{sil::record::kMagic.size()};
  for (const auto& record : kRecords) boundaries.push_back(boundaries.back() + 8 + record.size());
  for (std::size_t cut = 0; cut <= file.size(); ++cut) {
    const auto [records, status] = read_all(std::span(file).first(cut));
    std::size_t complete = 0;
    while (complete < kRecords.size() && boundaries[complete + 1] <= cut) ++complete;
    ASSERT_EQ(records, std::vector<std::string>(kRecords.begin(), kRecords.begin() + static_cast<long>(complete)))
        << "cut at " << cut;
    const bool at_boundary = cut >= boundaries[0] && boundaries[complete] == cut;
    EXPECT_EQ(status, at_boundary ? FrameStatus::end : FrameStatus::torn_tail) << "cut at " << cut;
  }
}

TEST(FrameReader, ReportsALengthAboveTheLimitWithoutReadingIt) {
  auto file = file_of({"a", "b"});
  const std::size_t second = sil::record::kMagic.size() + 8 + 1;
  sil::record::store_u32_le(std::span(file).subspan(second).first<4>(), sil::record::kMaxRecordBytes + 1);
  FrameReader reader(file, any_bytes);
  std::span<const std::byte> record;
  EXPECT_EQ(reader.next(record), FrameStatus::ok);
  EXPECT_EQ(reader.next(record), FrameStatus::too_long);
  EXPECT_EQ(reader.offset(), second);
}

// A length running past the end of the file is a torn tail only when the
// file could have been cut there: nothing intact after the frame, and the
// bytes to the end are not its whole record.
TEST(FrameReader, ALengthBeyondTheFileIsCorruptionWhenAnIntactFrameFollows) {
  auto file = file_of(kRecords);
  const std::size_t third = frame_offset(2);
  sil::record::store_u32_le(std::span(file).subspan(third).first<4>(), 100'000);
  FrameReader reader(file, any_bytes);
  std::span<const std::byte> record;
  EXPECT_EQ(reader.next(record), FrameStatus::ok);
  EXPECT_EQ(reader.next(record), FrameStatus::ok);
  EXPECT_EQ(reader.next(record), FrameStatus::bad_length);
  EXPECT_EQ(reader.offset(), third);
}

TEST(FrameReader, ALengthBeyondTheFileIsCorruptionWhenTheRestIsTheWholeRecord) {
  auto file = file_of(kRecords);
  const std::size_t last = frame_offset(3);
  sil::record::store_u32_le(std::span(file).subspan(last).first<4>(), sil::record::kMaxRecordBytes);
  const auto [records, status] = read_all(file);
  EXPECT_EQ(records.size(), 3u);
  EXPECT_EQ(status, FrameStatus::bad_length);
}

TEST(FrameReader, ALengthBeyondTheFileWithNothingIntactAfterItIsATornTail) {
  auto file = file_of(kRecords);
  file.pop_back();  // "last on": cut short, then its length made larger
  sil::record::store_u32_le(std::span(file).subspan(frame_offset(3)).first<4>(), 16);
  const auto [records, status] = read_all(file);
  EXPECT_EQ(records.size(), 3u);
  EXPECT_EQ(status, FrameStatus::torn_tail);
}

TEST(FrameReader, FindsTheNextIntactFrameAndResumesThere) {
  auto file = file_of(kRecords);
  file[frame_offset(2) + 8 + 100] = std::byte{'y'};
  FrameReader reader(file, any_bytes);
  std::span<const std::byte> record;
  ASSERT_EQ(reader.next(record), FrameStatus::ok);
  ASSERT_EQ(reader.next(record), FrameStatus::ok);
  ASSERT_EQ(reader.next(record), FrameStatus::bad_checksum);
  // The empty record in between is checksummed but not shaped like a record.
  EXPECT_EQ(sil::record::find_intact_frame(file, frame_offset(1), any_bytes), frame_offset(3));
  const std::size_t next = sil::record::find_intact_frame(file, reader.offset() + 1, any_bytes);
  ASSERT_EQ(next, frame_offset(3));
  EXPECT_EQ(sil::record::find_intact_frame(file, next + 1, any_bytes), file.size());
  reader.resume_at(next);
  ASSERT_EQ(reader.next(record), FrameStatus::ok);
  EXPECT_EQ(text_of(record), kRecords[3]);
  EXPECT_EQ(reader.next(record), FrameStatus::end);
}

TEST(FrameReader, ReportsACorruptRecordAtItsOffset) {
  auto file = file_of({"alpha", "bravo", "charlie"});
  const std::size_t third = sil::record::kMagic.size() + 2 * (8 + 5);
  file[third + 8 + 3] ^= std::byte{0x10};
  FrameReader reader(file, any_bytes);
  std::span<const std::byte> record;
  EXPECT_EQ(reader.next(record), FrameStatus::ok);
  EXPECT_EQ(reader.next(record), FrameStatus::ok);
  EXPECT_EQ(text_of(record), "bravo");
  EXPECT_EQ(reader.next(record), FrameStatus::bad_checksum);
  EXPECT_EQ(reader.offset(), third);
  EXPECT_EQ(reader.next(record), FrameStatus::bad_checksum) << "an error is final";
  EXPECT_EQ(text_of(record), "bravo") << "a failed next() leaves `record` alone";
}

TEST(FrameReader, NeverReturnsWrongBytesForAnySingleBitFlip) {
  const auto original = file_of(kRecords);
  for (std::size_t bit = 0; bit < original.size() * 8; ++bit) {
    auto file = original;
    file[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    const auto [records, status] = read_all(file);
    ASSERT_NE(status, FrameStatus::end) << "bit " << bit << " went unnoticed";
    ASSERT_LE(records.size(), kRecords.size());
    for (std::size_t i = 0; i < records.size(); ++i) ASSERT_EQ(records[i], kRecords[i]) << "bit " << bit;
  }
}

TEST(FrameReader, CouldBeRecordAcceptsTheWireShapeOfARecordOnly) {
  const auto shaped = [](std::string_view bytes) {
    return sil::record::could_be_record(std::as_bytes(std::span(bytes)));
  };
  using namespace std::string_view_literals;
  EXPECT_TRUE(shaped("\x0a\x00"sv));                   // an empty header
  EXPECT_TRUE(shaped(record_of(std::string(300, 'x'))));  // a message, with a two-byte length
  EXPECT_TRUE(shaped("\x08\x01\x1a\x02\x08\x03\x25\x00\x00\x00\x00"sv));  // a footer between other fields
  EXPECT_TRUE(shaped("\x0b\x08\x01\x0c\x12\x00"sv));  // a group, closed, then a message
  EXPECT_FALSE(shaped(""sv));
  EXPECT_FALSE(shaped("\0\0\0\0\0\0\0\0"sv));  // a zero tag
  EXPECT_FALSE(shaped("\x08\x01"sv));            // no header, message or footer
  EXPECT_FALSE(shaped("\x22\x00"sv));            // field 4
  EXPECT_FALSE(shaped("\x12\x05" "ab"sv));       // a length past the end
  EXPECT_FALSE(shaped("\x12\x00\x0e"sv));        // wire type 6
  EXPECT_FALSE(shaped("\x12\x00\x0c"sv));        // the end of a group never started
  EXPECT_FALSE(shaped("\x0b\x12\x00\x0c"sv));    // the message is inside a group
  EXPECT_FALSE(shaped("\x0b\x12\x00"sv));         // a group never closed
  EXPECT_FALSE(shaped("\x12\x80"sv));            // a varint cut short
}

TEST(FrameReader, NamesEveryStatus) {
  std::set<std::string_view> names;
  for (const auto status : {FrameStatus::ok, FrameStatus::end, FrameStatus::torn_tail, FrameStatus::bad_magic,
                            FrameStatus::too_long, FrameStatus::bad_checksum, FrameStatus::bad_length}) {
    names.insert(sil::record::to_string(status));
  }
  EXPECT_EQ(names.size(), 7u);
}

}  // namespace
