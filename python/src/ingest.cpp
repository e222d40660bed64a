// sil._core.Receiver: bulk telemetry for a Python harness. A C++ thread
// (DatagramReceiver) reads the socket with the GIL released; Python takes
// whatever has arrived as one batch, decoded here into message objects or
// into one numpy structured array per message type. Validation is the
// sim's own (decode_datagram_into): a datagram the sim would drop is counted
// by verdict and skipped, never raised.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "bindings.hpp"
#include "ingest_receiver.hpp"
#include "message_class.hpp"
#include "message_object.hpp"
#include "py_util.hpp"
#include "sil/ipc/datagram.hpp"
#include "system.hpp"

namespace sil::python {

namespace {

const char* numpy_format(ipc::FieldKind kind) {
  switch (kind) {
    case ipc::FieldKind::u8: return "u1";
    case ipc::FieldKind::i8: return "i1";
    case ipc::FieldKind::u16: return "<u2";
    case ipc::FieldKind::i16: return "<i2";
    case ipc::FieldKind::u32: return "<u4";
    case ipc::FieldKind::i32: return "<i4";
    case ipc::FieldKind::u64: return "<u8";
    case ipc::FieldKind::i64: return "<i8";
    case ipc::FieldKind::f32: return "<f4";
    case ipc::FieldKind::f64: return "<f8";
    case ipc::FieldKind::text: return "S";
  }
  return "V";
}

// The payload's exact layout: a row of the array is the payload's bytes.
template <ipc::Message T>
py::dtype message_dtype() {
  py::list names;
  py::list formats;
  py::list offsets;
  for (const auto& entry : field_table<T>()) {
    names.append(entry.name);
    const std::string format = numpy_format(entry.kind);
    formats.append(entry.kind == ipc::FieldKind::text ? format + std::to_string(entry.size) : format);
    offsets.append(entry.offset);
  }
  py::dict spec;
  spec["names"] = names;
  spec["formats"] = formats;
  spec["offsets"] = offsets;
  spec["itemsize"] = sizeof(T);
  return py::dtype::from_args(spec);
}

py::dtype dtype_of(py::handle message_type) {
  std::optional<py::dtype> found;
  Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    if (!found && message_type.is(py::type::of<T>())) found = message_dtype<T>();
  });
  if (!found) throw py::type_error("message_dtype() needs a message class (see message_types()), got " +
                                   py::repr(message_type).cast<std::string>());
  return *found;
}

