# A system's build facts (sil_add_system): runs at every build (cmake -P) so
# the revision is never stale. Asks git for the commit of the system's own
# project (SOURCE_DIR) and whether its tree is dirty, and rewrites the
# generated source only when something changed, so an unchanged tree
# rebuilds nothing.
# Inputs: SOURCE_DIR, OUTPUT, TEMPLATE, SIL_VERSION (the project's version,
# MAJOR.MINOR.PATCH), CONFIGURE_TIME.
string(REPLACE "." ";" parts "${SIL_VERSION}.0.0.0")
list(GET parts 0 SIL_VERSION_MAJOR)
list(GET parts 1 SIL_VERSION_MINOR)
list(GET parts 2 SIL_VERSION_PATCH)
set(SIL_VERSION "${SIL_VERSION_MAJOR}.${SIL_VERSION_MINOR}.${SIL_VERSION_PATCH}")

set(SIL_GIT_REVISION "unknown")
set(SIL_GIT_DIRTY "false")
find_program(GIT git)
if(GIT)
  execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" rev-parse HEAD
                  OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0)
    set(SIL_GIT_REVISION "${rev}")
    # Untracked files count: a new source file not yet committed changes the build.
    execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" status --porcelain
                    OUTPUT_VARIABLE changes RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0 AND NOT changes STREQUAL "")
      set(SIL_GIT_DIRTY "true")
    endif()
  endif()
endif()

# The build time is the commit time when known: rebuilding the same commit
# gives the same bytes. SOURCE_DATE_EPOCH overrides both.
if(DEFINED ENV{SOURCE_DATE_EPOCH})
  set(SIL_BUILD_TIME "$ENV{SOURCE_DATE_EPOCH}")
elseif(GIT AND NOT SIL_GIT_REVISION STREQUAL "unknown" AND SIL_GIT_DIRTY STREQUAL "false")
  execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" log -1 --format=%ct
                  OUTPUT_VARIABLE SIL_BUILD_TIME OUTPUT_STRIP_TRAILING_WHITESPACE)
else()
  # Dirty tree: the time the build directory was configured, so every
  # binary of one build (sil-sim, the Python module) reports the same time.
  set(SIL_BUILD_TIME "${CONFIGURE_TIME}")
endif()

configure_file("${TEMPLATE}" "${OUTPUT}.tmp" @ONLY)
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
