#pragma once
// Facts about a build of a system, fixed when it was compiled: the user's
// project's version and git revision, not sil's. sil_add_system() generates
// them for each system (cmake/sil_build_info.cmake); RevisionResponse and
// sil-sim's ready line report them.
#include <cstdint>
#include <string_view>

namespace sil::ipc {

struct BuildInfo {
  std::string_view version;  // "MAJOR.MINOR.PATCH"
  std::uint8_t version_major;
  std::uint8_t version_minor;
  std::uint8_t version_patch;
  std::string_view git_revision;  // full hex SHA-1, or "unknown" outside a git checkout
  bool dirty_tree;                // built with uncommitted changes
  std::int64_t build_time_unix;   // SOURCE_DATE_EPOCH when set, for reproducible builds
};

// What a simulation reports when its owner says nothing about its build.
inline constexpr BuildInfo kUnknownBuild{"0.0.0", 0, 0, 0, "unknown", false, 0};

}  // namespace sil::ipc

namespace sil {
using ipc::BuildInfo;
}  // namespace sil
