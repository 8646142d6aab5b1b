# cmake -DBENCH=<bench_cpu> -DUNICORN=<0|1> -P check_bench_cpu.cmake
# bench_cpu's smoke test: one run per figure (--runs 1), bounded, exit 0,
# and every line README.md and docs/cpu.md describe. No timing is judged.
execute_process(COMMAND ${BENCH} --runs 1 RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 240)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bench_cpu --runs 1 exited with '${rc}'")
endif()
set(expect
  "guest \\(vmstress core\\): [0-9]+ instructions in [0-9.]+ s \\(best of 1\\): [0-9.]+ MIPS"
  "native host: [0-9.]+ s per run \\(best of 1\\), checksum matches: vmstress slowdown [0-9.]+x"
  "guest \\(vmstress core\\) burst 10000: [0-9.]+ s \\(best of 1\\): [0-9.]+ MIPS"
  "guest without the dirty log: [0-9.]+ s \\(best of 1\\): [0-9.]+ MIPS; with it [0-9.]+ of that speed")
if(UNICORN)
  list(APPEND expect
    "unicorn continuous: [0-9.]+ s \\(best of 1\\): [0-9.]+ MIPS; vmstress/unicorn speed ratio [0-9.]+"
    "unicorn burst 10000: [0-9.]+ s \\(best of 1\\): [0-9.]+ MIPS; vmstress/unicorn speed ratio [0-9.]+")
endif()
foreach(re IN LISTS expect)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "bench_cpu printed no line matching '${re}'")
  endif()
endforeach()
