# Service (issue 4): blob store, Redis queue, workers, notary service. Each test starts its own
# redis-server on a private Unix socket under the build tree and skips when it is missing.
lds_add_test(NAME service_queue SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_service_queue.c
  LIBS lds_ingest LABELS integration TIMEOUT 120)
lds_add_test(NAME service_worker SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_service_worker.c
  LIBS lds_ingest LABELS integration TIMEOUT 180)
lds_add_test(NAME service_e2e SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_service_e2e.c
  LIBS lds_ingest LABELS integration TIMEOUT 240)
lds_add_test(NAME service_notary SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_service_notary.c
  LIBS lds_ingest LABELS integration TIMEOUT 120)
lds_add_test(NAME service_corpus SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_service_corpus.c
  LIBS lds_ingest LABELS integration slow TIMEOUT 300)
