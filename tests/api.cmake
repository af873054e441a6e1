# HTTP API (issue 4): real HTTP (the curl command line) against a real `lodestone serve` and a
# private redis-server (Unix socket under the test's tmp dir, AOF, appendfsync always) that each
# test starts and kills, however it ends (tests/test_api_lib.c, library lds_testapi). Skipped
# without redis-server/curl.
lds_add_test(NAME api_upload_flow SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_upload_flow.c
  LIBS lds_testapi LABELS integration TIMEOUT 120)
lds_add_test(NAME api_errors SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_errors.c
  LIBS lds_testapi LABELS integration TIMEOUT 120)
lds_add_test(NAME api_concurrent SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_concurrent.c
  LIBS lds_testapi LABELS integration TIMEOUT 120)
lds_add_test(NAME api_crash_recovery SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_crash_recovery.c
  LIBS lds_testapi LABELS slow TIMEOUT 240)
lds_add_test(NAME api_openapi SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_openapi.c
  LIBS lds_testapi LABELS integration TIMEOUT 120)
lds_add_test(NAME api_dead_letters SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_dead_letters.c
  LIBS lds_testapi LABELS integration TIMEOUT 120)
