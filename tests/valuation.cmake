# Valuation (issue 11): the library on its own; the CLI (process + value, fit with bad lines);
# the service through the real API (events, aggregator, GET valuation) with a private
# redis-server and `lodestone serve`.
lds_add_test(NAME valuation_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_valuation.c
  LIBS lds_valuation LABELS unit TIMEOUT 60)
lds_add_test(NAME valuation_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_valuation_cli.c
  LABELS integration TIMEOUT 120)
lds_add_test(NAME valuation_api SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_valuation_api.c
  LIBS lds_testapi LABELS integration TIMEOUT 300)
