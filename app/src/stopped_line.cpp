#include "sil/app/stopped_line.hpp"

#include <cstddef>
#include <cstdio>

namespace sil::app {

namespace {

// A JSON string: instance names are whatever the system declared.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string stopped_line(const bridge::BridgeStats& s, std::uint64_t ticks, std::uint64_t overruns,
                         std::span<const std::pair<std::string_view, std::uint64_t>> counters,
                         const std::string& recording) {
  const auto number = [](std::uint64_t value) { return std::to_string(value); };
  std::string rx;
  for (std::size_t i = 0; i < bridge::kVerdictCount; ++i) {
    if (i != 0) rx += ", ";
    rx += "\"" + std::string(ipc::to_string(static_cast<ipc::Verdict>(i))) + "\": " + number(s.rx[i]);
  }
  std::string tx_errors;
  for (std::size_t i = 0; i < bridge::kSendErrorCount; ++i) {
    if (i != 0) tx_errors += ", ";
    tx_errors += "\"" + std::string(bridge::to_string(static_cast<bridge::SendError>(i))) +
                 "\": " + number(s.tx_errors_by_reason[i]);
  }
  std::string line = "{\"event\": \"stopped\", \"ticks\": " + number(ticks) + ", \"overruns\": " + number(overruns) +
                     ", \"rx\": {" + rx + "}, \"rx_inbox_full\": " + number(s.rx_inbox_full) +
                     ", \"rx_errors\": " + number(s.rx_errors) + ", \"tx_sent\": " + number(s.tx_sent) +
                     ", \"tx_no_peer\": " + number(s.tx_no_peer) + ", \"tx_errors\": " + number(s.tx_errors) +
                     ", \"peer_changes\": " + number(s.peer_changes) +
                     ", \"rx_not_allowed\": " + number(s.rx_not_allowed) + ", \"rx_not_peer\": " + number(s.rx_not_peer) +
                     ", \"peer_expiries\": " + number(s.peer_expiries) + ", \"tx_errors_by_reason\": {" + tx_errors + "}";
  line += ", \"counters\": {";
  for (std::size_t i = 0; i < counters.size(); ++i) {
    line += (i == 0 ? "" : ", ") + quoted(counters[i].first) + ": " + number(counters[i].second);
  }
  line += "}";
  if (!recording.empty()) line += ", \"recording\": " + recording;
  return line + "}";
}

}  // namespace sil::app
