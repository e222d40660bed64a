#pragma once
// The thermal example's messages and services without the framework's
// RevisionService and HeartbeatService (framework_services = false): the
// sim a harness meets when a user's system opts out of them
// (tests/python/test_attach_errors.py).
#include <sil/core/system.hpp>

#include "thermal/system.hpp"

namespace bare_thermal {

struct System : thermal::System {
  static constexpr bool framework_services = false;
};

}  // namespace bare_thermal
