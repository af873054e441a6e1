# The native glTF 2.0 reader and the PBR material model through the writers (mesh/import_gltf.c,
# gltf_access.c, glb_write.c): accessor forms, materials, meshopt/Draco input, truncations, hostile
# files; outputs validated (Khronos validator), gltfpack -cc output read back.
lds_add_test(NAME gltf_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_gltf.c LIBS lds_mesh LABELS unit)
