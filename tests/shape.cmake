# Shape fingerprint, compare and the shape index (issue 3 items 2 and 3).
lds_add_test(NAME shape_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_shape.c LIBS lds_mesh LABELS unit)
lds_add_test(NAME shape_corpus SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_shape_corpus.c
  LIBS lds_mesh LABELS integration slow TIMEOUT 600)
target_include_directories(test_shape_corpus PRIVATE ${MESHOPT_INCLUDE})
target_link_libraries(test_shape_corpus PRIVATE ${MESHOPT_LIB})
lds_add_test(NAME shape_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_shape_cli.c LIBS lds_common LABELS integration)
