# Sandbox, limits, archives (issue 5).
lds_add_test(NAME sandbox_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_sandbox.c LIBS lds_sandbox LABELS unit
  TIMEOUT 120)
lds_add_test(NAME archive_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_archive.c LIBS lds_ingest LABELS unit
  TIMEOUT 120)
lds_add_test(NAME archive_manifest_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_archive_manifest.c LIBS lds_ingest
  LABELS unit)
