// sil._core: the message catalogue and the wire format, from the same C++
// the simulation runs, so Python can never speak a different dialect.
#include <pybind11/pybind11.h>

#include "bindings.hpp"

PYBIND11_MODULE(SIL_MODULE_NAME, module) {
  module.doc() = "Message classes and datagram encoding generated from the sil C++ catalogue, and the simulation "
                 "itself in-process (InprocSim), and the framing of recordings (RecordFrames).";
  sil::python::add_messages(module);
  sil::python::add_wire(module);
  sil::python::add_inproc(module);
  sil::python::add_ingest(module);
  sil::python::add_recording(module);
  sil::python::add_step_link(module);
}
