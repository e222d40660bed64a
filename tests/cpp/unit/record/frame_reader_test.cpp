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

const std::vector<std::string> kRecords{"first", "", std::string(300, 'x'), "last one"};

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

// What these tests' records are, for judging damage (the Reader's check is
// a protobuf parse): non-empty printable text.
bool is_text(std::span<const std::byte> bytes) {
  if (bytes.empty()) return false;
  for (const std::byte b : bytes) {
    if (b < std::byte{0x20} || b > std::byte{0x7e}) return false;
  }
  return true;
}

std::size_t frame_offset(std::size_t index) {
  std::size_t offset = sil::record::kMagic.size();
  for (std::size_t i = 0; i < index; ++i) offset += 8 + kRecords[i].size();
  return offset;
}

// Reads every frame; returns the records and the final status.
std::pair<std::vector<std::string>, FrameStatus> read_all(std::span<const std::byte> file) {
  FrameReader reader(file, is_text);
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
  FrameReader reader(file, is_text);
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
  FrameReader reader(file, is_text);
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
  FrameReader reader(file, is_text);
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
  file.pop_back();  // "last on": cut short, then its length doubled
  sil::record::store_u32_le(std::span(file).subspan(frame_offset(3)).first<4>(), 16);
  const auto [records, status] = read_all(file);
  EXPECT_EQ(records.size(), 3u);
  EXPECT_EQ(status, FrameStatus::torn_tail);
}

TEST(FrameReader, FindsTheNextIntactFrameAndResumesThere) {
  auto file = file_of(kRecords);
  file[frame_offset(2) + 8 + 100] = std::byte{'y'};
  FrameReader reader(file, is_text);
  std::span<const std::byte> record;
  ASSERT_EQ(reader.next(record), FrameStatus::ok);
  ASSERT_EQ(reader.next(record), FrameStatus::ok);
  ASSERT_EQ(reader.next(record), FrameStatus::bad_checksum);
  // The empty record in between is checksummed but not a record to is_text.
  EXPECT_EQ(sil::record::find_intact_frame(file, frame_offset(1), is_text), frame_offset(3));
  const std::size_t next = sil::record::find_intact_frame(file, reader.offset() + 1, is_text);
  ASSERT_EQ(next, frame_offset(3));
  EXPECT_EQ(sil::record::find_intact_frame(file, next + 1, is_text), file.size());
  reader.resume_at(next);
  ASSERT_EQ(reader.next(record), FrameStatus::ok);
  EXPECT_EQ(text_of(record), "last one");
  EXPECT_EQ(reader.next(record), FrameStatus::end);
}

TEST(FrameReader, ReportsACorruptRecordAtItsOffset) {
  auto file = file_of({"alpha", "bravo", "charlie"});
  const std::size_t third = sil::record::kMagic.size() + 2 * (8 + 5);
  file[third + 8 + 3] ^= std::byte{0x10};
  FrameReader reader(file, is_text);
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

TEST(FrameReader, NamesEveryStatus) {
  std::set<std::string_view> names;
  for (const auto status : {FrameStatus::ok, FrameStatus::end, FrameStatus::torn_tail, FrameStatus::bad_magic,
                            FrameStatus::too_long, FrameStatus::bad_checksum, FrameStatus::bad_length}) {
    names.insert(sil::record::to_string(status));
  }
  EXPECT_EQ(names.size(), 7u);
}

}  // namespace
