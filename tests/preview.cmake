# Protected previews (issue 12 items 3 and 4): the watermark and tracing in process, PASETO
# v4.public against the specification's vectors, and the service end to end (HTTP, Chromium,
# attacks with gltfpack, draco_encoder and an OBJ re-export).
lds_add_test(NAME preview_watermark SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_preview_watermark.c
  LIBS lds_sandbox LABELS unit TIMEOUT 900)
lds_add_test(NAME preview_paseto SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_preview_paseto.c
  LIBS lds_proto LABELS unit)
lds_add_test(NAME preview_service SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_preview_service.c
  LIBS lds_testapi lds_proto LABELS integration TIMEOUT 900)
