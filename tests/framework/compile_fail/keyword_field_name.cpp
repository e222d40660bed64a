// expect: a message's field name is reserved
// A field named with a Python keyword does not compile: `msg.from` could not
// be written in a scenario.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

SIL_MESSAGE(Handover, 3000, (sil::u32, from), (sil::u32, to));

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Handover>;
};

std::uint32_t hash = sil::SystemTraits<System>::catalogue::hash;
