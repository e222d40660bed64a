// Fuzz target: the recording reader (record/reader.hpp) and recovery
// (record/recover.hpp), which read files that may come from anywhere:
// another machine, a killed process, a disk that filled up or flipped bits.
// Whatever the bytes, reading must end (clean, torn tail or corrupt), never
// read past the input, never allocate by a length field, and say why when
// it does not end cleanly. Recovery must write a recording the reader reads
// cleanly, keep what the reader read, and account for every input byte.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_target.hpp"
#include "sil/record/frame.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/recover.hpp"
#include "sil_record.pb.h"

namespace {

using namespace sil::record;
using sil::fuzz::check;

void check_recovery(std::span<const std::byte> file, const Reader& reader) {
  std::vector<std::byte> out;
  Recovery recovery;
  try {
    recovery = recover(file, [&out](std::span<const std::byte> bytes) {
      out.insert(out.end(), bytes.begin(), bytes.end());
    });
  } catch (const RecoverError&) {
    check(reader.records() == 0, "recovery finds the header the reader read");
    return;
  }
  Reader again(out);
  Record record;
  std::uint64_t records = 0;
  bool footer = false;
  while (again.next(record)) {
    ++records;
    footer = record.has_footer();
  }
  check(again.end() == ReadEnd::clean, "a recovered recording reads cleanly");
  check(records == 1 + recovery.messages + (recovery.footer ? 1 : 0), "it holds what recovery says it copied");
  check(footer == recovery.footer, "it has a footer exactly when recovery says so");
  check(recovery.intact() == (reader.end() == ReadEnd::clean), "recovery skips nothing exactly when reading is clean");
  const bool magic_intact = recovery.skipped.empty() || recovery.skipped[0].offset != 0;
  if (magic_intact && reader.end() != ReadEnd::reading) {
    const std::size_t kept = reader.end() == ReadEnd::clean ? file.size() : reader.offset();
    check(kept <= out.size(), "what the reader read is in the recovered recording");
    for (std::size_t i = 0; i < kept; ++i) check(out[i] == file[i], "byte for byte");
  }
  std::size_t accounted = out.size();
  std::size_t previous_end = 0;
  for (const SkippedBytes& skipped : recovery.skipped) {
    check(skipped.offset >= previous_end && skipped.bytes > 0 && skipped.offset + skipped.bytes <= file.size(),
          "skipped ranges are in the file, in order, apart");
    previous_end = skipped.offset + skipped.bytes;
    accounted += skipped.bytes;
  }
  if (recovery.footer_offset && !recovery.footer) {
    accounted += kFrameHeaderBytes + load_u32_le(file.subspan(*recovery.footer_offset).first<4>());
  }
  if (!magic_intact) accounted -= kMagic.size();  // a new magic was written
  check(accounted == file.size(), "every input byte is copied, skipped, or the footer left out");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = std::as_bytes(std::span{data, size});
  Reader reader(file);
  Record record;
  std::uint64_t returned = 0;
  while (reader.next(record)) {
    ++returned;
    if (returned == 1) check(record.has_header(), "the first record returned is the header");
    // Every record costs at least a frame header, after the magic.
    check(returned * kFrameHeaderBytes <= size, "no more records than frames fit in the input");
  }
  check(reader.end() != ReadEnd::reading, "next() returned false, so reading has ended");
  check(reader.records() == returned, "records() counts what next() returned");
  if (reader.end() != ReadEnd::clean) check(!reader.message().empty(), "an unclean end says why");
  if (reader.end() == ReadEnd::corrupt) check(!reader.problem().empty(), "corruption names its problem");
  Record after;
  check(!reader.next(after), "a reader that has ended stays ended");
  check(could_be_record(file) || !is_record(file), "what could_be_record refuses does not parse as a record");
  check_recovery(file, reader);
  return 0;
}
