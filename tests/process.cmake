# `lodestone process` through the real binary (issue 2, "Tests"): the corpus scans, determinism,
# the command line, and every assimp-testmodels model.
set(LDS_PROCESS_CHECK ${CMAKE_CURRENT_SOURCE_DIR}/test_process_util.c ${CMAKE_CURRENT_SOURCE_DIR}/test_glb_check.c)

lds_add_test(NAME process_cli
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_process_cli.c ${LDS_PROCESS_CHECK}
  LIBS lds_mesh ${MESHOPT_LIB} LABELS unit)
lds_add_test(NAME process_corpus
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_process_corpus.c ${LDS_PROCESS_CHECK}
  LIBS lds_mesh ${MESHOPT_LIB} LABELS integration TIMEOUT 900)
lds_add_test(NAME process_determinism
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_process_determinism.c ${LDS_PROCESS_CHECK}
  LIBS lds_mesh ${MESHOPT_LIB} LABELS integration)
lds_add_test(NAME process_assimp_models
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_process_assimp.c
  LIBS lds_mesh LABELS slow TIMEOUT 1200)
foreach(t process_cli process_corpus process_determinism)
  target_include_directories(test_${t} PRIVATE ${MESHOPT_INCLUDE})
endforeach()
# each test runs the binary
foreach(t process_cli process_corpus process_determinism process_assimp_models)
  add_dependencies(test_${t} lodestone)
endforeach()
# Bounded work whatever the geometry (issue 9, Hangs): outliers, a flipped coordinate byte, one
# crowded cell, long slivers, each processed under LODESTONE_MAX_JOB_SECONDS; and the budget itself.
lds_add_test(NAME process_outliers SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_process_outliers.c
  LABELS integration TIMEOUT 1200)
# Texture LODs and the chain policy on a textured model the test builds (no ../shared needed).
lds_add_test(NAME process_texture_lod
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_process_texture_lod.c ${LDS_PROCESS_CHECK}
  LIBS lds_mesh ${MESHOPT_LIB} LABELS integration)
target_include_directories(test_process_texture_lod PRIVATE ${MESHOPT_INCLUDE})
