// sil._core.StepLinkCore: StepLink (step_link.hpp) for Python. The GIL is
// released while a round trip waits; outcomes become the package's own
// exceptions (sil.ControlError, sil.SimHungError), looked up only when one
// is raised. sil.StepLink (python/sil/step.py) opens the socket and says
// Hello; this class does the round trips.
#include <pybind11/pybind11.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "bindings.hpp"
#include "message_object.hpp"
#include "py_util.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil_control.pb.h"
#include "sil/harness/link.hpp"

namespace sil::python {

namespace {

using harness::RxBudget;
using StepLink = harness::Link;
using Clock = StepLink::Clock;

// Hello is the one request repeated when its reply is late (it changes
// nothing), as the targets do: over a real network a datagram can be lost.
constexpr std::chrono::milliseconds kHelloResend{200};

[[noreturn]] void raise_hung(const std::string& message) {
  PyErr_SetString(py::module_::import("sil.targets").attr("SimHungError").ptr(), message.c_str());
  throw py::error_already_set();
}

// sil.ControlError(request, code, detail); code an Error.Code (named as
// the sim's error replies are) or a name of our own.
[[noreturn]] void raise_control_error(const std::string& request, py::object code, const std::string& detail) {
  const py::module_ control = py::module_::import("sil.control");
  if (py::isinstance<py::int_>(code)) code = control.attr("error_name")(code);
  const py::object error = control.attr("ControlError")(request, code, detail);
  PyErr_SetObject(error.get_type().ptr(), error.ptr());
  throw py::error_already_set();
}

std::string advance_text(std::uint64_t ticks) { return "Advance(ticks=" + std::to_string(ticks) + ")"; }

class PyStepLink {
 public:
  explicit PyStepLink(int fd) : link_(std::in_place, fd), budget_(static_cast<std::size_t>(link_->receive_buffer())) {}

  // Hello until Ready (or an error reply); returns the Reply's bytes.
  py::bytes hello(std::uint32_t catalogue_hash, std::uint32_t bundle_bytes) {
    StepLink& link = open();
    const auto deadline = Clock::now() + wall_timeout();
    std::uint32_t first = 0;
    for (;;) {
      const std::uint32_t sequence = link.send_hello(catalogue_hash, bundle_bytes);
      if (sequence == 0) raise_send_error(link);
      if (first == 0) first = sequence;
      // A late Ready to an earlier Hello is as good as the latest one's.
      if (wait(first, sequence, std::min(deadline, Clock::now() + kHelloResend), [] { return std::string("Hello"); }) ==
          StepLink::Wait::reply) {
        std::string bytes;
        link.reply().SerializeToString(&bytes);
        return py::bytes(bytes);
      }
      if (Clock::now() >= deadline) {
        raise_hung("no reply to Hello within " + seconds_text() + " s (is a sil-sim listening at that port?)");
      }
    }
  }

  // Runs `ticks` ticks, as one Advance or, when their messages might not
  // fit the socket's receive buffer, several.
  void advance(std::int64_t ticks) {
    if (ticks < 1) throw py::value_error("advance() needs ticks >= 1, got " + std::to_string(ticks));
    StepLink& link = open();
    auto remaining = static_cast<std::uint64_t>(ticks);
    while (remaining > 0) {
      const std::uint64_t chunk = std::min(remaining, budget_.chunk_ticks());
      const std::uint32_t sequence = link.send_advance(chunk);
      if (sequence == 0) raise_send_error(link);
      // The request's text is made only for an error: a round trip allocates nothing.
      const auto request = [chunk] { return advance_text(chunk); };
      if (wait(sequence, sequence, Clock::now() + wall_timeout(), request) != StepLink::Wait::reply) {
        raise_hung("no reply to " + request() + " within " + seconds_text() + " s");
      }
      const control::Reply& reply = link.reply();
      if (reply.has_error()) {
        raise_control_error(request(), py::int_(static_cast<int>(reply.error().code())), reply.error().message());
      }
      if (!reply.has_advanced() || reply.advanced().ticks_run() != chunk) {
        raise_control_error(request(), py::str("PROTOCOL"),
                            "the reply says " + std::to_string(reply.advanced().ticks_run()) + " ticks ran");
      }
      tick_ = reply.tick();
      now_ns_ = reply.sim_time_ns();
      budget_.learn(link.reply_cost(), chunk);
      remaining -= chunk;
    }
  }

  void inject(py::handle message) {
    StepLink& link = open();
    bool sent = false;
    const bool found = with_message(message, [&](const auto& payload) {
      const auto datagram = ipc::encode_datagram(payload);
      sent = link.send_datagram(std::as_bytes(std::span{datagram}));
    });
    if (!found) throw py::type_error("inject() needs a message object (see message_types()), got " + type_name(message));
    if (!sent) raise_send_error(link);
  }

  // The messages received since the last take(), decoded; a datagram the
  // sim would not have sent goes to undecodable instead.
  py::list take() {
    StepLink& link = open();
    py::list messages;
    link.for_each_datagram([&](std::span<const std::byte> datagram) {
      const auto result = ipc::decode_datagram<Catalogue>(datagram);
      if (result.accepted()) {
        messages.append(message_object(result.message));
      } else {
        link.undecodable().push_back({{datagram.begin(), datagram.end()}, std::string(to_string(result.verdict))});
      }
    });
    link.clear_datagrams();
    return messages;
  }

  py::list undecodable() {
    py::list out;
    for (const auto& item : open().undecodable()) {
      out.append(py::make_tuple(
          py::bytes(reinterpret_cast<const char*>(item.bytes.data()), item.bytes.size()), item.reason));
    }
    return out;
  }

