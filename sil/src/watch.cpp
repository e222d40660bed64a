#include "sil/core/watch.hpp"

#include "sil/ipc/catalogue_info.hpp"

namespace sil::core {

std::string validate(const WatchSpec& spec, const ipc::CatalogueInfo& catalogue) {
  for (const auto& message : catalogue.messages) {
    if (static_cast<std::uint16_t>(message.id) != spec.msg_id) continue;
    if (!spec.match) return {};
    for (const auto& field : message.fields) {
      if (field.name != spec.match->field) continue;
      const bool text = field.kind == ipc::FieldKind::text;
      const bool real = field.kind == ipc::FieldKind::f32 || field.kind == ipc::FieldKind::f64;
      const bool ok = text ? std::holds_alternative<std::string>(spec.match->value)
                           : real ? std::holds_alternative<double>(spec.match->value)
                                  : std::holds_alternative<std::int64_t>(spec.match->value);
      if (ok) return {};
      return std::string(message.name) + "." + spec.match->field + " is " + std::string(ipc::to_string(field.kind)) +
             ": compare it with " + (text ? "text" : real ? "a float" : "an integer");
    }
    return std::string(message.name) + " has no field '" + spec.match->field + "'";
  }
  return "no message has id " + std::to_string(spec.msg_id);
}

}  // namespace sil::core
