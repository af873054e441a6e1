/* buf.c: a growable byte buffer with a hard cap set at creation (like curl's dynbuf), so that
 * input can never grow memory without bound. */
#include <stdlib.h>
#include <string.h>

#include "common.h"

void lds_buf_init(lds_buf *buf, size_t max)
{
    buf->data = NULL;
    buf->size = 0;
    buf->capacity = 0;
    buf->max = max ? max : SIZE_MAX;
}

void lds_buf_cleanup(lds_buf *buf)
{
    if (buf == NULL)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->size = buf->capacity = 0;
}

lds_status lds_buf_reserve(lds_buf *buf, size_t extra)
{
    if (extra > buf->max - buf->size)
        return LDS_ELIMIT;
    size_t need = buf->size + extra + 1; /* room for a trailing NUL */
    if (need <= buf->capacity)
        return LDS_OK;
    size_t cap = buf->capacity ? buf->capacity : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *p = realloc(buf->data, cap);
    if (p == NULL)
        return LDS_ENOMEM;
    buf->data = p;
    buf->capacity = cap;
    return LDS_OK;
}

lds_status lds_buf_grow(lds_buf *buf, size_t size, unsigned char **out)
{
    lds_status st = lds_buf_reserve(buf, size);
    if (st != LDS_OK)
        return st;
    memset(buf->data + buf->size, 0, size);
    if (out)
        *out = buf->data + buf->size;
    buf->size += size;
    buf->data[buf->size] = 0;
    return LDS_OK;
}

lds_status lds_buf_append(lds_buf *buf, const void *data, size_t size)
{
    lds_status st = lds_buf_reserve(buf, size);
    if (st != LDS_OK)
        return st;
    if (size)
        memcpy(buf->data + buf->size, data, size);
    buf->size += size;
    buf->data[buf->size] = 0;
    return LDS_OK;
}

lds_status lds_buf_printf(lds_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return LDS_EINVAL;
    lds_status st = lds_buf_reserve(buf, (size_t)n);
    if (st != LDS_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf((char *)buf->data + buf->size, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->size += (size_t)n;
    return LDS_OK;
}

unsigned char *lds_buf_detach(lds_buf *buf, size_t *size)
{
    unsigned char *p = buf->data;
    if (size)
        *size = buf->size;
    buf->data = NULL;
    buf->size = buf->capacity = 0;
    return p;
}
