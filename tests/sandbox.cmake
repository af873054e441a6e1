# Sandbox, limits, archives (issue 5).
lds_add_test(NAME sandbox_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_sandbox.c LIBS lds_sandbox LABELS unit
  TIMEOUT 120)
lds_add_test(NAME archive_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_archive.c LIBS lds_ingest LABELS unit
  TIMEOUT 120)
lds_add_test(NAME archive_manifest_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_archive_manifest.c LIBS lds_ingest
  LABELS unit)
# The hostile set needs the importer (mesh/, branch import): registered once lds_mesh_import exists.
file(GLOB lds_mesh_sources_ ${PROJECT_SOURCE_DIR}/mesh/*.c)
set(LDS_HAVE_IMPORT OFF)
foreach(source_ ${lds_mesh_sources_})
  file(STRINGS ${source_} hit_ REGEX "^lds_status lds_mesh_import\\(")
  if(hit_)
    set(LDS_HAVE_IMPORT ON)
  endif()
endforeach()
if(LDS_HAVE_IMPORT)
  lds_add_test(NAME sandbox_hostile SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_sandbox_hostile.c LIBS lds_sandbox
    LABELS integration TIMEOUT 900)
endif()
