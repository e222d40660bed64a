// expect: field descriptors do not cover its bytes in order
// A hand-written message whose descriptors leave out a field does not compile.
#include <sil/core/simulation.hpp>
#include <sil/ipc/declare.hpp>

struct Pose {
  static constexpr sil::ipc::MsgId id{3000};
  static constexpr std::string_view name = "Pose";
  sil::f64 x;
  sil::f64 y;  // not described below
  static constexpr auto fields() { return std::tuple{sil::ipc::field<&Pose::x>("x")}; }
};

struct System : sil::SystemDefaults {
  using messages = sil::Messages<Pose>;
};

std::uint32_t hash = sil::SystemTraits<System>::catalogue::hash;
