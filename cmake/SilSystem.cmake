# sil_add_system(): one call turns a system (a C++ struct naming its messages
# and services, docs/services.md "Declaring a system") into
#   - an executable with sil-sim's command line, ready and stopped lines,
#     clocks, control plane, recording and replay (default <name>-sim);
#   - a Python extension module with the system's message classes and the
#     in-process simulation (default <name>), when Python and pybind11 are
#     found (or unless NO_PYTHON);
#   - the system's build facts (its project's version and git revision).
#
#   sil_add_system(<name>
#     HEADER <header>              # the header that declares the system, as the sources include it
#     SYSTEM <C++ type>            # the system struct, e.g. thermal::System
#     [LIBRARIES <target>...]      # what that header needs (your services' targets)
#     [EXECUTABLE <target>]        # default <name>-sim
#     [PYTHON_MODULE <name>]       # default <name>
#     [PYTHON_OUTPUT_DIRECTORY <dir>]  # where the module goes; default ${CMAKE_BINARY_DIR}/python
#     [VERSION <x.y.z>]            # default ${PROJECT_VERSION}, else 0.0.0
#     [NO_PYTHON]                  # no Python module
#     [NO_STUB]                    # no <module>.pyi type stub beside the module
#     [NO_DISSECTOR])              # no <module>.lua Wireshark dissector beside the module
#
#   sil_target_build_info(<target> [VERSION <x.y.z>])
# gives a target of your own (a HIL rig's program) the same build facts:
# it defines `const sil::ipc::BuildInfo& sil_generated_build_info() noexcept`.
# Documented in docs/cmake.md.
include_guard(GLOBAL)
set(_SIL_SYSTEM_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# Generates <dir>/build_info.cpp at every build (the revision is never stale)
# and sets <out_var> to it and <out_target> to the target that writes it.
function(_sil_build_info name version out_source out_target)
  set(build_info "${CMAKE_CURRENT_BINARY_DIR}/sil_build_info_${name}/build_info.cpp")
  string(TIMESTAMP configure_time "%s" UTC)
  add_custom_target(${name}_sil_build_info
    COMMAND ${CMAKE_COMMAND}
            -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
            -DOUTPUT=${build_info}
            -DTEMPLATE=${_SIL_SYSTEM_CMAKE_DIR}/sil_build_info.cpp.in
            -DSIL_VERSION=${version}
            -DCONFIGURE_TIME=${configure_time}
            -P ${_SIL_SYSTEM_CMAKE_DIR}/sil_build_info.cmake
    BYPRODUCTS ${build_info}
    COMMENT "Recording the git revision and build time of ${PROJECT_NAME} (${name})"
    VERBATIM)
  set(${out_source} "${build_info}" PARENT_SCOPE)
  set(${out_target} "${name}_sil_build_info" PARENT_SCOPE)
endfunction()

function(_sil_default_version out_var given)
  set(version "${given}")
  if(NOT version)
    set(version "${PROJECT_VERSION}")
  endif()
  if(NOT version)
    set(version "0.0.0")
  endif()
  set(${out_var} "${version}" PARENT_SCOPE)
endfunction()

function(sil_target_build_info target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "VERSION" "")
  _sil_default_version(version "${arg_VERSION}")
  _sil_build_info(${target} "${version}" source generator)
  target_sources(${target} PRIVATE "${source}")
  add_dependencies(${target} ${generator})
  target_link_libraries(${target} PRIVATE sil::ipc)
endfunction()

function(sil_add_system name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_PYTHON;NO_STUB;NO_DISSECTOR;NO_FAULTS"
                        "HEADER;SYSTEM;EXECUTABLE;PYTHON_MODULE;PYTHON_OUTPUT_DIRECTORY;VERSION" "LIBRARIES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sil_add_system(${name}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_HEADER OR NOT arg_SYSTEM)
    message(FATAL_ERROR "sil_add_system(${name}): HEADER and SYSTEM are required")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "sil_add_system(${name}): the name must be a C identifier")
  endif()
  if(NOT arg_EXECUTABLE)
    set(arg_EXECUTABLE "${name}-sim")
  endif()
  if(NOT arg_PYTHON_MODULE)
    set(arg_PYTHON_MODULE "${name}")
  endif()
  if(NOT arg_PYTHON_OUTPUT_DIRECTORY)
    set(arg_PYTHON_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/python")
  endif()
  _sil_default_version(arg_VERSION "${arg_VERSION}")

  set(gen "${CMAKE_CURRENT_BINARY_DIR}/sil_system_${name}")
  _sil_build_info(${name} "${arg_VERSION}" build_info build_info_target)

  set(SIL_SYSTEM_NAME "${name}")
  set(SIL_SYSTEM_HEADER "${arg_HEADER}")
  set(SIL_SYSTEM_TYPE "${arg_SYSTEM}")
  configure_file("${_SIL_SYSTEM_CMAKE_DIR}/sil_main.cpp.in" "${gen}/main.cpp" @ONLY)

  add_executable(${arg_EXECUTABLE} "${gen}/main.cpp" "${build_info}")
  add_dependencies(${arg_EXECUTABLE} ${build_info_target})
  target_link_libraries(${arg_EXECUTABLE} PRIVATE sil::app ${arg_LIBRARIES})
  if(arg_NO_FAULTS)  # docs/faults.md "Leaving fault injection out of a build"
    target_compile_definitions(${arg_EXECUTABLE} PRIVATE SIL_FAULT_INJECTION=0)
  endif()

  if(arg_NO_PYTHON)
    return()
  endif()
  if(NOT TARGET sil::python_bindings)
    message(STATUS "sil_add_system(${name}): no Python module (sil was built without Python bindings)")
    return()
  endif()
  # Imported targets are per directory: a system added in one directory
  # (an example pulled in with add_subdirectory) does not make Python::Module
  # visible in another, although pybind11_add_module, a command, is.
  if(NOT COMMAND pybind11_add_module OR NOT TARGET Python::Module)
    find_package(Python 3 COMPONENTS Interpreter Development.Module)
    set(PYBIND11_FINDPYTHON ON)
    find_package(pybind11 CONFIG)
  endif()
  if(NOT COMMAND pybind11_add_module)
    message(STATUS "sil_add_system(${name}): no Python module (pybind11 not found)")
    return()
  endif()
  get_target_property(binding_sources sil::python_bindings INTERFACE_SIL_BINDING_SOURCES)
  pybind11_add_module(${arg_PYTHON_MODULE} ${binding_sources} "${build_info}")
  add_dependencies(${arg_PYTHON_MODULE} ${build_info_target})
  target_compile_definitions(${arg_PYTHON_MODULE} PRIVATE
    "SIL_SYSTEM_HEADER=\"${arg_HEADER}\"" "SIL_SYSTEM_TYPE=${arg_SYSTEM}" "SIL_MODULE_NAME=${arg_PYTHON_MODULE}")
  target_link_libraries(${arg_PYTHON_MODULE} PRIVATE sil::python_bindings ${arg_LIBRARIES})
  if(arg_NO_FAULTS)
    target_compile_definitions(${arg_PYTHON_MODULE} PRIVATE SIL_FAULT_INJECTION=0)
  endif()
  # $<0:> stops multi-config generators from appending a per-config directory.
  set_target_properties(${arg_PYTHON_MODULE} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${arg_PYTHON_OUTPUT_DIRECTORY}$<0:>")
  if(SIL_PYTHON_PACKAGE_DIR AND (NOT arg_NO_STUB OR NOT arg_NO_DISSECTOR))
    if(TARGET sil_python_package)  # inside sil's own tree: the package is assembled at build time
      add_dependencies(${arg_PYTHON_MODULE} sil_python_package)
    endif()
  endif()
  if(NOT arg_NO_DISSECTOR AND SIL_PYTHON_PACKAGE_DIR)
    # The name the module is imported by: sil._core lies inside the package.
    set(import_name "${arg_PYTHON_MODULE}")
    if(arg_PYTHON_OUTPUT_DIRECTORY STREQUAL "${SIL_PYTHON_PACKAGE_DIR}/sil")
      set(import_name "sil.${arg_PYTHON_MODULE}")
    endif()
    # Its own step, not POST_BUILD: rewritten when the generator changes too.
    set(dissector "${arg_PYTHON_OUTPUT_DIRECTORY}/${arg_PYTHON_MODULE}.lua")
    add_custom_command(OUTPUT "${dissector}"
      COMMAND ${CMAKE_COMMAND} -DPYTHON=${Python_EXECUTABLE} -DPACKAGE_DIR=${SIL_PYTHON_PACKAGE_DIR}
              -DMODULE_DIR=${arg_PYTHON_OUTPUT_DIRECTORY} -DMODULE=${import_name} -DGENERATOR=sil.wireshark
              "-DARGS=--module ${import_name}" -DOUTPUT=${dissector}
              -P ${_SIL_SYSTEM_CMAKE_DIR}/sil_stubgen.cmake
      COMMAND ${CMAKE_COMMAND} -E touch "${dissector}"  # newer than what it was made from, even if unchanged
      DEPENDS ${arg_PYTHON_MODULE} "${SIL_PYTHON_PACKAGE_DIR}/sil/wireshark.py"
      COMMENT "Writing the Wireshark dissector ${arg_PYTHON_MODULE}.lua"
      VERBATIM)
    add_custom_target(${arg_PYTHON_MODULE}_dissector ALL DEPENDS "${dissector}")
  endif()
  if(NOT arg_NO_STUB AND SIL_PYTHON_PACKAGE_DIR)
    add_custom_command(TARGET ${arg_PYTHON_MODULE} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -DPYTHON=${Python_EXECUTABLE} -DPACKAGE_DIR=${SIL_PYTHON_PACKAGE_DIR}
              -DMODULE_DIR=${arg_PYTHON_OUTPUT_DIRECTORY} -DMODULE=${arg_PYTHON_MODULE}
              -DOUTPUT=${arg_PYTHON_OUTPUT_DIRECTORY}/${arg_PYTHON_MODULE}.pyi
              -P ${_SIL_SYSTEM_CMAKE_DIR}/sil_stubgen.cmake
      COMMENT "Writing the type stub ${arg_PYTHON_MODULE}.pyi"
      VERBATIM)
  endif()
endfunction()
