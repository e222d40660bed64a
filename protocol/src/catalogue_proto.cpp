#include "sil/protocol/catalogue_proto.hpp"

#include <string>

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
}

}  // namespace sil::protocol
