#pragma once
// Recording files for tests: unique temporary paths, reading a recording
// back whole, and writing a list of records as a (possibly doctored) file.
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "sil/record/frame.hpp"
#include "sil/record/reader.hpp"
#include "sil_record.pb.h"

namespace sil::test {

class TempFile {
 public:
  explicit TempFile(const std::string& stem) {
    static int counter = 0;  // names only, within one test process
    path_ = std::filesystem::temp_directory_path() /
            (stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".silrec");
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline std::vector<std::byte> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  if (!chars.empty()) std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

struct ReadBack {
  std::vector<record::Record> records;
  record::ReadEnd end = record::ReadEnd::reading;
  std::string message;
};

inline ReadBack read_back(std::span<const std::byte> file) {
  ReadBack out;
  record::Reader reader(file);
  record::Record record;
  while (reader.next(record)) out.records.push_back(record);
  out.end = reader.end();
  out.message = reader.message();
  return out;
}

inline void write_records(const std::string& path, const std::vector<record::Record>& records) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(record::kMagic.data(), record::kMagic.size());
  for (const auto& record : records) {
    const std::string body = record.SerializeAsString();
    std::array<std::byte, record::kFrameHeaderBytes> header{};
    record::encode_frame_header(header, std::as_bytes(std::span(body)));
    out.write(reinterpret_cast<const char*>(header.data()), header.size());
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
}

}  // namespace sil::test
