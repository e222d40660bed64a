# Writes a system module's type stub (sil_add_system, after the module is
# built): runs `python -m sil._stubgen MODULE` with the sil package and the
# module on the path. Inputs: PYTHON, PACKAGE_DIR, MODULE_DIR, MODULE, OUTPUT.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "PYTHONPATH=${PACKAGE_DIR}:${MODULE_DIR}" PYTHONDONTWRITEBYTECODE=1
          "${PYTHON}" -m sil._stubgen "${MODULE}"
  OUTPUT_FILE "${OUTPUT}.tmp"
  RESULT_VARIABLE result
  ERROR_VARIABLE error)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "sil_add_system: could not write the stub of ${MODULE}: ${error}")
endif()
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
