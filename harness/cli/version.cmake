# Writes OUT (cli_version.h) with VERSION and `git describe` of SRC, at every
# build, but rewrites it only when the text changes: `vmstress --version`
# names the commit it was built from after a new commit (not the commit the
# build was configured at), and an unchanged checkout recompiles nothing.
set(describe "")
if(GIT)
  execute_process(COMMAND ${GIT} describe --always --tags --dirty
                  WORKING_DIRECTORY ${SRC}
                  OUTPUT_VARIABLE describe OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET TIMEOUT 10)
endif()
set(text "#define VMSTRESS_VERSION \"${VERSION}\"\n#define VMSTRESS_GIT_DESCRIBE \"${describe}\"\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
