# Image decoding, encoding and resizing (mesh/image.c: libpng, libjpeg-turbo, libwebp).
lds_add_test(NAME image_unit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_image.c LIBS lds_mesh LABELS unit)
