#pragma once
// The system with nothing but the framework's own messages and services
// (RevisionService, HeartbeatService): what sil-sim runs, and what the sil
// Python package's own module (sil._core) speaks when no system is chosen.
#include "sil/core/system.hpp"

namespace sil {

struct FrameworkSystem : SystemDefaults {};

}  // namespace sil
