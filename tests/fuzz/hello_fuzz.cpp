// Fuzz target: is_hello_request and is_query_request (bridge/hello.hpp), the
// protobuf the receiving thread reads itself, to let a Hello take over a
// sticky peer and keep a query from taking it. Checked both ways against
// protobuf's own parser: whatever they call a Hello or a query is one, and
// every canonically encoded one is recognised.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_target.hpp"
#include "sil/bridge/hello.hpp"
#include "sil_control.pb.h"

#include <google/protobuf/stubs/logging.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sil::fuzz::check;
  const auto body = std::as_bytes(std::span{data, size});
  const bool hello = sil::bridge::is_hello_request(body);
  sil::control::Request request;
  const google::protobuf::LogSilencer quiet;  // invalid UTF-8 would log a line per input
  const bool parsed = request.ParseFromArray(data, static_cast<int>(size));
  if (hello) {
    check(parsed, "a recognised Hello parses as a Request");
    check(request.has_hello(), "a recognised Hello is a Request whose command is hello");
  }
  if (parsed && request.has_hello()) {
    sil::control::Request canonical;
    canonical.set_sequence(request.sequence());
    canonical.mutable_hello()->set_catalogue_hash(request.hello().catalogue_hash());
    canonical.mutable_hello()->set_bundle_bytes(request.hello().bundle_bytes());
    const std::string bytes = canonical.SerializeAsString();
    if (bytes.size() == size && std::equal(bytes.begin(), bytes.end(), reinterpret_cast<const char*>(data))) {
      check(hello, "every canonically encoded Hello is recognised");
    }
  }
  const bool query = sil::bridge::is_query_request(body);
  const auto is_a_query = [](const sil::control::Request& r) {
    return r.has_get_stats() || r.has_get_catalogue() || r.has_get_params() || r.has_list_faults();
  };
  if (query) {
    check(parsed, "a recognised query parses as a Request");
    check(is_a_query(request), "a recognised query is GetStats, GetCatalogue, GetParams or ListFaults");
  }
  if (parsed && is_a_query(request)) {
    sil::control::Request canonical;
    canonical.set_sequence(request.sequence());
    if (request.has_get_stats()) canonical.mutable_get_stats();
    if (request.has_get_catalogue()) canonical.mutable_get_catalogue();
    if (request.has_list_faults()) canonical.mutable_list_faults();
    if (request.has_get_params()) *canonical.mutable_get_params()->mutable_names() = request.get_params().names();
    const std::string bytes = canonical.SerializeAsString();
    if (bytes.size() == size && std::equal(bytes.begin(), bytes.end(), reinterpret_cast<const char*>(data))) {
      check(query, "every canonically encoded query is recognised");
    }
  }
  return 0;
}