std::chrono::nanoseconds to_timeout(double seconds) {
  if (!(seconds >= 0.0) || !std::isfinite(seconds)) {
    throw py::value_error("timeout must be a finite number of seconds >= 0, got " + std::to_string(seconds));
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

// A failed system call surfaces as OSError with its errno, as Python's own
// socket calls do (pybind11 would make std::system_error a RuntimeError).
template <class Fn>
decltype(auto) os_errors(Fn&& fn) {
  try {
    return fn();
  } catch (const std::system_error& error) {
    py::object os_error = py::reinterpret_borrow<py::object>(PyExc_OSError)(error.code().value(), error.what());
    PyErr_SetObject(PyExc_OSError, os_error.ptr());
    throw py::error_already_set();
  }
}

class Receiver {
 public:
  Receiver(int fd, std::optional<int> receive_buffer, std::size_t batch, bool gro) {
    if (receive_buffer && *receive_buffer <= 0) throw py::value_error("receive_buffer must be > 0 bytes");
    os_errors([&] {
      receiver_ = std::make_shared<DatagramReceiver>(fd, batch, gro);
      if (receive_buffer) receiver_->set_receive_buffer(*receive_buffer);
    });
  }

  void start() {
    DatagramReceiver& receiver = open();
    os_errors([&] { receiver.start(); });
  }

  void stop() {
    if (!receiver_) return;
    py::gil_scoped_release release;
    receiver_->stop();
  }

  // Stops the thread and closes the socket duplicate; what was in the inbox is gone.
  void close() {
    stop();
    receiver_.reset();
  }

  bool running() const { return receiver_ && receiver_->running(); }
  bool closed() const { return !receiver_; }
  int receive_buffer() {
    DatagramReceiver& receiver = open();
    return os_errors([&] { return receiver.receive_buffer(); });
  }

  py::list take(double timeout, py::object invalid) {
    py::list out;
    const bool keep_invalid = !invalid.is_none();
    if (keep_invalid && !py::isinstance<py::list>(invalid)) throw py::type_error("invalid must be a list or None");
    take_each(timeout, [&](const RawDatagram& datagram) {
      const auto verdict = ipc::decode_datagram_into<Catalogue>(datagram.view(), datagram.truncated, scratch_);
      if (verdict != ipc::Verdict::accepted) {
        count_invalid(verdict);
        if (keep_invalid) {
          invalid.cast<py::list>().append(
              py::make_tuple(raw_bytes(datagram), std::string(to_string(verdict)), datagram.wire_length));
        }
        return;
      }
      out.append(message_object(scratch_));
    });
    return out;
  }

  py::list take_datagrams(double timeout) {
    py::list out;
    take_each(timeout, [&](const RawDatagram& datagram) { out.append(raw_bytes(datagram)); });
    return out;
  }

  py::dict take_arrays(double timeout) {
    for (auto& rows : staging_) rows.clear();
    take_each(timeout, [&](const RawDatagram& datagram) {
      const auto verdict = ipc::decode_datagram_into<Catalogue>(datagram.view(), datagram.truncated, scratch_);
      if (verdict != ipc::Verdict::accepted) {
        count_invalid(verdict);
        return;
      }
      auto& rows = staging_[scratch_.index()];
      const auto payload = datagram.view().subspan(ipc::kHeaderSize);
      rows.insert(rows.end(), payload.begin(), payload.end());
    });
    py::dict out;
    std::size_t index = 0;
    Catalogue::for_each([&](auto type) {
      using T = typename decltype(type)::type;
      const auto& rows = staging_[index];
      if (!rows.empty()) {
        if (!dtypes_[index]) dtypes_[index] = message_dtype<T>();
        const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(rows.size() / sizeof(T))};
        py::array array(py::reinterpret_borrow<py::dtype>(dtypes_[index]), shape);
        std::memcpy(array.mutable_data(), rows.data(), rows.size());
        out[py::type::of<T>()] = std::move(array);
      }
      ++index;
    });
    return out;
  }

  py::dict stats() const {
    py::dict out;
    if (receiver_) {
      const ReceiverCounters c = receiver_->counters();
      out["received"] = c.received;
      out["ring_overruns"] = c.ring_overruns;
      out["kernel_drops"] = c.kernel_drops;
      out["receive_calls"] = c.receive_calls;
      out["gro_runs"] = c.gro_runs;
      out["errors"] = c.errors;
      out["refused"] = c.refused;
    }
    out["delivered"] = delivered_;
    py::dict invalid;
    for (std::size_t i = 0; i < ipc::kVerdictCount; ++i) {
      const auto verdict = static_cast<ipc::Verdict>(i);
      if (verdict != ipc::Verdict::accepted) invalid[py::str(std::string(to_string(verdict)))] = invalid_[i];
    }
    out["invalid"] = invalid;
    return out;
  }

 private:
  DatagramReceiver& open() {
    if (!receiver_) throw py::value_error("the Receiver is closed");
    return *receiver_;
  }

  // Whatever is in the inbox now; if nothing, waits up to timeout (GIL
  // released) and takes what came.
  // One consumer at a time (the inbox has one consumer side); a close()
  // from another thread meanwhile leaves this call's receiver alive until
  // it returns.
  template <class Fn>
  void take_each(double timeout, Fn&& fn) {
    const auto wait_for = to_timeout(timeout);
    open();
    if (taking_) throw py::value_error("another thread is taking from this Receiver");
    const std::shared_ptr<DatagramReceiver> keep = receiver_;
    DatagramReceiver& receiver = *keep;
    taking_ = true;
    struct Done {
      bool& flag;
      ~Done() { flag = false; }
    } done{taking_};
    auto counted = [&](const RawDatagram& datagram) {
      ++delivered_;
      fn(datagram);
    };
    if (receiver.drain(counted) != 0 || wait_for.count() == 0) return;
    {
      py::gil_scoped_release release;
      receiver.wait(wait_for);
    }
    receiver.drain(counted);
  }

  void count_invalid(ipc::Verdict verdict) { ++invalid_[static_cast<std::size_t>(verdict)]; }

  static py::bytes raw_bytes(const RawDatagram& datagram) {
    return {reinterpret_cast<const char*>(datagram.bytes.data()), datagram.length};
  }

  std::shared_ptr<DatagramReceiver> receiver_;
  bool taking_ = false;
  Catalogue::Any scratch_;
  std::array<std::uint64_t, ipc::kVerdictCount> invalid_{};
  std::uint64_t delivered_ = 0;
  // take_arrays: payload bytes by catalogue index, reused between calls.
  std::array<std::vector<std::byte>, Catalogue::size> staging_;
  std::array<py::object, Catalogue::size> dtypes_;
};

}  // namespace

