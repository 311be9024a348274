# Builds and runs tests/consumer against eigenml. MODE=package installs the build tree into a
# scratch prefix first; MODE=subdirectory builds the consumer with eigenml's sources embedded.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()

set(args -S ${EIGENML_SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
         -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "package")
  run(${CMAKE_COMMAND} --install ${EIGENML_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} ${args} -DEIGENML_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  run(${CMAKE_COMMAND} ${args} -DEIGENML_CONSUMER_MODE=subdirectory -DEIGENML_SOURCE_DIR=${EIGENML_SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
