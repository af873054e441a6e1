/* http_client.h: a small HTTP/1.1 client over a plain socket for the CLI's service commands
 * (`lodestone deposit`): http:// only, one request per connection (Connection: close), connect
 * and I/O timeouts, a capped response body. Not a general-purpose client. */
#ifndef LDS_CLI_HTTP_CLIENT_H
#define LDS_CLI_HTTP_CLIENT_H

#include <stdint.h>

#include "common.h"

#define LDS_HTTP_MAX_RESPONSE (16u << 20)

typedef struct lds_http_response {
    int status;   /* e.g. 202 */
    lds_buf body; /* NUL-terminated beyond size when not empty; caller cleans up */
} lds_http_response;

/* Sends method base_url+target ("/v1/deposits?filename=x.zip") with "Authorization: Bearer key"
 * (key may be NULL) and, when body_path is not NULL, that file as the raw body (streamed).
 * timeout_ms bounds the connect and every wait for the socket (not the whole exchange). The
 * response body is read up to LDS_HTTP_MAX_RESPONSE bytes; Content-Length and chunked are
 * understood. Errors name the URL. */
lds_status lds_http_request(const char *base_url, const char *method, const char *target, const char *key,
                            const char *body_path, int timeout_ms, lds_http_response *response, lds_error *err);
void lds_http_response_cleanup(lds_http_response *response);
/* Percent-encodes s for a query value into out (returns 0, or -1 when it does not fit). */
int lds_http_query_escape(const char *s, char *out, size_t out_size);

#endif