void add_ingest(py::module_& module) {
  py::class_<Receiver>(module, "Receiver", py::module_local(),
                       "Receives datagrams on a C++ thread (recvmmsg, GIL released) into a ring of 65536 slots; "
                       "take()/take_arrays()/take_datagrams() hand Python everything that has arrived as one batch. "
                       "Reads a duplicate of the socket's fd, so the caller may keep sending on its socket. Loss is "
                       "counted in stats(): kernel_drops (the socket's SO_RXQ_OVFL counter, since it was created) and "
                       "ring_overruns (the consumer fell a whole ring behind).")
      .def(py::init<int, std::optional<int>, std::size_t, bool>(), py::arg("fd"), py::kw_only(),
           py::arg("receive_buffer") = py::none(), py::arg("batch") = 128, py::arg("gro") = false,
           "fd: a datagram socket (its fileno()). receive_buffer: bytes of SO_RCVBUF to ask for (the kernel caps "
           "it at net.core.rmem_max). batch: receives per recvmmsg call, 1..1024. gro: turn on UDP_GRO, so a run "
           "of equal-sized datagrams a local sender sent with UDP GSO arrives in one receive (split here into its "
           "datagrams; each batch slot is then 64 KiB).")
      .def("start", &Receiver::start, "Starts the receiving thread (no-op while it runs).")
      .def("stop", &Receiver::stop, "Wakes and joins the receiving thread; what it received stays takeable.")
      .def("close", &Receiver::close, "Stops, and closes the socket duplicate. Idempotent.")
      .def("__enter__", [](Receiver& self) -> Receiver& { self.start(); return self; },
           py::return_value_policy::reference)
      .def("__exit__", [](Receiver& self, const py::args&) { self.close(); })
      .def_property_readonly("running", &Receiver::running)
      .def_property_readonly("closed", &Receiver::closed)
      .def_property_readonly("receive_buffer", &Receiver::receive_buffer,
                             "SO_RCVBUF as the kernel granted it (twice the bytes asked for, for its bookkeeping).")
      .def("take", &Receiver::take, py::arg("timeout") = 0.0, py::arg("invalid") = py::none(),
           "Every valid datagram received so far, decoded into message objects, in arrival order; waits up to "
           "timeout seconds (GIL released) if there is none. Invalid datagrams are counted in stats() and "
           "skipped, or appended to `invalid` when a list is given, as (bytes kept, verdict, length sent): an oversized "
           "datagram keeps its first MAX_DATAGRAM_SIZE bytes.")
      .def("take_arrays", &Receiver::take_arrays, py::arg("timeout") = 0.0,
           "Like take(), as {MessageClass: numpy structured array (message_dtype) of that type's payloads in "
           "arrival order}; types with none are left out. Needs numpy.")
      .def("take_datagrams", &Receiver::take_datagrams, py::arg("timeout") = 0.0,
           "Like take(), as the raw datagrams (bytes), valid or not.")
      .def("stats", &Receiver::stats,
           "Counters: received (read from the socket), delivered (taken by Python), ring_overruns, kernel_drops, "
           "receive_calls (recvmmsg calls that returned data), gro_runs (receives that were a UDP GRO run), errors, refused (ECONNREFUSED), invalid (by "
           "verdict).");
  module.def("message_dtype", &dtype_of, py::arg("message_type"),
             "The numpy structured dtype of a message class's payload (itemsize SIZE, fields at their wire "
             "offsets, little-endian; text as bytes).");
}

}  // namespace sil::python
