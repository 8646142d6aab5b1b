# Bit coverage through the command line: the default run (with register
# exploration) leaves no field bit unseen as 0 or as 1 that
# ci/field-coverage-reasons.json does not explain; the same run with
# --no-explore (shorter: it only has to fall short) leaves some, so it is
# exploration that reaches them.
# cmake -DVMSTRESS=<vmstress> -DREASONS=<reasons.json> -DDIR=<scratch dir> -P bits_cli.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})

function(run_report name checkpoints)
  execute_process(COMMAND ${VMSTRESS} run --checkpoints ${checkpoints} --seed 1 --quiet --results ${DIR}/results
                          --field-coverage ${DIR}/${name}.json ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "vmstress run ${ARGN}: exit ${rc}\n${out}${err}")
  endif()
  execute_process(COMMAND ${VMSTRESS} report ${DIR}/${name}.json --reasons ${REASONS}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "vmstress report: exit ${rc}\n${out}${err}")
  endif()
  string(REGEX MATCH "bits: [0-9]+ of [0-9]+ seen both as 0 and as 1[^\n]*, ([0-9]+) of them unexplained" line "${out}")
  if(line STREQUAL "")
    message(FATAL_ERROR "no bit coverage line in the report:\n${out}")
  endif()
  message(STATUS "${name}: ${line}")
  set(unexplained ${CMAKE_MATCH_1} PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
endfunction()

run_report(explore 2000)
if(NOT unexplained EQUAL 0)
  message(FATAL_ERROR "the default run left bits unseen with no reason recorded:\n${out}")
endif()
run_report(no_explore 500 --no-explore)
if(unexplained EQUAL 0)
  message(FATAL_ERROR "without exploration no bit is left unexplained: the test proves nothing\n${out}")
endif()
string(FIND "${out}" "pl011/lcr" at)
if(at LESS 0)
  message(FATAL_ERROR "without exploration, pl011/lcr's bits should be unseen:\n${out}")
endif()
