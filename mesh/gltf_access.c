/* gltf_access.c: the data layer of the native glTF 2.0 reader (see gltf_internal.h): the GLB
 * container (glTF 2.0 spec, "GLB File Format Specification"), buffers from the binary chunk,
 * data: URIs (RFC 2397, base64 RFC 4648) or sidecars, bufferViews (with EXT_meshopt_compression
 * decoded by meshoptimizer 0.18's decoders and filters), and accessors in every form the spec
 * allows (section 3.6.2: byteStride, normalized integers, sparse storage, accessors without a
 * bufferView; KHR_mesh_quantization's integer attributes).
 *
 * Hostile input: every length, offset, stride and count is checked against the bytes that hold
 * it before it is used; decoded data is capped by the import limits, so memory stays bounded. */
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <meshoptimizer.h>

#include "gltf_internal.h"

#define GLB_MAGIC 0x46546C67u      /* "glTF" */
#define CHUNK_JSON 0x4E4F534Au     /* "JSON" */
#define CHUNK_BIN 0x004E4942u      /* "BIN\0" */
#define MAX_DECODED_BYTES ((size_t)4 << 30) /* all meshopt-decoded views of one file */
#define MESHOPT_MAX_RATIO 1024     /* decoded bytes per compressed byte a view may claim */

enum { CT_BYTE = 5120, CT_UBYTE = 5121, CT_SHORT = 5122, CT_USHORT = 5123, CT_UINT = 5125, CT_FLOAT = 5126 };

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- JSON helpers ---- */

json_t *lds_gltf_item(const gltf_doc *doc, const char *key, size_t i)
{
    json_t *v = json_array_get(json_object_get(doc->root, key), i);
    return json_is_object(v) ? v : NULL;
}

size_t lds_gltf_count(const gltf_doc *doc, const char *key)
{
    return json_array_size(json_object_get(doc->root, key));
}

int lds_gltf_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t dflt, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 9e15) {
        *out = (int64_t)json_real_value(v); /* 1.0 is an integer in JSON terms */
    } else if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else {
        return -1;
    }
    return *out >= min && *out <= max ? 0 : -1;
}

int lds_gltf_number(const json_t *obj, const char *key, double dflt, double *out)
{
    json_t *v = json_object_get(obj, key);
    *out = v == NULL ? dflt : json_number_value(v);
    return v == NULL || (json_is_number(v) && isfinite(*out)) ? 0 : -1;
}

int lds_gltf_numbers(const json_t *obj, const char *key, size_t n, float *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (json_array_size(v) != n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(v, i);
        double d = json_number_value(x);
        if (!json_is_number(x) || !isfinite(d) || fabs(d) > FLT_MAX)
            return -1;
        out[i] = (float)d;
    }
    return 0;
}

/* ---- URIs ---- */

