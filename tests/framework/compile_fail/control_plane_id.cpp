// expect: a message of this system uses a reserved id
// A user's message in the control plane's id range (0xFF00 and above) does not compile.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

SIL_MESSAGE(Speed, 0xFF10, (sil::f64, rpm));

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Speed>;
};

std::uint32_t hash = sil::SystemTraits<System>::catalogue::hash;
