#pragma once
// The control requests that change (or read) a simulation's state rather
// than its clock: get_params, set_params, add_fault, remove_fault,
// list_faults. One function answers them for every host that has a
// simulation: the control plane of sil-sim and of a HIL rig, the in-process
// target, and replay, which applies the recorded ones again.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sil/core/control.hpp"
#include "sil/core/param_table.hpp"

namespace sil::core {

struct StateReply {
  std::string bytes;     // the serialized Reply
  bool refused = false;  // an error reply: nothing changed
};

// The reply to `command` if it is one of the above (applied, or refused with
// an error naming the problem); nullopt for any other command.
template <class Sim>
std::optional<StateReply> answer_state_request(Sim& sim, const ControlCommand& command, const HostStatus& status) {
  const std::uint32_t seq = command.sequence;
  const auto refuse = [&](std::string message) {
    return StateReply{encode_error({seq, ControlErrorCode::invalid_argument, std::move(message)}, status), true};
  };
  if (const auto* get = std::get_if<GetParamsCommand>(&command.action)) {
    std::string unknown;
    for (const auto& name : get->names) {
      if (sim.params().find(name) == nullptr) unknown += (unknown.empty() ? "" : ", ") + name;
    }
    if (!unknown.empty()) return refuse("get_params: no such parameter: " + unknown);
    return StateReply{encode_params(seq, status, sim.params(), get->names)};
  }
  if (const auto* set = std::get_if<SetParamsCommand>(&command.action)) {
    const auto errors = sim.params().set(set->assignments, ParamPhase::running);
    if (!errors.empty()) return refuse("set_params: nothing changed: " + ParamTable::join(errors));
    std::vector<std::string> names;
    for (const auto& assignment : set->assignments) names.push_back(assignment.name);
    return StateReply{encode_params(seq, status, sim.params(), names)};
  }
  if (const auto* add = std::get_if<AddFaultCommand>(&command.action)) {
    auto added = sim.faults().add(add->spec);
    if (auto* error = std::get_if<std::string>(&added)) return refuse("add_fault: " + *error);
    return StateReply{encode_faults(seq, status, sim.faults(), std::get<std::uint32_t>(added))};
  }
  if (const auto* remove = std::get_if<RemoveFaultCommand>(&command.action)) {
    if (remove->id == 0) {
      sim.faults().clear();
    } else if (!sim.faults().remove(remove->id)) {
      return refuse("remove_fault: no fault with id " + std::to_string(remove->id));
    }
    return StateReply{encode_faults(seq, status, sim.faults())};
  }
  if (std::holds_alternative<ListFaultsCommand>(command.action)) {
    return StateReply{encode_faults(seq, status, sim.faults())};
  }
  return std::nullopt;
}

}  // namespace sil::core
