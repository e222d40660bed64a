#pragma once
// Answers every RevisionRequest with a RevisionResponse that says which
// build is running: the system's version, git revision and build time, its
// catalogue hash, the wire version and the tick rate.
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/services/service.hpp"

namespace sil::services {

class RevisionService {
 public:
  explicit RevisionService(const ServiceContext& context) noexcept {
    const BuildInfo& build = context.build;
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
    answer_.catalogue_hash = context.catalogue_hash;
    answer_.wire_version = ipc::kWireVersion;
    answer_.tick_rate_hz = context.clock.rate_hz();
  }

  // Subscriptions
  void on(const ipc::RevisionRequest& request, ipc::Publisher auto& bus) {
    ipc::RevisionResponse response = answer_;
    response.request_id = request.request_id;
    // Publications
    bus.publish(response);
  }

  const ipc::RevisionResponse& answer_template() const noexcept { return answer_; }

 private:
  ipc::RevisionResponse answer_{};  // everything but request_id, filled once
};

}  // namespace sil::services
