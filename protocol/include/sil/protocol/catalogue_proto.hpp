#pragma once
// A catalogue in its protobuf form: what GetCatalogue answers and what a
// recording's header stores, written by one function.
#include "sil/ipc/catalogue_info.hpp"

namespace sil::control {
class Catalogue;  // sil_control.proto
}

namespace sil::protocol {

void fill_catalogue(control::Catalogue& out, const ipc::CatalogueInfo& catalogue);

}  // namespace sil::protocol
