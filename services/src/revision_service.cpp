#include "sil/services/revision_service.hpp"

#include "sil/services/build_info.hpp"

namespace sil::services {

RevisionService::RevisionService(const SimClock& clock) noexcept {
  const BuildInfo& build = build_info();
  answer_.version_major = build.version_major;
  answer_.version_minor = build.version_minor;
  answer_.version_patch = build.version_patch;
  answer_.build_flags = static_cast<std::uint8_t>((build.dirty_tree ? ipc::RevisionResponse::kDirtyTree : 0U)
#ifndef NDEBUG
                                                  | ipc::RevisionResponse::kAssertions
#endif
  );
  answer_.git_revision.assign(build.git_revision);
  answer_.build_time_unix = build.build_time_unix;
  answer_.catalogue_hash = ipc::kCatalogueHash;
  answer_.wire_version = ipc::kWireVersion;
  answer_.tick_rate_hz = clock.rate_hz();
}

}  // namespace sil::services
