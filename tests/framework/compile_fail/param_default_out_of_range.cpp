// expect: a parameter of this instance breaks its declaration
// A default outside the declared range does not compile (nor would a value
// given to an instance through sil::Instance<"name", S, &kValues>).
#include <sil/core/simulation.hpp>
#include <sil/services/params.hpp>

SIL_PARAMS(GainParams, (double, gain, 12.0, "", "loop gain", sil::range(0.0, 10.0)));

struct Loop {
  using Params = GainParams;
  explicit Loop(sil::Params<Params> params) : params_(params) {}
  sil::Params<Params> params_;
};

struct System : sil::SystemDefaults {
  using services = sil::Services<sil::Instance<"loop", Loop>>;
};

sil::core::Simulation<System> sim(100);
