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
  lds_add_test(NAME sandbox_hostile SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_sandbox_hostile.c
    ${CMAKE_CURRENT_SOURCE_DIR}/hostile_set.c LIBS lds_sandbox
    LABELS integration TIMEOUT 900)
endif()

# Fuzz targets (tests/fuzz/). Always: each target's entry point replays its seed corpus as a
# normal program (CTest, label unit). With -DLDS_FUZZ=ON and clang (CC=clang CXX=clang++, best
# with -DLDS_SANITIZE=ON): libFuzzer binaries fuzz_<target>, e.g.
#   build-fuzz/tests/fuzz_archive -max_total_time=300 tests/fuzz/corpus/archive
option(LDS_FUZZ "Build the libFuzzer targets (clang)" OFF)
set(lds_fuzz_dir ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(lds_fuzz_targets "sandbox_wire:lds_sandbox" "manifest:lds_ingest" "archive:lds_ingest" "cert:lds_proto"
  "image:lds_mesh")
if(LDS_HAVE_IMPORT)
  list(APPEND lds_fuzz_targets "import:lds_mesh" "gltf:lds_mesh")
endif()
if(LDS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LDS_FUZZ needs clang: CC=clang CXX=clang++ cmake -DLDS_FUZZ=ON ...")
  endif()
  foreach(lib lds_common lds_mesh lds_sandbox lds_ingest lds_proto)
    if(TARGET ${lib})
      target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
    endif()
  endforeach()
endif()
foreach(entry ${lds_fuzz_targets})
  string(REPLACE ":" ";" parts ${entry})
  list(GET parts 0 target)
  list(GET parts 1 lib)
  lds_add_test(NAME fuzz_replay_${target} SOURCES ${lds_fuzz_dir}/fuzz_${target}.c ${lds_fuzz_dir}/replay_main.c
    LIBS ${lib} LABELS unit ARGS ${lds_fuzz_dir}/corpus/${target})
  if(LDS_FUZZ)
    add_executable(fuzz_${target} ${lds_fuzz_dir}/fuzz_${target}.c)
    target_compile_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${target} PRIVATE ${lib} Threads::Threads m -fsanitize=fuzzer)
  endif()
endforeach()
