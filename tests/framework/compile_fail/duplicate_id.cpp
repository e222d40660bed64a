// expect: two messages of this catalogue share one MsgId
// Two messages with one id in one system do not compile.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

SIL_MESSAGE(Speed, 3000, (sil::f64, rpm));
SIL_MESSAGE(Torque, 3000, (sil::f64, newton_metres));

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Speed, Torque>;
};

sil::core::Simulation<System>* sim = nullptr;
std::uint32_t hash = sil::SystemTraits<System>::catalogue::hash;
