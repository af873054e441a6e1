/* placeholder.c: stands in until proto/ lands; the notary refuses to certify. Delete when
 * statement.c and notary.c exist. */
#include <stdlib.h>

#include "proto.h"

lds_status lds_cert_statement_build(const lds_cert_fields *fields, char **json, lds_error *err)
{
    *json = NULL;
    return lds_error_set(err, LDS_EINTERNAL, "certificates: not built yet");
}

lds_status lds_notary_open(const char *home, lds_notary **out, lds_error *err)
{
    *out = NULL;
    return lds_error_set(err, LDS_EINTERNAL, "notary: not built yet");
}

void lds_notary_close(lds_notary *notary)
{
}

lds_status lds_notary_certify(lds_notary *notary, const char *statement_json, size_t statement_size, char **bundle_json,
                              uint64_t *log_index, lds_error *err)
{
    return lds_error_set(err, LDS_EINTERNAL, "notary: not built yet");
}
