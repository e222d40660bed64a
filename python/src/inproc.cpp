// sil._core.InprocSim: the simulation sil-sim runs (every registered service
// on one bus), inside the Python process and stepped directly by Python. No
// socket and no thread: inject() publishes on the bus at once, advance()
// runs ticks with the same sil::core::AdvanceRun and Watch the sim's step
// clock uses, and every publication is recorded as (sim time, MsgId,
// payload bytes) and folded into the same TraceDigest.
#include <pybind11/pybind11.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bindings.hpp"
#include "message_object.hpp"
#include "param_values.hpp"
#include "py_util.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/core/advance.hpp"
#include "sil/core/publish_counter.hpp"
#include "sil/core/simulation.hpp"
#include "sil/core/state_requests.hpp"
#include "sil/core/trace_digest.hpp"
#include "sil/core/watch.hpp"
#include "system.hpp"
#include "sil/ipc/msg_id.hpp"
#include "system.hpp"

namespace sil::python {

namespace {

// The rates sil-sim accepts (--rate).
constexpr std::uint32_t kMaxRateHz = 100'000;

// One publication on the bus.
struct Record {
  std::uint64_t time_ns;
  std::size_t offset;  // of the payload in Recorder::bytes_
  std::uint16_t msg_id;
  std::uint16_t size;
  bool injected;  // published by inject(), not by a service
};

// A bus subscriber (after the services, like sil-sim's bridge) that keeps
// every publication. Allocation is fine here: this is a test harness.
class Recorder {
 public:
  explicit Recorder(const ipc::SimClock& clock) noexcept : clock_(clock) {}

  template <ipc::Message T>
  void on(const T& message) {
    const auto* first = reinterpret_cast<const std::byte*>(&message);
    const std::size_t offset = bytes_.size();
    bytes_.insert(bytes_.end(), first, first + sizeof(T));
    records_.push_back({clock_.now_ns(), offset, static_cast<std::uint16_t>(T::id),
                        static_cast<std::uint16_t>(sizeof(T)), static_cast<const void*>(&message) == injected_});
  }

  // The payload object inject() is publishing, so its record is flagged (by
  // address, as the bridge recognises what a peer sent).
  void set_injected(const void* payload) noexcept { injected_ = payload; }

  const std::vector<Record>& records() const noexcept { return records_; }
  const std::byte* payload(const Record& record) const noexcept { return bytes_.data() + record.offset; }

 private:
  const ipc::SimClock& clock_;
  std::vector<Record> records_;
  std::vector<std::byte> bytes_;
  const void* injected_ = nullptr;
};

// Clears the injected mark however the publish ends.
class InjectedMark {
 public:
  InjectedMark(Recorder& recorder, const void* payload) noexcept : recorder_(recorder) {
    recorder_.set_injected(payload);
  }
  ~InjectedMark() { recorder_.set_injected(nullptr); }
  InjectedMark(const InjectedMark&) = delete;
  InjectedMark& operator=(const InjectedMark&) = delete;

 private:
  Recorder& recorder_;
};

// A non-negative Python int that fits a u64, or a clear exception.
std::uint64_t to_u64(py::handle value, const char* what) {
  if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr())) {
    throw py::type_error(std::string(what) + " must be an int, got " + type_name(value));
  }
  const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!index) throw py::error_already_set();
  const unsigned long long result = PyLong_AsUnsignedLongLong(index.ptr());
  if (PyErr_Occurred() != nullptr) {
    if (!PyErr_ExceptionMatches(PyExc_OverflowError)) throw py::error_already_set();
    PyErr_Clear();
    raise(PyExc_ValueError, std::string(what) + " must be between 0 and 2**64-1, got " +
                                py::repr(index).cast<std::string>());
  }
  return result;
}

