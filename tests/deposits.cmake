# Archive deposits through the service (issue 5): a private redis-server and `lodestone serve`
# (test_api_lib.h); archives built at test time (make_deposit.py,
# make_archives.py). Skips without redis-server, curl, zstd or assimp-testmodels.
lds_add_test(NAME deposits SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_deposits.c LIBS lds_testapi
  LABELS integration TIMEOUT 600)
