#pragma once
// A catalogue in its protobuf form: what GetCatalogue answers and what a
// recording's header stores, written by one function.
#include <optional>

#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/param_info.hpp"

namespace sil::control {
class Catalogue;  // sil_control.proto
class ParamValue;
}

namespace sil::protocol {

void fill_catalogue(control::Catalogue& out, const ipc::CatalogueInfo& catalogue);

// A parameter value in its protobuf form and back (nullopt: none set).
void fill_param_value(control::ParamValue& out, const ipc::ParamValue& value);
std::optional<ipc::ParamValue> read_param_value(const control::ParamValue& value);

}  // namespace sil::protocol
