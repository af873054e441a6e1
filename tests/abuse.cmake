# Hostile load (issue 9): time budgets through the service, connection floods, fair scheduling,
# quotas, strict HTTP parsing. Real `lodestone serve` and redis-server (test_api_lib.h).
lds_add_test(NAME api_time_budget SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_time_budget.c
  LIBS lds_testapi LABELS integration TIMEOUT 600)
lds_add_test(NAME api_flood SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_flood.c
  ${CMAKE_CURRENT_SOURCE_DIR}/raw_socket.c LIBS lds_testapi LABELS integration TIMEOUT 300)
lds_add_test(NAME api_strict_http SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_strict_http.c
  ${CMAKE_CURRENT_SOURCE_DIR}/raw_socket.c LIBS lds_testapi LABELS integration TIMEOUT 300)
lds_add_test(NAME api_quota_fair SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_quota_fair.c
  LIBS lds_testapi LABELS integration TIMEOUT 600)
