# Model import (mesh/import*.c): native PLY/STL/OBJ readers, Assimp, the sidecar reader.
lds_add_test(NAME import_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_import.c LIBS lds_mesh LABELS unit)
lds_add_test(NAME import_corpus SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_import_corpus.c LIBS lds_mesh
             LABELS integration)
lds_add_test(NAME import_assimp_models SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_import_assimp.c LIBS lds_mesh
             LABELS slow TIMEOUT 1200)
