# Cleanup, quality report and the exact geometry fingerprint (mesh/clean.c, report.c, fingerprint.c).
lds_add_test(NAME clean_report SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_clean.c LIBS lds_mesh LABELS unit)
lds_add_test(NAME fingerprint_geometry SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_fingerprint_geometry.c LIBS lds_mesh LABELS unit)
lds_add_test(NAME clean_perf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_clean_perf.c LIBS lds_mesh LABELS slow)
lds_add_test(NAME fingerprint_resave SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_clean_resave.c LIBS lds_mesh
             LABELS integration TIMEOUT 900)
