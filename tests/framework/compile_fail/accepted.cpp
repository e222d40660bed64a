// expect: compiles
// The control case: the same declarations, correct, compile; so a failure
// above is the rule it names, not a broken include path.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

SIL_MESSAGE(Speed, 3000, (sil::f64, rpm));
SIL_MESSAGE(Torque, 3001, (sil::f64, newton_metres));

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Speed, Torque>;
};

void publish(sil::core::Simulation<System>& sim) {
  auto bus = sim.make_bus();
  bus.publish<sil::ipc::MsgId{3001}>(Torque{.newton_metres = 1.0});
  bus.publish(Speed{.rpm = 2.0});
}
