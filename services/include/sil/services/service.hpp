#pragma once
// What a service is given, and what it may rely on. A service is a plain
// class; the system constructs it with the first of these it accepts:
//
//     S(const ServiceContext&, const S::Config&)     S(const ServiceContext&)
//     S(const SimClock&, const S::Config&)           S(const SimClock&)
//     S(const S::Config&)                            S()
//
// and calls, on the simulation thread only,
//     void tick(Bus& bus);                       once per tick, in system order
//     void on(const T& msg, Bus& bus);           for each message T it handles
//     void on(const T& msg);                     (or a template, for every message)
// (docs/services.md "Writing a service"). A service's Config is a plain
// struct with defaults; a system can give each instance its own
// (sil::Instance), and it is the place a service's parameters are declared.
#include <cstdint>
#include <string_view>

#include "sil/ipc/build_info.hpp"
#include "sil/ipc/declare.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/sim_clock.hpp"

namespace sil::services {

using ipc::BuildInfo;
using ipc::SimClock;

struct ServiceContext {
  const SimClock& clock;
  std::string_view instance;        // the instance's name in its system ("left")
  const BuildInfo& build;           // the build of the system this instance runs in
  std::uint32_t catalogue_hash = 0;  // the system's catalogue hash
};

}  // namespace sil::services

namespace sil {
using services::ServiceContext;
}  // namespace sil
