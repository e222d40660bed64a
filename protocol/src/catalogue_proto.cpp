#include "sil/protocol/catalogue_proto.hpp"

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>

#include "sil_control.pb.h"

namespace sil::protocol {

void fill_catalogue(control::Catalogue& out, const ipc::CatalogueInfo& catalogue) {
  out.set_hash(catalogue.hash);
  for (const auto& info : catalogue.messages) {
    auto* message = out.add_messages();
    message->set_id(static_cast<std::uint16_t>(info.id));
    message->set_name(std::string(info.name));
    message->set_size(static_cast<std::uint32_t>(info.size));
    for (const auto& f : info.fields) {
      auto* field = message->add_fields();
      field->set_name(std::string(f.name));
      field->set_type(std::string(ipc::to_string(f.kind)));
      field->set_offset(static_cast<std::uint32_t>(f.offset));
      field->set_size(static_cast<std::uint32_t>(f.size));
      field->set_count(static_cast<std::uint32_t>(f.count));
    }
  }
  for (const auto& info : catalogue.params) {
    auto* param = out.add_params();
    param->set_name(info.name);
    param->set_type(std::string(ipc::to_string(info.kind)));
    fill_param_value(*param->mutable_default_value(), info.default_value);
    fill_param_value(*param->mutable_min(), info.min);
    fill_param_value(*param->mutable_max(), info.max);
    param->set_unit(std::string(info.unit));
    param->set_description(std::string(info.description));
    param->set_read_only(info.read_only);
    param->set_restart(info.restart);
  }
  for (const auto& info : catalogue.counters) {
    auto* counter = out.add_counters();
    counter->set_name(info.name);
    counter->set_description(std::string(info.description));
  }
}

void fill_param_value(control::ParamValue& out, const ipc::ParamValue& value) {
  std::visit(
      [&](auto v) {
        using T = decltype(v);
        if constexpr (std::is_same_v<T, bool>) {
          out.set_bool_value(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out.set_int_value(v);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          out.set_uint_value(v);
        } else {
          out.set_float_value(v);
        }
      },
      value);
}

std::optional<ipc::ParamValue> read_param_value(const control::ParamValue& value) {
  switch (value.value_case()) {
    case control::ParamValue::kBoolValue: return ipc::ParamValue{value.bool_value()};
    case control::ParamValue::kIntValue: return ipc::ParamValue{static_cast<std::int64_t>(value.int_value())};
    case control::ParamValue::kUintValue: return ipc::ParamValue{static_cast<std::uint64_t>(value.uint_value())};
    case control::ParamValue::kFloatValue: return ipc::ParamValue{value.float_value()};
    default: return std::nullopt;
  }
}

}  // namespace sil::protocol
