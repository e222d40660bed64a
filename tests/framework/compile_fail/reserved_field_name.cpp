// expect: a message's field name is reserved
// A field named like something the harness's message class already has
// (here `zero`, the class's constructor of zeros) does not compile: in
// Python one of the two would silently hide the other.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

SIL_MESSAGE(Gauge, 3000, (sil::f64, zero), (sil::f64, span));

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Gauge>;
};

std::uint32_t hash = sil::SystemTraits<System>::catalogue::hash;
