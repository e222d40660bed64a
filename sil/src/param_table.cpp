#include "sil/core/param_table.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <system_error>

namespace sil::core {

namespace {

const char* article(ipc::ParamKind kind) { return kind == ipc::ParamKind::i32 || kind == ipc::ParamKind::i64 ? "an" : "a"; }

std::string type_of(const ipc::ParamValue& value) {
  if (std::holds_alternative<bool>(value)) return "a bool";
  if (std::holds_alternative<double>(value)) return "a float";
  return "an integer";
}

// Integers compared across signedness without conversion surprises.
template <class A, class B>
bool less(A a, B b) noexcept {
  return std::cmp_less(a, b);
}

std::variant<ipc::ParamValue, std::string> check_integer(const ipc::ParamInfo& info, const ipc::ParamValue& value) {
  const bool is_signed = info.kind == ipc::ParamKind::i32 || info.kind == ipc::ParamKind::i64;
  const auto wrong = [&] {
    return info.name + " is " + article(info.kind) + " " + std::string(to_string(info.kind)) + " (an integer); got " +
           type_of(value) + " " + ipc::to_string(value);
  };
  const auto* i = std::get_if<std::int64_t>(&value);
  const auto* u = std::get_if<std::uint64_t>(&value);
  if (i == nullptr && u == nullptr) return wrong();
  const auto out_of_range = [&] {
    return info.name + ": " + ipc::to_string(value) + " is outside its range " + describe_range(info);
  };
  // In the declared range, which lies inside the type's.
  const auto within = [&](auto v) {
    return std::visit(
        [&](auto min, auto max) {
          if constexpr (std::is_same_v<decltype(min), bool> || std::is_same_v<decltype(min), double> ||
                        std::is_same_v<decltype(max), bool> || std::is_same_v<decltype(max), double>) {
            return false;
          } else {
            return !less(v, min) && !less(max, v);
          }
        },
        info.min, info.max);
  };
  if (i != nullptr) {
    if (!within(*i)) return out_of_range();
    return is_signed ? ipc::ParamValue{*i} : ipc::ParamValue{static_cast<std::uint64_t>(*i)};
  }
  if (!within(*u)) return out_of_range();
  return is_signed ? ipc::ParamValue{static_cast<std::int64_t>(*u)} : ipc::ParamValue{*u};
}

std::variant<ipc::ParamValue, std::string> check_float(const ipc::ParamInfo& info, const ipc::ParamValue& value) {
  double d = 0;
  if (const auto* f = std::get_if<double>(&value)) {
    d = *f;
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    d = static_cast<double>(*i);
  } else if (const auto* u = std::get_if<std::uint64_t>(&value)) {
    d = static_cast<double>(*u);
  } else {
    return info.name + " is an f64 (a number); got a bool " + ipc::to_string(value);
  }
  const double min = std::get<double>(info.min);
  const double max = std::get<double>(info.max);
  if (!(d >= min && d <= max)) {  // NaN too
    return info.name + ": " + ipc::to_string(ipc::ParamValue{d}) + " is outside its range " + describe_range(info);
  }
  return ipc::ParamValue{d};
}

}  // namespace

std::string describe_range(const ipc::ParamInfo& info) {
  if (info.kind == ipc::ParamKind::boolean) return "false..true";
  std::string text = ipc::to_string(info.min) + ".." + ipc::to_string(info.max);
  if (!info.unit.empty()) text += " " + std::string(info.unit);
  return text;
}

std::variant<ipc::ParamValue, std::string> check_param(const ipc::ParamInfo& info, const ipc::ParamValue& value) {
  switch (info.kind) {
    case ipc::ParamKind::boolean:
      if (!std::holds_alternative<bool>(value)) {
        return info.name + " is a bool; got " + type_of(value) + " " + ipc::to_string(value);
      }
      return value;
    case ipc::ParamKind::f64: return check_float(info, value);
    default: return check_integer(info, value);
  }
}

const ParamTable::Entry* ParamTable::find(std::string_view name) const noexcept {
  for (const auto& entry : entries_)
    if (entry.info.name == name) return &entry;
  return nullptr;
}

std::string ParamTable::join(const std::vector<std::string>& errors) {
  std::string text;
  for (const auto& error : errors) text += (text.empty() ? "" : "; ") + error;
  return text;
}

std::vector<std::string> ParamTable::set(std::span<const ParamAssignment> assignments, ParamPhase phase) {
  std::vector<std::string> errors;
  std::vector<std::pair<const Entry*, ipc::ParamValue>> checked;
  std::set<std::string_view> named;
  for (const auto& assignment : assignments) {
    const Entry* entry = find(assignment.name);
    if (entry == nullptr) {
      errors.push_back(assignment.name + ": no such parameter");
      continue;
    }
    if (!named.insert(entry->info.name).second) {
      errors.push_back(assignment.name + ": named twice in one change");
      continue;
    }
    if (entry->info.read_only) {
      errors.push_back(assignment.name + ": read only");
      continue;
    }
    if (entry->info.restart && phase == ParamPhase::running) {
      errors.push_back(assignment.name +
                       ": takes effect at restart; set it before start (--param, @pytest.mark.sil_params)");
      continue;
    }
    auto result = check_param(entry->info, assignment.value);
    if (auto* error = std::get_if<std::string>(&result)) {
      errors.push_back(std::move(*error));
      continue;
    }
    checked.emplace_back(entry, std::get<ipc::ParamValue>(result));
  }
  if (!errors.empty()) return errors;
  for (const auto& [entry, value] : checked) entry->set(entry->values, value);
  return errors;
}

std::variant<ParamAssignment, std::string> parse_assignment(const std::vector<ipc::ParamInfo>& params,
                                                            std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return "'" + std::string(text) + "' is not NAME=VALUE";
  }
  const auto trim = [](std::string_view part) {
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    return part;
  };
  const std::string name(trim(text.substr(0, equals)));
  const std::string_view value = trim(text.substr(equals + 1));
  const ipc::ParamInfo* info = nullptr;
  for (const auto& param : params)
    if (param.name == name) info = &param;
  if (info == nullptr) return name + ": no such parameter";
  const auto bad = [&](const char* what) {
    return name + ": '" + std::string(value) + "' is not " + what;
  };
  const char* first = value.data();
  const char* last = value.data() + value.size();
  switch (info->kind) {
    case ipc::ParamKind::boolean:
      if (value == "true" || value == "1") return ParamAssignment{name, true};
      if (value == "false" || value == "0") return ParamAssignment{name, false};
      return bad("a bool (true, false, 1 or 0)");
    case ipc::ParamKind::f64: {
      double d = 0;
      const auto [end, ec] = std::from_chars(first, last, d);
      if (value.empty() || ec != std::errc{} || end != last) return bad("a number");
      return ParamAssignment{name, d};
    }
    case ipc::ParamKind::u32:
    case ipc::ParamKind::u64: {
      std::uint64_t u = 0;
      const auto [end, ec] = std::from_chars(first, last, u);
      if (value.empty() || ec != std::errc{} || end != last) return bad("a non-negative integer");
      return ParamAssignment{name, u};
    }
    default: {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(first, last, i);
      if (value.empty() || ec != std::errc{} || end != last) return bad("an integer");
      return ParamAssignment{name, i};
    }
  }
}

}  // namespace sil::core
