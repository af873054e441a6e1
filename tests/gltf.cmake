# The native glTF 2.0 reader and the PBR material model through the writers (mesh/import_gltf.c,
# gltf_access.c, glb_write.c): accessor forms, materials, meshopt/Draco input, truncations, hostile
# files; outputs validated (Khronos validator), gltfpack -cc output read back.
lds_add_test(NAME gltf_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_gltf.c LIBS lds_mesh LABELS unit)

# PBR assets through `lodestone process`: every LOD file of every encoding keeps every material
# slot, factor and extension, and validates (../shared/corpus/pbr when present, with gltfpack -cc and
# glTF-Transform draco copies; Debian's assimp-testmodels glTF files always).
lds_add_test(NAME gltf_pbr SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_gltf_pbr.c LIBS lds_mesh
             LABELS slow TIMEOUT 1200)
target_compile_definitions(test_gltf_pbr PRIVATE LDS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
