"""sil's two protobuf modules, imported together: the package takes them from here.

With protobuf's C++ implementation, a *_pb2 module imported after a system
module (a C++ extension that registers the same .proto files) has loaded
takes its descriptors from the C++ pool; one imported before builds its own.
A recording header (sil_record_pb2) holding a ParamSetting (sil_control_pb2)
from the other side refers to a descriptor no Python class is registered
for, and reading it raised "No message class registered for
'sil.control.ParamSetting'". Importing both at once, and before any system
module loads (sil._system imports this first), keeps them on one side.
"""

from sil import sil_record_pb2 as record_pb  # imports sil_control_pb2 first
from sil import sil_control_pb2 as control_pb

__all__ = ["control_pb", "record_pb"]
