// expect: a parameter of this instance breaks its declaration
// A numeric parameter without a sil::range does not compile: every value
// that can be set has a range to be checked against.
#include <sil/core/simulation.hpp>
#include <sil/services/params.hpp>

SIL_PARAMS(GainParams, (double, gain, 1.0, "", "loop gain"));

struct Loop {
  using Params = GainParams;
  explicit Loop(sil::Params<Params> params) : params_(params) {}
  sil::Params<Params> params_;
};

struct System : sil::SystemDefaults {
  using services = sil::Services<sil::Instance<"loop", Loop>>;
};

sil::core::Simulation<System> sim(100);
