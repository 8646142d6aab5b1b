# `vmstress report --streams` on the shipped fuzz_load corpus: every stream
# is loaded on the board it names (the small fuzz board), so the corpus is
# accepted and its fields count as fuzz/replay loads. Forcing the default
# board with --board must still be possible, and there the same streams are
# rejected (the old behaviour that left the fuzz columns at zero).
# cmake -DVMSTRESS=<vmstress> -DCORPUS=<corpus/fuzz_load> -DDIR=<scratch> -P report_streams_cli.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})

# fuzz_loads(<out var accepted> <out var seen> <json file> args...)
function(fuzz_loads acc_var seen_var json)
  execute_process(COMMAND ${VMSTRESS} report --quiet --streams ${CORPUS} --output ${json} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "vmstress report --streams ${CORPUS} ${ARGN}: exit ${rc}\n${out}${err}")
  endif()
  file(READ ${json} data)
  string(JSON acc GET "${data}" loads fuzz accepted)
  string(JSON seen GET "${data}" loads fuzz seen)
  set(${acc_var} ${acc} PARENT_SCOPE)
  set(${seen_var} ${seen} PARENT_SCOPE)
  set(data "${data}" PARENT_SCOPE)
endfunction()

file(GLOB files ${CORPUS}/*)
list(LENGTH files n)
fuzz_loads(acc seen ${DIR}/own.json)
if(NOT seen EQUAL n OR acc LESS 3)
  message(FATAL_ERROR "own boards: ${acc} of ${seen} streams accepted (corpus has ${n}); want at least 3")
endif()
# A field of a device every stream carries has fuzz loads, accepted ones.
string(JSON nd LENGTH "${data}" descriptions)
set(found 0)
math(EXPR last "${nd} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${data}" descriptions ${i} name)
  if(name STREQUAL "pl011")
    string(JSON a GET "${data}" descriptions ${i} fields 0 total accepted fuzz)
    if(a GREATER 0)
      set(found 1)
    endif()
  endif()
endforeach()
if(NOT found)
  message(FATAL_ERROR "pl011's first field has no accepted fuzz loads")
endif()

fuzz_loads(acc seen ${DIR}/forced.json --board vmstress-m0)
if(NOT acc EQUAL 0)
  message(FATAL_ERROR "--board vmstress-m0: ${acc} small-board streams accepted on the default board")
endif()
message(STATUS "${n} corpus streams: all loaded on their own board, accepted there")
