#pragma once
// Answers every RevisionRequest with a RevisionResponse that says which
// build is running: version, git revision, build time, catalogue hash.
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/services/sim_clock.hpp"

namespace sil::services {

class RevisionService {
 public:
  explicit RevisionService(const SimClock& clock) noexcept;

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