static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int lds_gltf_data_uri(const char *uri, unsigned char **data, size_t *size, char *mime, size_t mime_size)
{
    *data = NULL;
    *size = 0;
    if (strncmp(uri, "data:", 5) != 0)
        return -1;
    const char *comma = strchr(uri, ',');
    if (comma == NULL)
        return -1;
    const char *meta = uri + 5;
    size_t meta_len = (size_t)(comma - meta);
    if (meta_len < 7 || memcmp(comma - 7, ";base64", 7) != 0)
        return -1; /* percent-encoded payloads are not used for binary glTF data */
    size_t mime_len = strcspn(meta, ";,");
    if (mime && mime_size) {
        size_t n = mime_len < mime_size - 1 ? mime_len : mime_size - 1;
        memcpy(mime, meta, n);
        mime[n] = '\0';
    }
    const unsigned char *p = (const unsigned char *)comma + 1;
    size_t len = strlen((const char *)p);
    unsigned char *out = malloc(len / 4 * 3 + 3);
    if (out == NULL)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '=')
            break;
        int v = base64_value(p[i]);
        if (v < 0) {
            if (p[i] == '\n' || p[i] == '\r' || p[i] == ' ')
                continue;
            free(out);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    *data = out;
    *size = n;
    return 0;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int lds_gltf_uri_path(const char *uri, char *out, size_t out_size)
{
    size_t n = 0;
    for (const char *p = uri; *p; p++) {
        char c = *p;
        if (c == '%') {
            int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        if (n + 1 >= out_size)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

/* ---- container ---- */

static lds_status open_glb(gltf_doc *doc, const unsigned char *data, size_t size, const unsigned char **json,
                           size_t *json_size, lds_error *err)
{
    const char *name = doc->ctx->name;
    if (size < 20)
        return lds_error_set(err, LDS_ETRUNC, "%s: GLB of %zu bytes is shorter than its header", name, size);
    uint32_t version = le32(data + 4), length = le32(data + 8);
    if (version == 1) {
        doc->legacy = 1;
        return LDS_OK;
    }
    if (version != 2)
        return lds_error_set(err, LDS_EFORMAT, "%s: GLB version %u (only glTF 1.0 and 2.0 are read)", name, version);
    if (length > size)
        return lds_error_set(err, LDS_ETRUNC, "%s: GLB says %u bytes but the file has %zu", name, length, size);
    size_t pos = 12;
    for (int chunk = 0; pos + 8 <= length; chunk++) {
        uint32_t chunk_length = le32(data + pos), type = le32(data + pos + 4);
        if (chunk_length > length - pos - 8)
            return lds_error_set(err, LDS_ETRUNC, "%s: GLB chunk %d of %u bytes runs past the file", name, chunk,
                                 chunk_length);
        const unsigned char *body = data + pos + 8;
        if (chunk == 0) {
            if (type != CHUNK_JSON)
                return lds_error_set(err, LDS_EFORMAT, "%s: the first GLB chunk is not JSON", name);
            *json = body;
            *json_size = chunk_length;
        } else if (chunk == 1 && type == CHUNK_BIN) {
            doc->bin = body;
            doc->bin_size = chunk_length;
        }
        pos += 8 + (size_t)chunk_length;
    }
    if (*json == NULL)
        return lds_error_set(err, LDS_ETRUNC, "%s: GLB without a JSON chunk", name);
    return LDS_OK;
}

lds_status lds_gltf_open(gltf_doc *doc, const lds_import_ctx *ctx, const unsigned char *data, size_t size,
                         lds_error *err)
{
    memset(doc, 0, sizeof(*doc));
    doc->ctx = ctx;
    doc->max_elements = ctx->max_vertices > ctx->max_triangles * 3 ? ctx->max_vertices : ctx->max_triangles * 3;
    const unsigned char *json = data;
    size_t json_size = size;
    if (size >= 4 && le32(data) == GLB_MAGIC) {
        json = NULL;
        lds_status st = open_glb(doc, data, size, &json, &json_size, err);
        if (st != LDS_OK || doc->legacy)
            return st;
    }
    json_error_t jerr;
    doc->root = json_loadb((const char *)json, json_size, JSON_REJECT_DUPLICATES, &jerr);
    if (doc->root == NULL)
        return lds_error_set(err, LDS_EFORMAT, "%s: glTF JSON: %s at line %d", ctx->name, jerr.text, jerr.line);
    if (!json_is_object(doc->root))
        return lds_error_set(err, LDS_EFORMAT, "%s: glTF JSON is not an object", ctx->name);
    json_t *asset = json_object_get(doc->root, "asset");
    const char *version = json_string_value(json_object_get(asset, "version"));
    if (version == NULL || strncmp(version, "1.", 2) == 0 || strcmp(version, "1") == 0) {
        doc->legacy = 1; /* glTF 1.0 (whose asset.version was optional) */
        return LDS_OK;
    }
    if (strncmp(version, "2.", 2) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: glTF asset version %s (only 1.x and 2.x are read)", ctx->name,
                             version);
    doc->buffer_count = lds_gltf_count(doc, "buffers");
    doc->view_count = lds_gltf_count(doc, "bufferViews");
    doc->buffers = calloc(doc->buffer_count + 1, sizeof(gltf_bytes));
    doc->views = calloc(doc->view_count + 1, sizeof(gltf_bytes));
    if (doc->buffers == NULL || doc->views == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", ctx->name);
    return LDS_OK;
}

void lds_gltf_close(gltf_doc *doc)
{
    for (size_t i = 0; doc->buffers && i < doc->buffer_count; i++)
        free(doc->buffers[i].owned);
    for (size_t i = 0; doc->views && i < doc->view_count; i++)
        free(doc->views[i].owned);
    free(doc->buffers);
    free(doc->views);
    json_decref(doc->root);
    memset(doc, 0, sizeof(*doc));
}

/* ---- buffers and views ---- */

static lds_status load_buffer(gltf_doc *doc, size_t index, lds_error *err)
{
    const char *name = doc->ctx->name;
    gltf_bytes *b = &doc->buffers[index];
    json_t *buffer = lds_gltf_item(doc, "buffers", index);
    int64_t length;
    b->state = -1;
    if (buffer == NULL || lds_gltf_int(buffer, "byteLength", 1, INT64_MAX, -1, &length) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: buffer %zu has no valid byteLength", name, index);
    const char *uri = json_string_value(json_object_get(buffer, "uri"));
    if (uri == NULL && index == 0 && doc->bin) {
        b->data = doc->bin;
        b->size = doc->bin_size;
    } else if (uri && strncmp(uri, "data:", 5) == 0) {
        if (lds_gltf_data_uri(uri, &b->owned, &b->size, NULL, 0) != 0)
            return lds_error_set(err, LDS_EFORMAT, "%s: buffer %zu has a malformed data URI", name, index);
        b->data = b->owned;
    } else if (uri) {
        char path[1024];
        if (lds_gltf_uri_path(uri, path, sizeof(path)) != 0)
            return lds_error_set(err, LDS_EFORMAT, "%s: buffer %zu has a malformed URI", name, index);
        if (doc->ctx->reader == NULL || doc->ctx->reader->read(doc->ctx->reader->ctx, path, &b->owned, &b->size) != 0)
            return lds_error_set(err, LDS_EFORMAT, "%s: buffer file %s is missing", name, path);
        b->data = b->owned;
    } else {
        return lds_error_set(err, LDS_EFORMAT, "%s: buffer %zu has no data (no uri, not the GLB chunk)", name, index);
    }
    if (b->size < (uint64_t)length)
        return lds_error_set(err, LDS_ETRUNC, "%s: buffer %zu has %zu of its %lld bytes", name, index, b->size,
                             (long long)length);
    b->size = (size_t)length;
    b->state = 1;
    return LDS_OK;
}

static lds_status buffer_bytes(gltf_doc *doc, int64_t index, const unsigned char **data, size_t *size,
                               lds_error *err)
{
    if (index < 0 || (uint64_t)index >= doc->buffer_count)
        return lds_error_set(err, LDS_EFORMAT, "%s: buffer %lld does not exist", doc->ctx->name, (long long)index);
    gltf_bytes *b = &doc->buffers[index];
    if (b->state == 0) {
        lds_status st = load_buffer(doc, (size_t)index, err);
        if (st != LDS_OK)
            return st;
    } else if (b->state < 0) {
        return lds_error_set(err, LDS_EFORMAT, "%s: buffer %lld is missing or malformed", doc->ctx->name,
                             (long long)index);
    }
    *data = b->data;
    *size = b->size;
    return LDS_OK;
}

/* The [offset, offset + length) range of buffer `buffer`, checked. */
static lds_status buffer_range(gltf_doc *doc, const json_t *obj, const char *what, int64_t index,
                               const unsigned char **data, size_t *size, lds_error *err)
{
    int64_t buffer, offset, length;
    if (lds_gltf_int(obj, "buffer", 0, INT32_MAX, -1, &buffer) != 0 ||
        lds_gltf_int(obj, "byteOffset", 0, INT64_MAX, 0, &offset) != 0 ||
        lds_gltf_int(obj, "byteLength", 1, INT64_MAX, -1, &length) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: %s %lld is malformed", doc->ctx->name, what, (long long)index);
    const unsigned char *bytes = NULL;
    size_t bytes_size = 0;
    lds_status st = buffer_bytes(doc, buffer, &bytes, &bytes_size, err);
    if (st != LDS_OK)
        return st;
    if ((uint64_t)offset > bytes_size || (uint64_t)length > bytes_size - (uint64_t)offset)
        return lds_error_set(err, LDS_EFORMAT, "%s: %s %lld (%lld bytes at %lld) runs past its buffer of %zu",
                             doc->ctx->name, what, (long long)index, (long long)length, (long long)offset,
                             bytes_size);
    *data = bytes + offset;
    *size = (size_t)length;
    return LDS_OK;
}

/* EXT_meshopt_compression: decodes the view into view->owned. */
static lds_status decode_meshopt(gltf_doc *doc, int64_t index, const json_t *ext, size_t view_length,
                                 lds_error *err)
{
    const char *name = doc->ctx->name;
    const unsigned char *src;
    size_t src_size;
    int64_t count, stride;
    lds_status st = buffer_range(doc, ext, "meshopt bufferView", index, &src, &src_size, err);
    if (st != LDS_OK)
        return st;
    const char *mode = json_string_value(json_object_get(ext, "mode"));
    const char *filter = json_string_value(json_object_get(ext, "filter"));
    if (lds_gltf_int(ext, "count", 1, (int64_t)doc->max_elements, -1, &count) != 0 ||
        lds_gltf_int(ext, "byteStride", 1, 256, -1, &stride) != 0 || mode == NULL)
        return lds_error_set(err, LDS_EFORMAT, "%s: meshopt bufferView %lld is malformed", name, (long long)index);
    size_t bytes = (size_t)count * (size_t)stride;
    if (bytes / MESHOPT_MAX_RATIO > src_size || bytes > MAX_DECODED_BYTES - doc->decoded_bytes ||
        bytes > view_length)
        return lds_error_set(err, LDS_ELIMIT, "%s: meshopt bufferView %lld claims %zu bytes from %zu", name,
                             (long long)index, bytes, src_size);
    unsigned char *out = malloc(bytes);
    if (out == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory decoding bufferView %lld", name, (long long)index);
    int rc = -1;
    if (strcmp(mode, "ATTRIBUTES") == 0 && stride % 4 == 0)
        rc = meshopt_decodeVertexBuffer(out, (size_t)count, (size_t)stride, src, src_size);
    else if (strcmp(mode, "TRIANGLES") == 0 && (stride == 2 || stride == 4) && count % 3 == 0)
        rc = meshopt_decodeIndexBuffer(out, (size_t)count, (size_t)stride, src, src_size);
    else if (strcmp(mode, "INDICES") == 0 && (stride == 2 || stride == 4))
        rc = meshopt_decodeIndexSequence(out, (size_t)count, (size_t)stride, src, src_size);
    if (rc == 0 && filter && strcmp(filter, "NONE") != 0) {
        if (strcmp(filter, "OCTAHEDRAL") == 0 && (stride == 4 || stride == 8))
            meshopt_decodeFilterOct(out, (size_t)count, (size_t)stride);
        else if (strcmp(filter, "QUATERNION") == 0 && stride == 8)
            meshopt_decodeFilterQuat(out, (size_t)count, (size_t)stride);
        else if (strcmp(filter, "EXPONENTIAL") == 0 && stride % 4 == 0)
            meshopt_decodeFilterExp(out, (size_t)count, (size_t)stride);
        else
            rc = -1;
    }
    if (rc != 0) {
        free(out);
        return lds_error_set(err, LDS_EFORMAT, "%s: meshopt bufferView %lld (mode %s, filter %s) does not decode",
                             name, (long long)index, mode, filter ? filter : "NONE");
    }
    gltf_bytes *v = &doc->views[index];
    v->owned = out;
    v->data = out;
    v->size = bytes;
    v->state = 1;
    doc->decoded_bytes += bytes;
    doc->used_meshopt = 1;
    return LDS_OK;
}

lds_status lds_gltf_view(gltf_doc *doc, int64_t index, const unsigned char **data, size_t *size, size_t *stride,
                         lds_error *err)
{
    const char *name = doc->ctx->name;
    json_t *view = index >= 0 && (uint64_t)index < doc->view_count ? lds_gltf_item(doc, "bufferViews", (size_t)index)
                                                                    : NULL;
    int64_t byte_stride;
    if (view == NULL || lds_gltf_int(view, "byteStride", 4, 252, 0, &byte_stride) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: bufferView %lld is missing or malformed", name, (long long)index);
    *stride = (size_t)byte_stride;
    json_t *ext = json_object_get(json_object_get(view, "extensions"), "EXT_meshopt_compression");
    if (ext == NULL)
        ext = json_object_get(json_object_get(view, "extensions"), "KHR_meshopt_compression");
    if (json_is_object(ext)) {
        gltf_bytes *v = &doc->views[index];
        if (v->state == 0) {
            int64_t length;
            v->state = -1;
            if (lds_gltf_int(view, "byteLength", 1, INT64_MAX, -1, &length) != 0)
                return lds_error_set(err, LDS_EFORMAT, "%s: bufferView %lld has no byteLength", name, (long long)index);
            lds_status st = decode_meshopt(doc, index, ext, (size_t)length, err);
            if (st != LDS_OK)
                return st;
        } else if (v->state < 0) {
            return lds_error_set(err, LDS_EFORMAT, "%s: meshopt bufferView %lld does not decode", name, (long long)index);
        }
        *data = v->data;
        *size = v->size;
        return LDS_OK;
    }
    return buffer_range(doc, view, "bufferView", index, data, size, err);
}

/* ---- accessors ---- */

static int component_size(int type)
{
    switch (type) {
    case CT_BYTE:
    case CT_UBYTE:
        return 1;
    case CT_SHORT:
    case CT_USHORT:
        return 2;
    case CT_UINT:
    case CT_FLOAT:
        return 4;
    default:
        return 0;
    }
}

static int type_components(const char *type)
{
    static const struct { const char *name; int n; } types[] = {
        {"SCALAR", 1}, {"VEC2", 2}, {"VEC3", 3}, {"VEC4", 4}, {"MAT2", 4}, {"MAT3", 9}, {"MAT4", 16}};
    for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i].name) == 0)
            return types[i].n;
    return 0;
}

lds_status lds_gltf_accessor_info(gltf_doc *doc, int64_t index, gltf_accessor *info, lds_error *err)
{
    json_t *acc = index >= 0 ? lds_gltf_item(doc, "accessors", (size_t)index) : NULL;
    int64_t count, type;
    if (acc == NULL || lds_gltf_int(acc, "count", 1, (int64_t)doc->max_elements, -1, &count) != 0 ||
        lds_gltf_int(acc, "componentType", CT_BYTE, CT_FLOAT, -1, &type) != 0 || component_size((int)type) == 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: accessor %lld is missing or malformed (or over the limits)",
                             doc->ctx->name, (long long)index);
    info->count = (size_t)count;
    info->component_type = (int)type;
    info->components = type_components(json_string_value(json_object_get(acc, "type")));
    info->normalized = json_is_true(json_object_get(acc, "normalized"));
    if (info->components == 0 || (info->components > 4 && info->components != 16)) /* MAT4: no column padding */
        return lds_error_set(err, LDS_EFORMAT, "%s: accessor %lld has an unsupported type", doc->ctx->name,
                             (long long)index);
    return LDS_OK;
}

static float component_value(const unsigned char *p, int type, int normalized)
{
    switch (type) {
    case CT_BYTE: {
        int8_t v = (int8_t)p[0];
        return normalized ? fmaxf((float)v / 127.0f, -1.0f) : (float)v;
    }
    case CT_UBYTE:
        return normalized ? (float)p[0] / 255.0f : (float)p[0];
    case CT_SHORT: {
        int16_t v = (int16_t)(uint16_t)(p[0] | p[1] << 8);
        return normalized ? fmaxf((float)v / 32767.0f, -1.0f) : (float)v;
    }
    case CT_USHORT: {
        uint16_t v = (uint16_t)(p[0] | p[1] << 8);
        return normalized ? (float)v / 65535.0f : (float)v;
    }
    case CT_UINT:
        return (float)le32(p);
    default: {
        uint32_t u = le32(p);
        float f;
        memcpy(&f, &u, sizeof(f));
        return f;
    }
    }
}

/* Reads `count` elements of `components` components of `type` from a view at `offset` into out
 * (width floats per element). */
static lds_status read_elements(gltf_doc *doc, int64_t view, int64_t offset, size_t count, int components, int type,
                                int normalized, int width, const float *fill, float *out, const char *what,
                                lds_error *err)
{
    const unsigned char *data;
    size_t size, stride;
    lds_status st = lds_gltf_view(doc, view, &data, &size, &stride, err);
    if (st != LDS_OK)
        return st;
    size_t element = (size_t)components * (size_t)component_size(type);
    if (stride == 0)
        stride = element;
    if (stride < element || offset < 0 || (uint64_t)offset > size ||
        (count && ((count - 1) > (size - (size_t)offset) / stride ||
                   (count - 1) * stride + element > size - (size_t)offset)))
        return lds_error_set(err, LDS_EFORMAT, "%s: %s (%zu elements of %zu bytes, stride %zu at %lld) runs past "
                             "bufferView %lld of %zu bytes", doc->ctx->name, what, count, element, stride,
                             (long long)offset, (long long)view, size);
    int cs = component_size(type);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *p = data + (size_t)offset + i * stride;
        float *o = out + i * (size_t)width;
        for (int c = 0; c < width; c++)
            o[c] = c < components ? component_value(p + c * cs, type, normalized) : fill[c];
    }
    return LDS_OK;
}

/* Reads `count` unsigned integers of `type` from a view at `offset` (tightly packed unless the
 * view has a stride). */
static lds_status read_uints(gltf_doc *doc, int64_t view, int64_t offset, size_t count, int type, uint32_t *out,
                             const char *what, lds_error *err)
{
    const unsigned char *data;
    size_t size, stride;
    lds_status st = lds_gltf_view(doc, view, &data, &size, &stride, err);
    if (st != LDS_OK)
        return st;
    size_t cs = (size_t)component_size(type);
    if (stride == 0)
        stride = cs;
    if (stride < cs || offset < 0 || (uint64_t)offset > size ||
        (count && ((count - 1) > (size - (size_t)offset) / stride || (count - 1) * stride + cs > size - (size_t)offset)))
        return lds_error_set(err, LDS_EFORMAT, "%s: %s runs past bufferView %lld of %zu bytes", doc->ctx->name, what,
                             (long long)view, size);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *p = data + (size_t)offset + i * stride;
        out[i] = cs == 1 ? p[0] : cs == 2 ? (uint32_t)(p[0] | p[1] << 8) : le32(p);
    }
    return LDS_OK;
}

static lds_status apply_sparse(gltf_doc *doc, int64_t index, const json_t *sparse, const gltf_accessor *info,
                               int width, const float *fill, float *out, lds_error *err)
{
    const char *name = doc->ctx->name;
    json_t *idx = json_object_get(sparse, "indices"), *val = json_object_get(sparse, "values");
    int64_t count, iview, ioffset, itype, vview, voffset;
    if (lds_gltf_int(sparse, "count", 1, (int64_t)info->count, -1, &count) != 0 ||
        lds_gltf_int(idx, "bufferView", 0, INT32_MAX, -1, &iview) != 0 ||
        lds_gltf_int(idx, "byteOffset", 0, INT64_MAX, 0, &ioffset) != 0 ||
        lds_gltf_int(idx, "componentType", CT_UBYTE, CT_UINT, -1, &itype) != 0 ||
        (itype != CT_UBYTE && itype != CT_USHORT && itype != CT_UINT) ||
        lds_gltf_int(val, "bufferView", 0, INT32_MAX, -1, &vview) != 0 ||
        lds_gltf_int(val, "byteOffset", 0, INT64_MAX, 0, &voffset) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: accessor %lld has malformed sparse storage", name, (long long)index);
    uint32_t *where = malloc((size_t)count * sizeof(uint32_t));
    float *values = malloc((size_t)count * (size_t)width * sizeof(float));
    lds_status st = where && values ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
    if (st == LDS_OK)
        st = read_uints(doc, iview, ioffset, (size_t)count, (int)itype, where, "sparse indices", err);
    if (st == LDS_OK)
        st = read_elements(doc, vview, voffset, (size_t)count, info->components, info->component_type,
                           info->normalized, width, fill, values, "sparse values", err);
    for (int64_t i = 0; st == LDS_OK && i < count; i++) {
        size_t at = where[i];
        if (at >= info->count) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: accessor %lld sparse index %zu is out of range", name,
                               (long long)index, at);
            break;
        }
        memcpy(out + (size_t)at * (size_t)width, values + (size_t)i * (size_t)width, (size_t)width * sizeof(float));
    }
    free(where);
    free(values);
    return st;
}

lds_status lds_gltf_read_floats(gltf_doc *doc, int64_t index, int width, const float *fill, float *out,
                                lds_error *err)
{
    gltf_accessor info;
    lds_status st = lds_gltf_accessor_info(doc, index, &info, err);
    if (st != LDS_OK)
        return st;
    json_t *acc = lds_gltf_item(doc, "accessors", (size_t)index);
    int64_t view, offset;
    if (lds_gltf_int(acc, "bufferView", 0, INT32_MAX, -1, &view) != 0 ||
        lds_gltf_int(acc, "byteOffset", 0, INT64_MAX, 0, &offset) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: accessor %lld is malformed", doc->ctx->name, (long long)index);
    if (view < 0) {
        for (size_t i = 0; i < info.count; i++)
            for (int c = 0; c < width; c++)
                out[i * (size_t)width + c] = c < info.components ? 0.0f : fill[c];
    } else {
        char what[48];
        snprintf(what, sizeof(what), "accessor %lld", (long long)index);
        st = read_elements(doc, view, offset, info.count, info.components, info.component_type, info.normalized,
                           width, fill, out, what, err);
        if (st != LDS_OK)
            return st;
    }
    json_t *sparse = json_object_get(acc, "sparse");
    return sparse ? apply_sparse(doc, index, sparse, &info, width, fill, out, err) : LDS_OK;
}

lds_status lds_gltf_read_indices(gltf_doc *doc, int64_t index, uint32_t *out, lds_error *err)
{
    gltf_accessor info;
    lds_status st = lds_gltf_accessor_info(doc, index, &info, err);
    if (st != LDS_OK)
        return st;
    if (info.components != 1 ||
        (info.component_type != CT_UBYTE && info.component_type != CT_USHORT && info.component_type != CT_UINT))
        return lds_error_set(err, LDS_EFORMAT, "%s: index accessor %lld is not unsigned integer scalars",
                             doc->ctx->name, (long long)index);
    json_t *acc = lds_gltf_item(doc, "accessors", (size_t)index);
    int64_t view, offset;
    if (lds_gltf_int(acc, "bufferView", 0, INT32_MAX, -1, &view) != 0 ||
        lds_gltf_int(acc, "byteOffset", 0, INT64_MAX, 0, &offset) != 0 || json_object_get(acc, "sparse"))
        return lds_error_set(err, LDS_EFORMAT, "%s: index accessor %lld is malformed or sparse", doc->ctx->name,
                             (long long)index);
    if (view < 0) {
        memset(out, 0, info.count * sizeof(uint32_t));
        return LDS_OK;
    }
    return read_uints(doc, view, offset, info.count, info.component_type, out, "index accessor", err);
}
