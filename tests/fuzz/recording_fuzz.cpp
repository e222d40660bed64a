// Fuzz target: the recording reader (record/reader.hpp), which reads files
// that may come from anywhere: another machine, a killed process, a disk
// that filled up. Whatever the bytes, it must end (clean, torn tail or
// corrupt), never read past the input, never allocate by a length field,
// and say why when it does not end cleanly.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_target.hpp"
#include "sil/record/frame.hpp"
#include "sil/record/reader.hpp"
#include "sil_record.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sil::record;
  using sil::fuzz::check;
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
  Record after;
  check(!reader.next(after), "a reader that has ended stays ended");
  return 0;
}
