# Shape fingerprint, compare and the shape index (issue 3 items 2 and 3).
lds_add_test(NAME shape_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_shape.c LIBS lds_mesh LABELS unit)
