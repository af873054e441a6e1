# Data integrity, truth in certificates, supervision and the ops side of the service (issue 9):
# a private redis-server and `lodestone serve` (test_api_lib.h), real HTTP. One case per test
# (tests/test_api_integrity.c says what each shows).
add_executable(test_api_integrity ${CMAKE_CURRENT_SOURCE_DIR}/test_api_integrity.c)
target_link_libraries(test_api_integrity PRIVATE lds_testapi lds_proto Threads::Threads m)
foreach(case owner duplicate idempotent rejected_blob sweep gc orphans redis_restart busy_port ops_http deposit_crash)
  add_test(NAME integrity_${case} COMMAND test_api_integrity ${case})
  set(labels integration)
  set(timeout 180)
  if(case STREQUAL deposit_crash) # 60 items processed: about 70 s plain, 4 min under ASan
    set(labels slow)
    set(timeout 400)
  endif()
  set_tests_properties(integrity_${case} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout} SKIP_RETURN_CODE 77
    ENVIRONMENT "LODESTONE_BIN=$<TARGET_FILE:lodestone>")
endforeach()
add_dependencies(test_api_integrity lodestone)
