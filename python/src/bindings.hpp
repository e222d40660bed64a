#pragma once
// Each binding file adds one part of sil._core; module.cpp composes them.
#include <pybind11/pybind11.h>

namespace sil::python {

// MsgId, one class per catalogue message, message_types().
void add_messages(pybind11::module_& module);

// encode(), decode(), DecodeError and the wire constants. Needs add_messages first.
void add_wire(pybind11::module_& module);

// InprocSim: the registered services on a bus in this process. Needs add_messages first.
void add_inproc(pybind11::module_& module);

// Receiver (bulk receive on a C++ thread) and message_dtype(). Needs add_messages first.
void add_ingest(pybind11::module_& module);
// RecordReader (sil::record::Reader), RecordFrames (its framing alone), recover_recording() and crc32c().
void add_recording(pybind11::module_& module);
// StepLink (lockstep round trips in C++), the base of sil.StepLink.
void add_step_link(pybind11::module_& module);

}  // namespace sil::python
