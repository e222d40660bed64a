// Datagram encode/decode through sil::bridge, the code the simulation uses
// on its socket: a datagram Python accepts is one the sim accepts.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "bindings.hpp"
#include "message_object.hpp"
#include "py_util.hpp"
#include "sil/bridge/bundle.hpp"
#include "sil/ipc/datagram.hpp"
#include "system.hpp"

namespace sil::python {

namespace {

// Created once per process and never released: the module holds it for as
// long as the interpreter lives, and a static py::object would be
// destroyed after the interpreter is gone.
PyObject* decode_error_type = nullptr;

std::string describe(ipc::Verdict verdict, std::size_t length, std::optional<std::uint16_t> id) {
  const std::string bytes = std::to_string(length) + " bytes";
  switch (verdict) {
    case ipc::Verdict::too_short:
      return "datagram of " + bytes + " is shorter than its 2-byte MsgId";
    case ipc::Verdict::unknown_id:
      return "MsgId " + std::to_string(*id) + " is not in the catalogue (datagram of " + bytes + ")";
    case ipc::Verdict::wrong_size: {
      std::string expected;
      Catalogue::for_each([&](auto type) {
        using T = typename decltype(type)::type;
        if (static_cast<std::uint16_t>(T::id) == *id) {
          expected = std::string(T::name) + " (MsgId " + std::to_string(*id) + ") datagrams are " +
                     std::to_string(ipc::kHeaderSize + sizeof(T)) + " bytes";
        }
      });
      return expected + ", got " + bytes;
    }
    case ipc::Verdict::truncated:
      return "datagram of " + bytes + " is longer than the largest message (" +
             std::to_string(kMaxDatagramSize) + " bytes)";
    case ipc::Verdict::accepted:
      break;
  }
  return "datagram of " + bytes;
}

std::optional<std::uint16_t> id_of(std::span<const std::byte> data) {
  if (data.size() < ipc::kHeaderSize) return std::nullopt;
  return ipc::datagram_id(data);
}

// DecodeError(message) with attributes, so a harness can count drops by
// verdict without parsing text.
[[noreturn]] void raise_decode_error(const std::string& verdict, const std::string& message,
                                     std::span<const std::byte> data) {
  py::object error = py::reinterpret_borrow<py::object>(decode_error_type)(message);
  error.attr("verdict") = verdict;
  error.attr("length") = data.size();
  const auto id = id_of(data);
  error.attr("msg_id") = id ? py::object(py::int_(*id)) : py::object(py::none());
  PyErr_SetObject(decode_error_type, error.ptr());
  throw py::error_already_set();
}

[[noreturn]] void raise_decode_error(ipc::Verdict verdict, std::span<const std::byte> data) {
  const std::string name(to_string(verdict));
  raise_decode_error(name, name + ": " + describe(verdict, data.size(), id_of(data)), data);
}

py::bytes encode(py::handle message) {
  std::optional<py::bytes> out;
  const bool found = with_message(message, [&](const auto& payload) {
    const auto datagram = ipc::encode_datagram(payload);
    out = py::bytes(reinterpret_cast<const char*>(datagram.data()), datagram.size());
  });
  if (!found) throw py::type_error("encode() needs a message object (see message_types()), got " + type_name(message));
  return *out;
}

py::object decode(py::handle data) {
  const ByteView view(data, "decode()");
  const auto result = ipc::decode_datagram<Catalogue>(view.bytes());
  if (!result.accepted()) raise_decode_error(result.verdict, view.bytes());
  return message_object(result.message);
}

const char* explain(bridge::BundleVerdict verdict) {
  switch (verdict) {
    case bridge::BundleVerdict::not_a_bundle: return "its MsgId is not 0xFFF2";
    case bridge::BundleVerdict::empty: return "it holds no items";
    case bridge::BundleVerdict::cut_item: return "an item's length runs past the end";
    case bridge::BundleVerdict::short_item: return "an item is shorter than its 2-byte MsgId";
    case bridge::BundleVerdict::nested: return "an item is itself a bundle";
    case bridge::BundleVerdict::ok: break;
  }
  return "";
}

py::list unbundle(py::handle data) {
  const ByteView view(data, "unbundle()");
  py::list items;
  const auto verdict = bridge::for_each_bundled(view.bytes(), [&](std::span<const std::byte> item) {
    items.append(py::bytes(reinterpret_cast<const char*>(item.data()), item.size()));
  });
  if (verdict != bridge::BundleVerdict::ok) {
    const std::string name(to_string(verdict));
    raise_decode_error(name,
                       "bundle " + name + ": " + explain(verdict) + " (datagram of " +
                           std::to_string(view.bytes().size()) + " bytes)",
                       view.bytes());
  }
  return items;
}

}  // namespace

void add_wire(py::module_& module) {
  decode_error_type = PyErr_NewExceptionWithDoc(
      "sil._core.DecodeError",
      "A datagram the simulation would drop. .verdict is too_short, unknown_id, wrong_size or truncated; "
      ".length is the datagram length; .msg_id is its MsgId, or None when it has none.",
      PyExc_ValueError, nullptr);
  if (decode_error_type == nullptr) throw py::error_already_set();
  module.attr("DecodeError") = py::reinterpret_borrow<py::object>(decode_error_type);

  module.def("encode", &encode, py::arg("message"),
             "The full datagram for message: its 2-byte little-endian MsgId, then its payload.");
  module.def("decode", &decode, py::arg("data"),
             "The message in a datagram, validated exactly as sil-sim validates it; raises DecodeError.");

  module.def("unbundle", &unbundle, py::arg("data"),
             "The datagrams inside a bundle (MsgId 0xFFF2), in order, each as it would have been sent alone; "
             "checked whole first, so a malformed bundle raises DecodeError (.verdict empty, cut_item, "
             "short_item, nested or not_a_bundle) and yields nothing.");
  module.attr("BUNDLE_ID") = py::int_(static_cast<unsigned>(ipc::MsgId::Bundle));
  module.attr("MAX_BUNDLE_BYTES") = py::int_(bridge::kMaxBundleBytes);
  module.attr("catalogue_hash") = py::int_(Simulation::kHash);
  module.attr("WIRE_VERSION") = py::int_(static_cast<unsigned>(ipc::kWireVersion));
  module.attr("HEADER_SIZE") = py::int_(ipc::kHeaderSize);
  module.attr("MAX_DATAGRAM_SIZE") = py::int_(kMaxDatagramSize);
  py::list reserved;
  for (const auto name : ipc::kReservedFieldNames) reserved.append(py::str(name.data(), name.size()));
  module.attr("RESERVED_FIELD_NAMES") = py::tuple(reserved);
}

}  // namespace sil::python