// What Until compares a field with (sil_control.proto FieldValue): an int,
// a float or a str, nothing else.
core::FieldValue to_field_value(py::handle value) {
  if (PyBool_Check(value.ptr())) {
    throw py::type_error("advance_until(): value must be an int, a float or a str, got bool (use 1 or 0)");
  }
  if (PyLong_Check(value.ptr())) {
    int overflow = 0;
    const long long number = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (number == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
    if (overflow != 0) {
      raise(PyExc_OverflowError, "advance_until(): value " + py::repr(value).cast<std::string>() +
                                     " does not fit the int64 the watch compares integers as");
    }
    return static_cast<std::int64_t>(number);
  }
  if (PyFloat_Check(value.ptr())) return PyFloat_AsDouble(value.ptr());
  if (PyUnicode_Check(value.ptr())) {
    Py_ssize_t length = 0;
    const char* text = PyUnicode_AsUTF8AndSize(value.ptr(), &length);
    if (text == nullptr) {
      PyErr_Clear();
      throw py::value_error("advance_until(): value is not valid UTF-8 text");
    }
    return std::string(text, static_cast<std::size_t>(length));
  }
  throw py::type_error("advance_until(): value must be an int, a float or a str, got " + type_name(value));
}

// {name: value} as assignments, the values carried as they are (the table checks them).
std::vector<ipc::ParamAssignment> assignments_of(py::handle values, const char* what) {
  if (!py::isinstance<py::dict>(values)) {
    throw py::type_error(std::string(what) + ": parameters are a {name: value} dict, got " + type_name(values));
  }
  std::vector<ipc::ParamAssignment> assignments;
  for (auto [name, value] : py::reinterpret_borrow<py::dict>(values)) {
    if (!py::isinstance<py::str>(name)) {
      throw py::type_error(std::string(what) + ": parameter names are str, got " + type_name(name));
    }
    const auto text = name.cast<std::string>();
    assignments.push_back({text, param_from_py(value, text)});
  }
  return assignments;
}

class InprocSim {
 public:
  InprocSim(std::uint32_t rate_hz, std::span<const ipc::ParamAssignment> params)
      : sim_(rate_hz, build_info(), params),
        recorder_(sim_.clock()),
        digest_(sim_.clock()),
        watch_(Catalogue::max_payload_size),
        bus_(sim_.make_bus(recorder_, digest_, watch_, published_)) {}
  InprocSim(const InprocSim&) = delete;  // the bus holds references to the members
  InprocSim& operator=(const InprocSim&) = delete;

  const ipc::SimClock& clock() const noexcept { return sim_.clock(); }

  // -- input ---------------------------------------------------------------

  void inject(py::handle message) {
    const bool done = with_message(message, [&](const auto& object) {
      const auto payload = object;  // our own copy: Python cannot change it mid-publish
      publish_injected(payload);
    });
    if (!done) {
      throw py::type_error("inject() needs a message object (one of sil.message_types()), got " + type_name(message));
    }
  }

  // Exactly what sil-sim does with a datagram from the network: validate it
  // with the same decoder, publish it if accepted, else count the drop.
  std::string inject_datagram(py::handle data) {
    const ByteView view(data, "inject_datagram()");
    const auto bytes = view.bytes();
    if (ipc::is_control_request(bytes)) {
      throw py::value_error(
          "inject_datagram(): MsgId 0xFFF0 is a control-plane request, which sil-sim does not put on the bus; "
          "the in-process sim has no control plane (use advance() and stats())");
    }
    const auto result = ipc::decode_datagram<Catalogue>(bytes);
    ++verdicts_[static_cast<std::size_t>(result.verdict)];
    if (result.accepted()) {
      std::visit([this](const auto& payload) { publish_injected(payload); }, result.message);
    }
    return std::string(to_string(result.verdict));
  }

  // -- parameters ----------------------------------------------------------

  // A control request's bytes (a serialized sil.control.Request, without
  // the 2-byte header), answered as sil-sim's control plane answers it: the
  // serialized Reply. The in-process sim answers the requests that read or
  // change state (parameters, faults); time moves with advance().
  py::bytes control(py::handle data) {
    const ByteView view(data, "control()");
    const core::HostStatus status{core::ClockMode::step, sim_.clock().rate_hz(), 1.0, false, sim_.clock().now_ns(),
                                  sim_.clock().tick()};
    auto parsed = core::parse_control(view.bytes(), sim_.catalogue());
    std::string reply;
    if (auto* error = std::get_if<core::ControlError>(&parsed)) {
      reply = core::encode_error(*error, status);
    } else if (auto answer = core::answer_state_request(sim_, std::get<core::ControlCommand>(parsed), status)) {
      reply = std::move(answer->bytes);
    } else {
      reply = core::encode_error({std::get<core::ControlCommand>(parsed).sequence, core::ControlErrorCode::unknown_command,
                                  "the in-process sim answers parameter and fault requests; time moves with advance()"},
                                 status);
    }
    return py::bytes(reply);
  }

  // -- time ----------------------------------------------------------------

  std::uint64_t advance(py::handle ticks) {
    core::AdvanceRun run(to_u64(ticks, "advance(): ticks"), nullptr);
    run.run(sim_, bus_, [] {});
    return run.ticks_run();
  }

  // Runs ticks until the end of the first one in which a msg_id message
  // (with field == value, when given) is published, or until `ticks` ticks
  // or `limit_ns` of simulated time (rounded up to whole ticks) have run.
  py::tuple advance_until(py::handle msg_id, py::object field, py::object value, py::object limit_ns,
                          py::object ticks) {
    if (limit_ns.is_none() == ticks.is_none()) {
      throw py::type_error("advance_until() needs exactly one of limit_ns= and ticks=");
    }
    core::WatchSpec spec;
    const std::uint64_t id = to_u64(msg_id, "advance_until(): msg_id");
    if (id > std::numeric_limits<std::uint16_t>::max()) {
      throw py::value_error("advance_until(): msg_id " + std::to_string(id) + " is not a MsgId (0-65535)");
    }
    spec.msg_id = static_cast<std::uint16_t>(id);
    if (field.is_none() != value.is_none()) {
      throw py::type_error("advance_until(): field and value go together: give both or neither");
    }
    if (!field.is_none()) {
      if (!PyUnicode_Check(field.ptr())) {
        throw py::type_error("advance_until(): field must be a str, got " + type_name(field));
      }
      spec.match = core::FieldMatch{field.cast<std::string>(), to_field_value(value)};
    }
    if (auto problem = core::validate(spec, sim_.catalogue()); !problem.empty()) throw py::value_error("advance_until(): " + problem);

    const std::uint64_t max_ticks = ticks.is_none()
                                        ? core::ticks_for(sim_.clock(), to_u64(limit_ns, "advance_until(): limit_ns"))
                                        : to_u64(ticks, "advance_until(): ticks");
    watch_.arm(std::move(spec), sim_.clock().now_ns());
    core::AdvanceRun run(max_ticks, &watch_);
    try {
      run.run(sim_, bus_, [] {});
    } catch (...) {
      watch_.disarm();
      throw;
    }
    watch_.disarm();
    if (!run.matched()) return py::make_tuple(run.ticks_run(), false, py::none(), py::none());
    const auto payload = watch_.payload();
    return py::make_tuple(run.ticks_run(), true,
                          py::bytes(reinterpret_cast<const char*>(payload.data()), payload.size()),
                          watch_.matched_at_ns());
  }

  // -- what was published --------------------------------------------------

  py::list records(py::handle since_object) const {
    const auto& all = recorder_.records();
    const std::uint64_t since = to_u64(since_object, "records(): since");
    py::list out;
    for (std::size_t i = since < all.size() ? static_cast<std::size_t>(since) : all.size(); i < all.size(); ++i) {
      const Record& record = all[i];
      out.append(py::make_tuple(record.time_ns, record.msg_id,
                                py::bytes(reinterpret_cast<const char*>(recorder_.payload(record)), record.size),
                                record.injected));
    }
    return out;
  }

  std::size_t record_count() const noexcept { return recorder_.records().size(); }

  py::dict stats() const {
    py::dict published;
    py::dict received;
    Catalogue::for_each([&](auto type) {
      using T = typename decltype(type)::type;
      published[py::str(std::string(T::name))] = published_.count(Catalogue::index_of<T>);
      received[py::str(std::string(T::name))] = received_[Catalogue::index_of<T>];
    });
    py::dict drops;
    for (std::size_t i = 0; i < ipc::kVerdictCount; ++i) {
      const auto verdict = static_cast<ipc::Verdict>(i);
      if (verdict == ipc::Verdict::accepted) continue;
      drops[py::str(std::string(to_string(verdict)))] = verdicts_[i];
    }
    py::dict out;
    out["ticks"] = sim_.clock().tick();
    out["sim_time_ns"] = sim_.clock().now_ns();
    out["published"] = published;
    out["received"] = received;
    out["drops"] = drops;
    out["accepted"] = verdicts_[static_cast<std::size_t>(ipc::Verdict::accepted)];
    out["trace_digest"] = digest_.digest();
    out["trace_count"] = digest_.count();
    py::dict counters;
    for (const auto& [name, count] : sim_.counters()) counters[py::str(std::string(name))] = count;
    out["counters"] = counters;
    return out;
  }

 private:
  template <ipc::Message T>
  void publish_injected(const T& payload) {
    ++received_[Catalogue::index_of<T>];
    const InjectedMark mark(recorder_, &payload);
    bus_.publish(payload);
  }

  using Bus = decltype(std::declval<Simulation&>().make_bus(
      std::declval<Recorder&>(), std::declval<core::TraceDigest&>(), std::declval<core::Watch&>(),
      std::declval<core::PublishCounter<Catalogue>&>()));

  Simulation sim_;
  Recorder recorder_;
  core::TraceDigest digest_;
  core::Watch watch_;
  core::PublishCounter<Catalogue> published_;
  Bus bus_;  // last: built from the members above
  std::array<std::uint64_t, ipc::kVerdictCount> verdicts_{};
  std::array<std::uint64_t, Catalogue::size> received_{};  // injected, typed or as accepted datagrams
};

}  // namespace

