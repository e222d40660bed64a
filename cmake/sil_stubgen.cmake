# Writes a file generated from a built system module (sil_add_system, after
# the module is built): runs `python -m GENERATOR ARGS` with the sil package
# and the module on the path and keeps its stdout as OUTPUT (touched only
# when it changes). GENERATOR defaults to sil._stubgen, ARGS to MODULE.
# Inputs: PYTHON, PACKAGE_DIR, MODULE_DIR, MODULE, OUTPUT, [GENERATOR, ARGS].
if(NOT GENERATOR)
  set(GENERATOR sil._stubgen)
endif()
if(NOT DEFINED ARGS)
  set(ARGS "${MODULE}")
endif()
separate_arguments(ARGS UNIX_COMMAND "${ARGS}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "PYTHONPATH=${PACKAGE_DIR}:${MODULE_DIR}" PYTHONDONTWRITEBYTECODE=1
          "${PYTHON}" -m ${GENERATOR} ${ARGS}
  OUTPUT_FILE "${OUTPUT}.tmp"
  RESULT_VARIABLE result
  ERROR_VARIABLE error)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "sil_add_system: could not write ${OUTPUT} from ${MODULE}: ${error}")
endif()
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
