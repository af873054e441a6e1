# Hostile input acceptance (issue 5, Tests): the hostile set (hostile_set.c, generated at test
# time) through `lodestone process` and through the service (POST /v1/assets).
lds_add_test(NAME process_hostile SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_process_hostile.c
  ${CMAKE_CURRENT_SOURCE_DIR}/hostile_set.c LABELS integration TIMEOUT 1200)
lds_add_test(NAME service_hostile SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_service_hostile.c
  ${CMAKE_CURRENT_SOURCE_DIR}/hostile_set.c LIBS lds_testapi LABELS integration TIMEOUT 600)
