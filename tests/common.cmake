lds_add_test(NAME common_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_common.c LIBS lds_common LABELS unit)
lds_add_test(NAME settings SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_settings.c LIBS lds_common LABELS unit)
