#pragma once
// Facts about this build, fixed when it was compiled (see cmake/build_info.cmake).
#include <cstdint>
#include <string_view>

namespace sil::services {

struct BuildInfo {
  std::string_view version;  // "MAJOR.MINOR.PATCH"
  std::uint8_t version_major;
  std::uint8_t version_minor;
  std::uint8_t version_patch;
  std::string_view git_revision;  // full hex SHA-1, or "unknown" outside a git checkout
  bool dirty_tree;                // built with uncommitted changes
  std::int64_t build_time_unix;   // SOURCE_DATE_EPOCH when set, for reproducible builds
};

const BuildInfo& build_info() noexcept;

}  // namespace sil::services