  std::uint64_t tick() const noexcept { return tick_; }
  std::uint64_t now_ns() const noexcept { return now_ns_; }
  std::uint64_t datagrams() const { return link_ ? link_->datagrams() : 0; }
  std::uint64_t bundles() const { return link_ ? link_->bundles() : 0; }
  std::uint64_t chunk_ticks() const noexcept { return budget_.chunk_ticks(); }
  double timeout() const noexcept { return timeout_s_; }
  void set_timeout(double seconds) {
    if (!(seconds > 0.0) || !std::isfinite(seconds) || seconds > 1e6) {
      throw py::value_error("timeout must be a number of seconds > 0, got " + std::to_string(seconds));
    }
    timeout_s_ = seconds;
  }
  void close() noexcept { link_.reset(); }
  bool closed() const noexcept { return !link_; }

 private:
  StepLink& open() {
    if (!link_) throw py::value_error("the StepLink is closed");
    return *link_;
  }
  Clock::duration wall_timeout() const {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s_));
  }
  std::string seconds_text() const {
    std::string text = std::to_string(timeout_s_);
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
    return text;
  }

  // Waits without the GIL; a signal (Ctrl-C) is handled between waits.
  // The wait is cut into slices: a signal delivered to another thread of
  // the process interrupts nothing here, and Python runs its handler only
  // when the main thread checks. request() names the request, for the
  // error when the sim is gone.
  template <class Describe>
  StepLink::Wait wait(std::uint32_t first, std::uint32_t last, Clock::time_point deadline, Describe&& request) {
    constexpr auto kSignalCheck = std::chrono::milliseconds(100);
    for (;;) {
      StepLink::Wait outcome;
      const auto slice_end = std::min(deadline, Clock::now() + std::chrono::duration_cast<Clock::duration>(kSignalCheck));
      {
        py::gil_scoped_release released;
        outcome = link_->wait_reply(first, last, slice_end);
      }
      if (outcome == StepLink::Wait::interrupted ||
          (outcome == StepLink::Wait::timed_out && slice_end < deadline)) {
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        continue;
      }
      if (outcome == StepLink::Wait::refused) {
        raise_hung("no reply to " + request() + ": nothing listens at the sim's port any more (has the sim exited?)");
      }
      return outcome;
    }
  }

  [[noreturn]] static void raise_send_error(const StepLink& link) {
    if (link.last_send_error() == ECONNREFUSED) {
      raise_hung("nothing listens at the sim's port any more (has the sim exited?)");
    }
    errno = link.last_send_error();  // what failed, not whatever ran since
    PyErr_SetFromErrno(PyExc_OSError);
    throw py::error_already_set();
  }

  std::optional<StepLink> link_;
  RxBudget budget_;
  double timeout_s_ = 30.0;
  std::uint64_t tick_ = 0;
  std::uint64_t now_ns_ = 0;
};

}  // namespace

void add_step_link(py::module_& module) {
  py::class_<RxBudget>(module, "RxBudget", py::module_local(),
                       "How many ticks one Advance may ask for so that their datagrams fit the socket's receive "
                       "buffer (the policy StepLink and NetworkTarget share).")
      .def(py::init<std::size_t>(), py::arg("receive_buffer"))
      .def_static("cost", &RxBudget::cost, py::arg("datagram_length"),
                  "Receive-buffer bytes a datagram of this length may take (a guess on the safe side).")
      .def("chunk_ticks", &RxBudget::chunk_ticks)
      .def("learn", &RxBudget::learn, py::arg("bytes"), py::arg("ticks"),
           "After an advance: its datagrams took `bytes` (sum of cost()) for `ticks` ticks.");
  module.attr("MAX_CHUNK_TICKS") = RxBudget::kMaxChunkTicks;

  py::class_<PyStepLink>(module, "StepLinkCore", py::module_local(),
                         "Lockstep round trips in C++ (use sil.StepLink, which opens the socket and says Hello).")
      .def(py::init<int>(), py::arg("fd"))
      .def("_hello", &PyStepLink::hello, py::arg("catalogue_hash"), py::arg("bundle_bytes"))
      .def("advance", &PyStepLink::advance, py::arg("ticks") = 1,
           "Runs `ticks` ticks and returns when the sim's reply says they ran; what they published is kept "
           "for take(). Raises ControlError on an error reply, SimHungError when no reply comes within timeout.")
      .def("inject", &PyStepLink::inject, py::arg("message"),
           "Sends a message; the sim publishes it at the start of the next tick.")
      .def("take", &PyStepLink::take, "The messages received since the last take(), in arrival order.")
      .def_property_readonly("undecodable", &PyStepLink::undecodable,
                             "(datagram, reason) for each datagram received that the sim would not have sent.")
      .def_property_readonly("tick", &PyStepLink::tick, "The next tick to run, from the last reply.")
      .def_property_readonly("now_ns", &PyStepLink::now_ns, "Simulated time in ns, from the last reply.")
      .def_property_readonly("datagrams", &PyStepLink::datagrams, "Datagrams received (a bundle counts once).")
      .def_property_readonly("bundles", &PyStepLink::bundles, "Bundles received.")
      .def_property_readonly("chunk_ticks", &PyStepLink::chunk_ticks,
                             "The most ticks one Advance asks for now (advance() splits longer ones).")
      .def_property("timeout", &PyStepLink::timeout, &PyStepLink::set_timeout,
                    "Wall-clock seconds a reply may take before SimHungError (default 30).")
      .def("close", &PyStepLink::close)
      .def_property_readonly("closed", &PyStepLink::closed);
}

}  // namespace sil::python
