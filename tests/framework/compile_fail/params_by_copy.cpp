// expect: a service with Params takes a sil::Params<Params> in its constructor
// A service that would take its parameters by value would never see a
// change: it must take the live view.
#include <sil/core/simulation.hpp>
#include <sil/services/params.hpp>

SIL_PARAMS(GainParams, (double, gain, 1.0, "", "loop gain", sil::range(0.0, 10.0)));

struct Loop {
  using Params = GainParams;
  explicit Loop(const Params& params) : gain_(params.gain) {}
  double gain_;
};

struct System : sil::SystemDefaults {
  using services = sil::Services<sil::Instance<"loop", Loop>>;
};

sil::core::Simulation<System> sim(100);
