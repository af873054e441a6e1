# Sandbox, limits, archives (issue 5).
lds_add_test(NAME sandbox_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_sandbox.c LIBS lds_sandbox LABELS unit
  TIMEOUT 120)
