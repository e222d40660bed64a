// Writes the checked-in seed corpus of the fuzz targets (tests/fuzz/corpus):
//   make_fuzz_corpus DIR   writes DIR/<target>/* for every fuzz target
// Deterministic: the same catalogue and schema give the same files, so a
// regenerated corpus shows in `git diff` only when the wire format changed.
// The datagram seeds follow the inbound rules (docs/wire-format.md "Inbound datagram
// rules"): every message at its exact size and one byte either side, the
// lengths 0, 1, 2 and 65507, unknown and reserved ids. The control seeds are
// every command, every argument the parser refuses, each valid request cut
// short, and garbage. The hello seeds are Hellos the rx thread must
// recognise and near misses it must not; the recording seeds a small valid
// recording and each way one goes wrong (cut, flipped, mislabelled, empty);
// the bundle seeds a bundle as the sim sends one and each rule it can break.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sil/bridge/bundle.hpp"
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "test_system.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/record/frame.hpp"
#include "sil/record/frame_reader.hpp"
#include "sil_control.pb.h"
#include "sil_record.pb.h"

namespace {

namespace fs = std::filesystem;
namespace pb = ::sil::control;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kLargestUdpPayload = 65507;  // IPv4: 65535 - 20 (IP) - 8 (UDP)

void write(const fs::path& dir, const std::string& name, const Bytes& bytes) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

// The id, then a pattern with no zero byte, to `length` bytes in all.
Bytes datagram(std::uint16_t id, std::size_t length) {
  Bytes bytes(length);
  for (std::size_t i = 0; i < length; ++i) bytes[i] = static_cast<std::uint8_t>(0x11U + (i * 7U) % 0xEEU);
  if (length >= 1) bytes[0] = static_cast<std::uint8_t>(id & 0xFFU);
  if (length >= 2) bytes[1] = static_cast<std::uint8_t>(id >> 8U);
  return bytes;
}

std::string hex_id(std::uint16_t id) {
  char text[8];
  std::snprintf(text, sizeof text, "%04x", id);
  return text;
}

Bytes serialized(const pb::Request& request) {
  const std::string text = request.SerializeAsString();
  return {text.begin(), text.end()};
}

void write_datagram_corpus(const fs::path& dir) {
  using sil::ipc::kHeaderSize;
  sil::test::Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    const auto id = static_cast<std::uint16_t>(T::id);
    const std::string name = std::string("msg-") + std::string(T::name);
    write(dir, name + "-exact", datagram(id, kHeaderSize + sizeof(T)));
    write(dir, name + "-one-short", datagram(id, kHeaderSize + sizeof(T) - 1));
    write(dir, name + "-one-long", datagram(id, kHeaderSize + sizeof(T) + 1));
  });
  for (const std::size_t length : {std::size_t{0}, std::size_t{1}, std::size_t{2}, kLargestUdpPayload}) {
    write(dir, "len-" + std::to_string(length), datagram(static_cast<std::uint16_t>(sil::ipc::MsgId::RevisionRequest), length));
  }
  write(dir, "len-max-message", datagram(0x07D1, sil::test::kMaxDatagramSize));
  write(dir, "len-max-message-plus-one", datagram(0x07D1, sil::test::kMaxDatagramSize + 1));
  // Unknown ids: zero, the neighbours of catalogue ids, a catalogue id byte-swapped.
  for (const std::uint16_t id : std::initializer_list<std::uint16_t>{0x0000, 0x0001, 1999, 2003, 2099, 2104, 0xD007}) {
    write(dir, "unknown-" + hex_id(id), datagram(id, 6));
  }
  for (const std::uint16_t id : std::initializer_list<std::uint16_t>{sil::ipc::kFirstReservedId, 0xFFF1, 0xFFFF}) {
    write(dir, "reserved-" + hex_id(id), datagram(id, 6));
  }
  // A valid control request is not a message: the decoder refuses it.
  pb::Request stats;
  stats.set_sequence(1);
  stats.mutable_get_stats();
  Bytes control{0xF0, 0xFF};
  const Bytes body = serialized(stats);
  control.insert(control.end(), body.begin(), body.end());
  write(dir, "reserved-fff0-get-stats", control);
}

