# LOD chain primitives: optimisation, simplification, deviation (mesh/lod.c, mesh/deviation.c).
lds_add_test(NAME lod_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_lod.c LIBS lds_mesh LABELS unit)
# On the corpus scans and the bench smoke test: they need the importer (lds_mesh_import_file).
file(GLOB lod_import_sources ${PROJECT_SOURCE_DIR}/mesh/import*.c)
if(lod_import_sources)
  lds_add_test(NAME lod_corpus SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_lod_corpus.c LIBS lds_mesh LABELS integration)
  lds_add_test(NAME lod_bench_quick SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_lod_bench.c LIBS lds_common
    LABELS slow TIMEOUT 900)
endif()
