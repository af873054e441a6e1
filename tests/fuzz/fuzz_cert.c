/* fuzz_cert.c: the certificate bundle reader and verifier (lds_cert_verify), which `lodestone
 * verify` runs on files from anywhere. The verifier key is the one that signed the seed bundle in
 * corpus/cert, so mutations reach past the signature check into the proof and checkpoint code. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

static const char key[] = "lodestone.example/log+26379878+AV9PPWlPTmb15jM7ZxkHJT98C7QDxxIoMOdsDs338ciW";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        lds_crypto_init();
        ready = 1;
    }
    lds_cert_info info;
    lds_error err;
    lds_error_clear(&err);
    if (lds_cert_verify((const char *)data, size, key, strlen(key), &info, &err) == LDS_OK)
        lds_cert_info_cleanup(&info);
    return 0;
}