void write_control_corpus(const fs::path& dir) {
  std::vector<std::pair<std::string, pb::Request>> valid;
  const auto add = [&](std::string name) -> pb::Request& {
    valid.emplace_back(std::move(name), pb::Request{});
    valid.back().second.set_sequence(static_cast<std::uint32_t>(valid.size()));
    return valid.back().second;
  };
  add("hello").mutable_hello()->set_catalogue_hash(sil::test::kHash);
  add("advance-ticks").mutable_advance()->set_ticks(10);
  add("advance-duration").mutable_advance()->set_duration_ns(25'000'000);
  {
    auto* until = add("advance-until-id").mutable_advance()->mutable_until();
    until->set_msg_id(2002);
    until->set_limit_ns(1'000'000'000);
  }
  {
    auto* until = add("advance-until-int").mutable_advance()->mutable_until();
    until->set_msg_id(2002);
    until->set_field("sequence");
    until->mutable_equals()->set_int_value(3);
    until->set_limit_ns(1'000'000'000);
  }
  {
    auto* until = add("advance-until-float").mutable_advance()->mutable_until();
    until->set_msg_id(2101);
    until->set_field("temperature_c");
    until->mutable_equals()->set_float_value(20.5);
    until->set_limit_ns(1'000'000'000);
  }
  {
    auto* until = add("advance-until-text").mutable_advance()->mutable_until();
    until->set_msg_id(2001);
    until->set_field("git_revision");
    until->mutable_equals()->set_text_value("unknown");
    until->set_limit_ns(1'000'000'000);
  }
  add("pause").mutable_pause();
  add("resume").mutable_resume();
  add("set-speed").mutable_set_speed()->set_speed(2.0);
  add("get-stats").mutable_get_stats();
  add("get-catalogue").mutable_get_catalogue();
  for (const auto& [name, request] : valid) {
    const Bytes bytes = serialized(request);
    write(dir, "valid-" + name, bytes);
    write(dir, "cut-" + name, Bytes(bytes.begin(), bytes.end() - 1));
  }

  std::vector<std::pair<std::string, pb::Request>> refused;
  const auto refuse = [&](std::string name) -> pb::Request& {
    refused.emplace_back(std::move(name), pb::Request{});
    refused.back().second.set_sequence(static_cast<std::uint32_t>(100 + refused.size()));
    return refused.back().second;
  };
  refuse("no-command");
  refuse("set-speed-zero").mutable_set_speed()->set_speed(0.0);
  refuse("set-speed-nan").mutable_set_speed()->set_speed(std::numeric_limits<double>::quiet_NaN());
  refuse("set-speed-too-fast").mutable_set_speed()->set_speed(1e7);
  refuse("advance-nothing").mutable_advance();
  {
    auto* advance = refuse("advance-ticks-and-duration").mutable_advance();
    advance->set_ticks(1);
    advance->set_duration_ns(1);
  }
  refuse("advance-until-no-limit").mutable_advance()->mutable_until()->set_msg_id(2002);
  {
    auto* until = refuse("advance-until-not-a-msgid").mutable_advance()->mutable_until();
    until->set_msg_id(0x10000);
    until->set_limit_ns(1);
  }
  {
    auto* until = refuse("advance-until-unknown-message").mutable_advance()->mutable_until();
    until->set_msg_id(1999);
    until->set_limit_ns(1);
  }
  {
    auto* until = refuse("advance-until-unknown-field").mutable_advance()->mutable_until();
    until->set_msg_id(2002);
    until->set_field("no_such_field");
    until->mutable_equals()->set_int_value(1);
    until->set_limit_ns(1);
  }
  {
    auto* until = refuse("advance-until-field-without-value").mutable_advance()->mutable_until();
    until->set_msg_id(2002);
    until->set_field("sequence");
    until->set_limit_ns(1);
  }
  {
    auto* until = refuse("advance-until-text-for-int").mutable_advance()->mutable_until();
    until->set_msg_id(2002);
    until->set_field("sequence");
    until->mutable_equals()->set_text_value(std::string(300, 'x'));
    until->set_limit_ns(1);
  }
  for (const auto& [name, request] : refused) write(dir, "refused-" + name, serialized(request));

  write(dir, "garbage-empty", {});
  write(dir, "garbage-field-zero", {0x00, 0x01, 0x02});  // field number 0 never parses
  write(dir, "garbage-ff", Bytes(16, 0xFF));
  write(dir, "garbage-length-past-end", {0x1A, 0x7F, 0x08, 0x01});  // advance claims 127 bytes, has 2
  write(dir, "garbage-oversized", Bytes(600, 0x41));
}

void write_hello_corpus(const fs::path& dir) {
  pb::Request hello;
  hello.mutable_hello()->set_catalogue_hash(sil::test::kHash);
  write(dir, "hello-no-sequence", serialized(hello));
  hello.set_sequence(7);
  write(dir, "hello", serialized(hello));
  hello.set_sequence(0xFFFFFFFFU);
  write(dir, "hello-largest-sequence", serialized(hello));
  pb::Request bundles = hello;
  bundles.mutable_hello()->set_bundle_bytes(65507);
  write(dir, "hello-bundles", serialized(bundles));
  pb::Request empty_hello;
  empty_hello.set_sequence(1);
  empty_hello.mutable_hello();
  write(dir, "hello-empty", serialized(empty_hello));
  Bytes trailing = serialized(hello);
  trailing.push_back(0x00);
  write(dir, "hello-trailing-byte", trailing);
  Bytes cut = serialized(hello);
  cut.pop_back();
  write(dir, "hello-cut", cut);
  pb::Request advance;
  advance.set_sequence(7);
  advance.mutable_advance()->set_ticks(1);
  write(dir, "advance", serialized(advance));
  write(dir, "empty", {});
  write(dir, "sequence-only", {0x08, 0x07});
  write(dir, "sequence-unterminated-varint", Bytes(12, 0xFF));
  // Regression: the fuzzer's first find, a Hello whose inner bytes do not parse.
  write(dir, "hello-malformed-inner", {0x12, 0x06, 0x08, 0x99, 0x52, 0x12, 0x31, 0xF0});
}

// A bundle of these datagrams (docs/wire-format.md "Bundles").
Bytes bundle(std::initializer_list<Bytes> items) {
  Bytes out{0xF2, 0xFF};
  for (const Bytes& item : items) {
    out.push_back(static_cast<std::uint8_t>(item.size() & 0xFFU));
    out.push_back(static_cast<std::uint8_t>(item.size() >> 8U));
    out.insert(out.end(), item.begin(), item.end());
  }
  return out;
}

void write_bundle_corpus(const fs::path& dir) {
  const Bytes heartbeat = datagram(0x07D2, sil::ipc::kHeaderSize + 20);
  const Bytes reply{0xF1, 0xFF, 0x08, 0x07, 0x10, 0x80, 0xAD, 0xE2, 0x04, 0x18, 0x01, 0x2A, 0x02, 0x08, 0x01};
  const Bytes tick = bundle({heartbeat, datagram(0x0835, sil::ipc::kHeaderSize + 16), reply});
  write(dir, "tick-with-reply", tick);
  write(dir, "one-item", bundle({heartbeat}));
  write(dir, "empty", {0xF2, 0xFF});
  Bytes cut = tick;
  cut.pop_back();
  write(dir, "cut-last-item", cut);
  write(dir, "cut-length", {0xF2, 0xFF, 0x03});
  write(dir, "short-item", bundle({Bytes{0xD2}}));
  write(dir, "zero-item", bundle({Bytes{}}));
  write(dir, "nested", bundle({bundle({heartbeat})}));
  write(dir, "not-a-bundle", heartbeat);
}

// One frame: length, CRC-32C, the serialized record.
Bytes frame(const sil::record::Record& record) {
  const std::string body = record.SerializeAsString();
  const auto bytes = std::as_bytes(std::span{body.data(), body.size()});
  std::array<std::byte, sil::record::kFrameHeaderBytes> head{};
  sil::record::encode_frame_header(head, bytes);
  Bytes out;
  for (const auto b : head) out.push_back(std::to_integer<std::uint8_t>(b));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void write_recording_corpus(const fs::path& dir) {
  sil::record::Record header;
  header.mutable_header()->set_format_version(1);
  header.mutable_header()->set_rate_hz(100);
  header.mutable_header()->set_clock("step");
  header.mutable_header()->mutable_catalogue()->set_hash(sil::test::kHash);
  sil::record::Record message;
  message.mutable_message()->set_sim_time_ns(10'000'000);
  message.mutable_message()->set_msg_id(2002);
  message.mutable_message()->set_payload(std::string(20, '\x01'));
  sil::record::Record footer;
  footer.mutable_footer()->set_messages(1);

  const Bytes magic(sil::record::kMagic.begin(), sil::record::kMagic.end());
  auto file = [&](std::initializer_list<const sil::record::Record*> records) {
    Bytes out = magic;
    for (const auto* record : records) {
      const Bytes f = frame(*record);
      out.insert(out.end(), f.begin(), f.end());
    }
    return out;
  };
  const Bytes whole = file({&header, &message, &footer});
  write(dir, "complete", whole);
  write(dir, "no-footer", file({&header, &message}));
  write(dir, "torn-tail", Bytes(whole.begin(), whole.end() - 3));
  write(dir, "torn-frame-header", Bytes(whole.begin(), whole.begin() + static_cast<long>(magic.size()) + 5));
  write(dir, "magic-only", magic);
  write(dir, "empty", {});
  Bytes flipped = whole;
  flipped[flipped.size() / 2] ^= 0x10U;
  write(dir, "bit-flipped", flipped);
  Bytes bad_magic = whole;
  bad_magic[0] = 'X';
  write(dir, "bad-magic", bad_magic);
  Bytes too_long = whole;
  too_long[magic.size() + 3] = 0x7F;  // the first frame claims about 2 GiB
  write(dir, "length-too-long", too_long);
  // Damage that recovery resynchronises after: the message's length grown
  // past the end of the file with the footer after it (read as a torn tail
  // before the damage rules), and the message zeroed (eight zero bytes pass
  // a CRC-32C as an empty record).
  const Bytes two = file({&header, &message, &message, &footer});
  const std::size_t second = magic.size() + frame(header).size();
  Bytes past_end = two;
  past_end[second + 2] ^= 0x10U;
  write(dir, "length-past-end", past_end);
  Bytes zeroed = two;
  std::fill(zeroed.begin() + static_cast<long>(second),
            zeroed.begin() + static_cast<long>(second + frame(message).size()), std::uint8_t{0});
  write(dir, "zero-filled-frame", zeroed);
  write(dir, "message-before-header", file({&message, &header}));
  write(dir, "record-after-footer", file({&header, &footer, &message}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  try {
    const fs::path root = argv[1];
    for (const char* target : {"datagram", "control", "hello", "recording", "bundle"}) {
      fs::remove_all(root / target);
      fs::create_directories(root / target);
    }
    write_datagram_corpus(root / "datagram");
    write_control_corpus(root / "control");
    write_hello_corpus(root / "hello");
    write_recording_corpus(root / "recording");
    write_bundle_corpus(root / "bundle");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_fuzz_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
