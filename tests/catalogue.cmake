# The buyer's side (issue 12): catalogue, licences, collections, lineage and thumbnails through
# real HTTP against `lodestone serve` and a private redis-server; the rasteriser on its own.
lds_add_test(NAME api_catalogue SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_catalogue.c
  LIBS lds_testapi LABELS integration TIMEOUT 600)
lds_add_test(NAME thumbnail_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_thumbnail.c
  LIBS lds_mesh LABELS unit TIMEOUT 120)
lds_add_test(NAME api_catalogue_page SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_api_catalogue_page.c
  LIBS lds_testapi LABELS integration TIMEOUT 300)
