# proto/: Merkle trees and proofs, signed notes, certificates, the log's storage, the notary.
pkg_check_modules(TEST_JANSSON REQUIRED IMPORTED_TARGET jansson)
lds_add_test(NAME proto_merkle SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_proto_merkle.c
  LIBS lds_proto PkgConfig::TEST_JANSSON LABELS unit)
lds_add_test(NAME proto_merkle_vectors SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_proto_merkle.c
  LIBS lds_proto PkgConfig::TEST_JANSSON LABELS unit ARGS vectors)
lds_add_test(NAME proto_cert SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_proto_cert.c
  LIBS lds_proto PkgConfig::TEST_JANSSON LABELS unit)
lds_add_test(NAME proto_crash SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_proto_crash.c
  LIBS lds_proto LABELS integration)
lds_add_test(NAME proto_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_proto_cli.c
  LIBS lds_proto LABELS integration)
lds_add_test(NAME proto_python_verifier SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_proto_cli.c
  LIBS lds_proto LABELS integration ARGS python)
lds_add_test(NAME proto_verify_model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_proto_cli.c
  LIBS lds_proto LABELS integration ARGS model)
