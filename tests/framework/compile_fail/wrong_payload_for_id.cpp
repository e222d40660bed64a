// expect: no matching function|could not convert|cannot convert|no known conversion
// A payload published under another message's id does not compile.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

SIL_MESSAGE(Speed, 3000, (sil::f64, rpm));
SIL_MESSAGE(Torque, 3001, (sil::f64, newton_metres));

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Speed, Torque>;
};

void publish_torque_as_speed(sil::core::Simulation<System>& sim) {
  auto bus = sim.make_bus();
  bus.publish<sil::ipc::MsgId{3000}>(Torque{.newton_metres = 1.0});
}
