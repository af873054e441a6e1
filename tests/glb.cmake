# GLB writing (plain, Draco, meshopt): synthetic models, validated, decoded, deterministic.
lds_add_test(NAME glb_write
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_glb.c ${CMAKE_CURRENT_SOURCE_DIR}/test_glb_check.c
  LIBS lds_mesh ${MESHOPT_LIB} LABELS unit)
target_include_directories(test_glb_write PRIVATE ${MESHOPT_INCLUDE})

# The corpus scans in all three encodings; needs the importer (mesh/import.c) and ../shared/corpus.
if(EXISTS ${PROJECT_SOURCE_DIR}/mesh/import.c)
  lds_add_test(NAME glb_corpus
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_glb_corpus.c ${CMAKE_CURRENT_SOURCE_DIR}/test_glb_check.c
    LIBS lds_mesh ${MESHOPT_LIB} LABELS integration)
  target_include_directories(test_glb_corpus PRIVATE ${MESHOPT_INCLUDE})
endif()
