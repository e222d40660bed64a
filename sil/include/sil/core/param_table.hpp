#pragma once
// The live parameters of one simulation: for each declared parameter its
// catalogue entry and where its value lives (the instance's Params struct,
// which the simulation owns). Every change goes through set(), all or
// nothing: the control plane, the command line, the in-process target and
// replay share its rules, so a value is refused the same way wherever it
// comes from. The caller calls it between ticks only (docs/parameters.md).
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sil/ipc/param_info.hpp"

namespace sil::core {

using ipc::ParamAssignment;
using ipc::ParamPhase;

// Values set before start that break a rule; what() names each one.
struct ParamError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

class ParamTable {
 public:
  struct Entry {
    ipc::ParamInfo info;
    void* values;  // the instance's Params struct
    ipc::ParamValue (*get)(const void* values);
    void (*set)(void* values, const ipc::ParamValue& checked);  // checked: by check(), in canonical form
  };

  void add(Entry entry) { entries_.push_back(std::move(entry)); }

  const std::vector<Entry>& entries() const noexcept { return entries_; }
  const Entry* find(std::string_view name) const noexcept;
  ipc::ParamValue get(const Entry& entry) const { return entry.get(entry.values); }

  // Sets every assignment, or none: returns one line per assignment that
  // breaks a rule (naming the parameter and the rule), and changes nothing
  // unless that list is empty.
  std::vector<std::string> set(std::span<const ParamAssignment> assignments, ParamPhase phase);

  // The lines set() returned, as one message ("a; b"), for an error reply or
  // an exception.
  static std::string join(const std::vector<std::string>& errors);

 private:
  std::vector<Entry> entries_;
};

// `value` as a value of the parameter `info` describes, in canonical form
// (bool; int64 for signed, uint64 for unsigned integers; double), or why it
// cannot be: the wrong type, out of the type's or the declared range.
std::variant<ipc::ParamValue, std::string> check_param(const ipc::ParamInfo& info, const ipc::ParamValue& value);

// NAME=VALUE text (the command line, a --params file) as an assignment for
// one of `params` (a catalogue's): the value is read as the parameter's
// type. Errors name the parameter and what was wrong.
std::variant<ParamAssignment, std::string> parse_assignment(const std::vector<ipc::ParamInfo>& params,
                                                            std::string_view text);

// "0..10 C" for messages and listings.
std::string describe_range(const ipc::ParamInfo& info);

}  // namespace sil::core
