// A system's Python module (sil_add_system names it; sil._core is the
// framework system's): its message catalogue and the wire format, from the
// same C++ its simulation runs, so Python can never speak a different dialect.
#include <pybind11/pybind11.h>

#include "bindings.hpp"

PYBIND11_MODULE(SIL_MODULE_NAME, module) {
  module.doc() = "A sil system's message classes and datagram encoding, generated from its C++ catalogue; its "
                 "simulation in-process (InprocSim); recordings (RecordReader).";
  sil::python::add_messages(module);
  sil::python::add_wire(module);
  sil::python::add_inproc(module);
  sil::python::add_ingest(module);
  sil::python::add_recording(module);
  sil::python::add_step_link(module);
}
