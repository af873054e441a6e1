# Archive deposits through the service (issue 5): a private `lodestone serve` (its own embedded
# redis-server) on a free loopback port; archives built at test time (make_deposit.py,
# make_archives.py). Skips without redis-server, curl, zstd or assimp-testmodels.
lds_add_test(NAME deposits SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_deposits.c LIBS lds_ingest
  LABELS integration TIMEOUT 600)
