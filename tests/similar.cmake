# The shape index in use (issue 3 item 3): duplicate flags in the pipeline, the Redis shape index,
# GET /v1/assets/{id}/similar. Real redis-server on a private socket, real `lodestone serve`.
lds_add_test(NAME similar_service SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_similar_service.c
  LIBS lds_testapi LABELS integration TIMEOUT 600)
lds_add_test(NAME similar_index SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_similar_index.c
  LIBS lds_ingest LABELS integration TIMEOUT 300)
lds_add_test(NAME similar_offline SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_similar_offline.c
  LIBS lds_ingest LABELS integration TIMEOUT 300)
