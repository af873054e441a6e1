# Issue 8's PBR tests (tests/render/, node ES modules): `lodestone process` on glTF PBR inputs (the
# corpus in ../shared when present, generated assets and assimp-testmodels otherwise) and their
# EXT_meshopt_compression / KHR_draco_mesh_compression copies, checked with the glTF Validator,
# glTF-Transform (inspect.mjs) and renders in headless Chromium against gltfpack (render.mjs).
# The browser tests share one lock: each Chromium + SwiftShader wants both cores.
find_program(LDS_NODE node)
find_program(LDS_GLTFPACK gltfpack)
if(NOT LDS_NODE OR NOT LDS_GLTFPACK OR NOT EXISTS ${PROJECT_SOURCE_DIR}/tools/node_modules/playwright-core)
  message(STATUS "render tests: node, gltfpack or tools/node_modules missing; the pbr_* tests are not registered")
  return()
endif()
set(LDS_RENDER_DIR ${CMAKE_CURRENT_SOURCE_DIR}/render)
set(LDS_PBR_WORK ${CMAKE_CURRENT_BINARY_DIR}/pbr)

function(lds_node_test name labels timeout)
  add_test(NAME ${name} COMMAND ${LDS_NODE} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout} SKIP_RETURN_CODE 77)
endfunction()

lds_node_test(render_harness integration 900 ${LDS_RENDER_DIR}/selftest.mjs ${CMAKE_CURRENT_BINARY_DIR}/render-selftest)
set_tests_properties(render_harness PROPERTIES RESOURCE_LOCK chromium)

lds_node_test(pbr_prepare slow 1800 ${LDS_RENDER_DIR}/pbr_suite.mjs prepare
  --lodestone $<TARGET_FILE:lodestone> --work ${LDS_PBR_WORK} --shared ${LDS_SHARED_DIR})
set_tests_properties(pbr_prepare PROPERTIES FIXTURES_SETUP pbr_outputs)
# pbr_inspect and pbr_render assert issue 8's bars (skins, animations, variants and lights kept;
# renders against gltfpack): label `bar`, run with `ctest -L bar`, not by scripts/test.sh until
# they pass (see the issue's note for what fails).
foreach(t validate inspect texture-bytes)
  string(REPLACE "-" "_" n ${t})
  set(labels slow)
  if(t STREQUAL "inspect")
    set(labels bar)
  endif()
  lds_node_test(pbr_${n} "${labels}" 900 ${LDS_RENDER_DIR}/pbr_suite.mjs ${t} --work ${LDS_PBR_WORK})
  set_tests_properties(pbr_${n} PROPERTIES FIXTURES_REQUIRED pbr_outputs)
endforeach()
lds_node_test(pbr_render bar 3600 ${LDS_RENDER_DIR}/pbr_suite.mjs render --work ${LDS_PBR_WORK})
set_tests_properties(pbr_render PROPERTIES FIXTURES_REQUIRED pbr_outputs RESOURCE_LOCK chromium)

lds_node_test(pbr_chain_ends integration 900 ${LDS_RENDER_DIR}/pbr_suite.mjs chain-ends
  --lodestone $<TARGET_FILE:lodestone> --work ${CMAKE_CURRENT_BINARY_DIR}/pbr-chain-ends)
set_tests_properties(pbr_chain_ends PROPERTIES RESOURCE_LOCK chromium)
lds_node_test(pbr_missing_image integration 300 ${LDS_RENDER_DIR}/pbr_suite.mjs missing-image
  --lodestone $<TARGET_FILE:lodestone> --work ${CMAKE_CURRENT_BINARY_DIR}/pbr-missing-image)

# Issue 8 item 3: skins, animations, node hierarchy, lights and variants survive in every LOD file of
# every encoding (generated skinned asset, assimp-testmodels simple_skin, SheenChair from ../shared
# when present), read back with glTF-Transform and validated.
lds_node_test(scene_keep integration 900 ${LDS_RENDER_DIR}/scene_suite.mjs
  --lodestone $<TARGET_FILE:lodestone> --work ${CMAKE_CURRENT_BINARY_DIR}/scene-keep --shared ${LDS_SHARED_DIR})
# The same outputs' LOD0 rendered in headless Chromium against the input (three.js, same camera).
lds_node_test(scene_render integration 900 ${LDS_RENDER_DIR}/scene_suite.mjs --render 1
  --lodestone $<TARGET_FILE:lodestone> --work ${CMAKE_CURRENT_BINARY_DIR}/scene-render --shared ${LDS_SHARED_DIR})
set_tests_properties(scene_render PROPERTIES RESOURCE_LOCK chromium)
