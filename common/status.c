/* status.c: the project's status codes, their names and messages, and the first-error-wins lds_error. */
#include <stdio.h>
#include <string.h>

#include "common.h"

const char *lds_status_name(lds_status status)
{
    switch (status) {
#define LDS_XX_NAME(code, value, msg) \
    case LDS_##code:                  \
        return #code;
        LDS_STATUS_MAP(LDS_XX_NAME)
#undef LDS_XX_NAME
    }
    return "EUNKNOWN";
}

const char *lds_status_message(lds_status status)
{
    switch (status) {
#define LDS_XX_MSG(code, value, msg) \
    case LDS_##code:                 \
        return msg;
        LDS_STATUS_MAP(LDS_XX_MSG)
#undef LDS_XX_MSG
    }
    return "unknown error";
}

void lds_error_clear(lds_error *err)
{
    if (err == NULL)
        return;
    err->code = LDS_OK;
    err->message[0] = '\0';
}

lds_status lds_error_setv(lds_error *err, lds_status code, const char *fmt, va_list ap)
{
    if (err == NULL || err->code != LDS_OK)
        return code;
    err->code = code;
    if (fmt == NULL)
        snprintf(err->message, sizeof(err->message), "%s", lds_status_message(code));
    else
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
    return code;
}

lds_status lds_error_set(lds_error *err, lds_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lds_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}
