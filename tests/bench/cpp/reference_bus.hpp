#pragma once
// The reference design the bus benchmark compares against, rebuilt in-tree
// from its description (/work/shared/reference, the send-path analysis): a
// hash map from MsgId to a vector of type-erased handlers, and one indirect
// call per subscriber. Benchmark-only; nothing in sil uses it.
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/msg_id.hpp"

namespace sil::bench {

class ReferenceBus {
 public:
  // The handler takes the typed payload; the stored std::function takes the
  // erased pointer and casts it back, as the analysed code does.
  template <ipc::MsgId Id, class Handler>
  void subscribe(Handler handler) {
    handlers_[Id].emplace_back(
        [handler](const void* payload) mutable { handler(*static_cast<const ipc::FrameworkCatalogue::Payload<Id>*>(payload)); });
  }

  template <ipc::MsgId Id>
  void publish(const ipc::FrameworkCatalogue::Payload<Id>& payload) const {
    dispatch(Id, &payload);
  }

 private:
  // Out of line, as the analysis found it: one dispatch serves every
  // message type, so the compiler keeps it as a function of its own.
  [[gnu::noinline]] void dispatch(ipc::MsgId id, const void* payload) const {
    const auto found = handlers_.find(id);
    if (found == handlers_.end()) return;
    for (const auto& handler : found->second) handler(payload);
  }

  std::unordered_map<ipc::MsgId, std::vector<std::function<void(const void*)>>> handlers_;
};

}  // namespace sil::bench
