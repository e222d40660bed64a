// expect: a message of this system uses a reserved id
// A user's message in the framework's id range (2000-2099) does not compile.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

SIL_MESSAGE(Speed, 2050, (sil::f64, rpm));

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Speed>;
};

std::uint32_t hash = sil::SystemTraits<System>::catalogue::hash;
