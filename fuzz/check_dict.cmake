# check_dict.cmake - fuzz_dict_content: the generated fuzz_load.dict carries
# the stream magic, the machine type and a section header name.
#   cmake -DDICT=<file> -P check_dict.cmake
file(READ "${DICT}" text)
foreach(want "QEVM" "vmstress-m0" "\\x04sram" "section_version" "type_")
  string(FIND "${text}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${DICT}: no entry containing '${want}'")
  endif()
endforeach()
string(REGEX MATCHALL "\n[a-z_0-9]+=\"" entries "${text}")
list(LENGTH entries n)
if(n LESS 20)
  message(FATAL_ERROR "${DICT}: only ${n} entries")
endif()
message(STATUS "${DICT}: ${n} entries")
