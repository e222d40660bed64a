#pragma once
// The services a simulation runs, in the order they tick. Adding a service
// is one line here; sil-sim and every other target pick it up.
#include "sil/services/heartbeat_service.hpp"
#include "sil/services/revision_service.hpp"

namespace sil::services {

template <class... Services>
struct ServiceList {};

using RegisteredServices = ServiceList<RevisionService, HeartbeatService>;

}  // namespace sil::services
