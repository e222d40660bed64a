# Makes a protoc-generated module import its sibling from the sil package:
# `import sil_control_pb2 as x` -> `from sil import sil_control_pb2 as x`.
# Usage: cmake -DFILE=<module.py> -P package_import.cmake
file(READ "${FILE}" text)
string(REGEX REPLACE "(^|\n)import (sil_[a-z_]+_pb2) as" "\\1from sil import \\2 as" text "${text}")
file(WRITE "${FILE}" "${text}")