void add_inproc(py::module_& module) {
  py::class_<InprocSim> cls(module, "InprocSim", py::module_local(),
                            "Every registered service on one bus, in this process, stepped by Python. The same "
                            "simulation sil-sim runs, without sockets: inject() publishes at once (at the current "
                            "tick boundary), advance() runs ticks. Not thread-safe.");
  cls.def(py::init([](py::handle rate_hz, py::handle params) {
            const std::uint64_t rate = to_u64(rate_hz, "InprocSim(): rate_hz");
            if (rate < 1 || rate > kMaxRateHz) {
              throw py::value_error("InprocSim(): rate_hz must be 1 to " + std::to_string(kMaxRateHz) + ", got " +
                                    std::to_string(rate));
            }
            const auto assignments =
                params.is_none() ? std::vector<ipc::ParamAssignment>{} : assignments_of(params, "InprocSim(): params");
            try {
              return std::make_unique<InprocSim>(static_cast<std::uint32_t>(rate), assignments);
            } catch (const core::ParamError& e) {
              throw py::value_error(std::string("InprocSim(): params: nothing changed: ") + e.what());
            }
          }),
          py::arg("rate_hz") = 100, py::kw_only(), py::arg("params") = py::none(),
          "params: {name: value} set before the first tick and before the services are built, as sil-sim's "
          "--param does.");

  cls.def_property_readonly("rate_hz", [](const InprocSim& s) { return s.clock().rate_hz(); },
                            "Ticks per second of simulated time.");
  cls.def_property_readonly("tick", [](const InprocSim& s) { return s.clock().tick(); }, "The next tick to run.");
  cls.def_property_readonly("now_ns", [](const InprocSim& s) { return s.clock().now_ns(); },
                            "Simulated time of the next tick, in nanoseconds.");
  cls.def_property_readonly("period_ns", [](const InprocSim& s) { return s.clock().period_ns(); },
                            "Nanoseconds per tick (rounded down).");
  cls.def(
      "ticks_for",
      [](const InprocSim& s, py::handle duration_ns) {
        return core::ticks_for(s.clock(), to_u64(duration_ns, "ticks_for(): duration_ns"));
      },
      py::arg("duration_ns"), "Whole ticks needed to cover duration_ns of simulated time, rounded up.");

  cls.def("inject", &InprocSim::inject, py::arg("message"),
          "Publishes message on the bus now: every service that subscribes to it runs before this returns.");
  cls.def("inject_datagram", &InprocSim::inject_datagram, py::arg("data"),
          "Handles data as sil-sim handles a datagram from the network: publishes it if it is valid, else counts "
          "the drop. Returns the verdict: accepted, too_short, unknown_id, wrong_size or truncated.");
  cls.def("advance", &InprocSim::advance, py::arg("ticks"), "Runs that many ticks; returns how many ran.");
  cls.def("control", &InprocSim::control, py::arg("request"),
          "Answers a serialized sil.control.Request that reads or changes state (get_params, set_params, "
          "add_fault, remove_fault, list_faults) as sil-sim's control plane does; returns the serialized Reply.");
  cls.def("advance_until", &InprocSim::advance_until, py::arg("msg_id"), py::arg("field") = py::none(),
          py::arg("value") = py::none(), py::kw_only(), py::arg("limit_ns") = py::none(),
          py::arg("ticks") = py::none(),
          "Runs ticks until the end of the first one in which a msg_id message (with field == value) is "
          "published, or until ticks= ticks or limit_ns= of simulated time (rounded up to whole ticks) have run. "
          "Returns (ticks_run, matched, payload bytes or None, sim time of the matching tick or None).");
  cls.def("records", &InprocSim::records, py::arg("since") = 0,
          "Publications from index since on: [(sim_time_ns, msg_id, payload bytes, injected), ...] in bus order.");
  cls.def_property_readonly("record_count", &InprocSim::record_count, "How many publications were recorded.");
  cls.def("stats", &InprocSim::stats,
          "{'ticks', 'sim_time_ns', 'published': {name: count}, 'received': {name: count} (injected), "
          "'drops': {verdict: count}, 'accepted', 'trace_digest', 'trace_count'}.");

  module.def(
      "build_info",
      [] {
        const auto& build = build_info();
        py::dict out;
        out["version"] = std::string(build.version);
        out["git_revision"] = std::string(build.git_revision);
        out["dirty_tree"] = build.dirty_tree;
        out["build_time_unix"] = build.build_time_unix;
        return out;
      },
      "The facts RevisionResponse reports about this build: version, git_revision, dirty_tree, build_time_unix.");
}

}  // namespace sil::python
