# LOD chain primitives: optimisation, simplification, deviation (mesh/lod.c, mesh/deviation.c).
lds_add_test(NAME lod_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_lod.c LIBS lds_mesh LABELS unit)
