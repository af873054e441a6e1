# GLB writing (plain, Draco, meshopt): synthetic models, validated, decoded, deterministic.
lds_add_test(NAME glb_write
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_glb.c ${CMAKE_CURRENT_SOURCE_DIR}/test_glb_check.c
  LIBS lds_mesh ${MESHOPT_LIB} LABELS unit)
target_include_directories(test_glb_write PRIVATE ${MESHOPT_INCLUDE})
