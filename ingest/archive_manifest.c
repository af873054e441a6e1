/* archive_manifest.c: what an archive deposit says about itself: member names (checked and
 * normalised) and the root manifest (CSV per RFC 4180, or JSON) mapping model files to metadata.
 * All of it is hostile input: every string is checked as UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF) and every count and length is capped. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest.h"

#define FIELD_MAX (64u * 1024)
#define TAGS_MAX 256u
#define DEFAULT_MAX_ENTRIES 10000u

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (n > left)
        return 0;
    unsigned cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static int utf8_valid(const char *s, size_t size)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < size;) {
        size_t n = utf8_sequence(p + i, size - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

lds_status lds_archive_check_path(const char *name, size_t max_length, char *out, size_t out_size, const char **why)
{
    *why = NULL;
    if (out_size == 0)
        return LDS_EINVAL;
    out[0] = '\0';
    if (name == NULL) {
        *why = "name is not valid UTF-8";
        return LDS_EPERM;
    }
    size_t length = strlen(name);
    if (max_length == 0)
        max_length = 1024;
    if (length > max_length || length >= out_size) {
        *why = "name is too long";
        return LDS_EPERM;
    }
    if (!utf8_valid(name, length)) {
        *why = "name is not valid UTF-8";
        return LDS_EPERM;
    }
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            *why = "name has control characters";
            return LDS_EPERM;
        }
        if (c == '\\') {
            *why = "name has a backslash";
            return LDS_EPERM;
        }
    }
    if (name[0] == '/') {
        *why = "absolute path";
        return LDS_EPERM;
    }
    if (length >= 2 && isalpha((unsigned char)name[0]) && name[1] == ':') {
        *why = "absolute path (drive letter)";
        return LDS_EPERM;
    }
    size_t o = 0;
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            *why = "path has a \"..\" component";
            out[0] = '\0';
            return LDS_EPERM;
        }
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    out[o] = '\0';
    return LDS_OK;
}

/* ---- manifest entries ---- */

void lds_manifest_entry_cleanup(lds_manifest_entry *e)
{
    if (e == NULL)
        return;
    free(e->file);
    free(e->title);
    free(e->license);
    free(e->owner);
    free(e->accession);
    free(e->capture_method);
    for (size_t i = 0; i < e->tag_count; i++)
        free(e->tags[i]);
    free(e->tags);
    memset(e, 0, sizeof(*e));
}

void lds_manifest_cleanup(lds_manifest *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->entry_count; i++)
        lds_manifest_entry_cleanup(&m->entries[i]);
    free(m->entries);
    for (size_t i = 0; i < m->warning_count; i++)
        free(m->warnings[i]);
    free(m->warnings);
    memset(m, 0, sizeof(*m));
}

static lds_status manifest_warn(lds_manifest *m, const char *fmt, const char *a, const char *b)
{
    if (m->warning_count >= 64)
        return LDS_OK;
    char text[512];
    snprintf(text, sizeof(text), fmt, a, b);
    char **w = realloc(m->warnings, (m->warning_count + 1) * sizeof(char *));
    if (w == NULL)
        return LDS_ENOMEM;
    m->warnings = w;
    if ((w[m->warning_count] = strdup(text)) == NULL)
        return LDS_ENOMEM;
    m->warning_count++;
    return LDS_OK;
}

/* Copies a trimmed field; NULL for an empty one. */
static char *dup_trimmed(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)s[0]))
        s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0)
        return NULL;
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static lds_status split_tags(lds_manifest_entry *e, const char *text, size_t n)
{
    const char *p = text, *end = text + n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        size_t len = semi ? (size_t)(semi - p) : (size_t)(end - p);
        char *tag = dup_trimmed(p, len);
        if (tag) {
            if (e->tag_count >= TAGS_MAX) {
                free(tag);
                return LDS_ELIMIT;
            }
            char **t = realloc(e->tags, (e->tag_count + 1) * sizeof(char *));
            if (t == NULL) {
                free(tag);
                return LDS_ENOMEM;
            }
            e->tags = t;
            e->tags[e->tag_count++] = tag;
        }
        p += len + (semi != NULL);
    }
    return LDS_OK;
}

enum { COL_FILE, COL_TITLE, COL_LICENSE, COL_OWNER, COL_ACCESSION, COL_CAPTURE, COL_TAGS, COL_COUNT, COL_UNKNOWN };
static const char *const column_names[COL_COUNT] = {"file",  "title",     "license",       "owner",
                                                    "accession", "capture_method", "tags"};

static int column_of(const char *s, size_t n)
{
    char lower[32];
    s = s ? s : "";
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= sizeof(lower))
        return COL_UNKNOWN;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)tolower((unsigned char)s[i]);
    lower[n] = '\0';
    for (int c = 0; c < COL_COUNT; c++)
        if (strcmp(lower, column_names[c]) == 0)
            return c;
    if (strcmp(lower, "licence") == 0)
        return COL_LICENSE;
    return COL_UNKNOWN;
}

static lds_status set_field(lds_manifest_entry *e, int column, const char *value, size_t n)
{
    char **slot = NULL;
    switch (column) {
    case COL_FILE: slot = &e->file; break;
    case COL_TITLE: slot = &e->title; break;
    case COL_LICENSE: slot = &e->license; break;
    case COL_OWNER: slot = &e->owner; break;
    case COL_ACCESSION: slot = &e->accession; break;
    case COL_CAPTURE: slot = &e->capture_method; break;
    case COL_TAGS: return split_tags(e, value, n);
    default: return LDS_OK;
    }
    free(*slot);
    *slot = dup_trimmed(value, n);
    return LDS_OK;
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const lds_manifest_entry *)a)->file, ((const lds_manifest_entry *)b)->file);
}

/* Normalises every entry's file, then refuses duplicates (sorted, so O(n log n)). */
static lds_status finish_entries(const char *name, lds_manifest *m, lds_error *err)
{
    char path[4096];
    for (size_t i = 0; i < m->entry_count; i++) {
        lds_manifest_entry *e = &m->entries[i];
        const char *why;
        if (e->file == NULL)
            return lds_error_set(err, LDS_EFORMAT, "%s: entry %zu has no file", name, i + 1);
        if (lds_archive_check_path(e->file, sizeof(path) - 1, path, sizeof(path), &why) != LDS_OK || !path[0])
            return lds_error_set(err, LDS_EFORMAT, "%s: entry %zu: file: %s", name, i + 1,
                                 why ? why : "empty path");
        char *copy = strdup(path);
        if (copy == NULL)
            return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
        free(e->file);
        e->file = copy;
    }
    if (m->entry_count > 1)
        qsort(m->entries, m->entry_count, sizeof(lds_manifest_entry), compare_entries);
    for (size_t i = 1; i < m->entry_count; i++)
        if (strcmp(m->entries[i - 1].file, m->entries[i].file) == 0)
            return lds_error_set(err, LDS_EFORMAT, "%s: %s is listed twice", name, m->entries[i].file);
    return LDS_OK;
}

/* ---- CSV (RFC 4180, with LF or CRLF line ends and an optional UTF-8 BOM) ---- */

typedef struct csv_field {
    char *text; /* unescaped, in scratch */
    size_t size;
} csv_field;

/* Reads one record into fields (at most max_fields). Returns 1 with a record, 0 at the end, -1 on
 * error (*why set). scratch receives the unescaped text. */
static int csv_record(const char **pp, const char *end, lds_buf *scratch, csv_field *fields, size_t max_fields,
                      size_t *field_count, const char **why)
{
    const char *p = *pp;
    *field_count = 0;
    if (p >= end)
        return 0;
    lds_buf_cleanup(scratch);
    lds_buf_init(scratch, (size_t)FIELD_MAX * (max_fields + 1));
    size_t starts[COL_COUNT + 64];
    for (;;) {
        if (*field_count >= max_fields) {
            *why = "too many fields";
            return -1;
        }
        starts[*field_count] = scratch->size;
        size_t field_start = scratch->size;
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p >= end) {
                    *why = "unterminated quoted field";
                    return -1;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        if (lds_buf_append(scratch, "\"", 1) != LDS_OK)
                            goto too_long;
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (lds_buf_append(scratch, p, 1) != LDS_OK)
                    goto too_long;
                p++;
            }
            if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                *why = "text after a closing quote";
                return -1;
            }
        } else {
            const char *q = p;
            while (q < end && *q != ',' && *q != '\n' && *q != '\r')
                q++;
            if (lds_buf_append(scratch, p, (size_t)(q - p)) != LDS_OK)
                goto too_long;
            p = q;
        }
        if (scratch->size - field_start > FIELD_MAX)
            goto too_long;
        if (lds_buf_append(scratch, "", 1) != LDS_OK) /* NUL between fields */
            goto too_long;
        (*field_count)++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
        break;
    }
    for (size_t i = 0; i < *field_count; i++) {
        fields[i].text = (char *)scratch->data + starts[i];
        fields[i].size = strlen(fields[i].text);
        size_t raw = (i + 1 < *field_count ? starts[i + 1] : scratch->size) - starts[i] - 1;
        if (raw != fields[i].size) {
            *why = "NUL byte in a field";
            return -1;
        }
        if (!utf8_valid(fields[i].text, fields[i].size)) {
            *why = "text is not valid UTF-8";
            return -1;
        }
    }
    *pp = p;
    return 1;
too_long:
    *why = "field too long";
    return -1;
}

static int record_blank(const csv_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < fields[i].size; j++)
            if (!isspace((unsigned char)fields[i].text[j]))
                return 0;
    return 1;
}

lds_status lds_manifest_parse_csv(const char *name, const char *data, size_t size, size_t max_entries,
                                  lds_manifest *out, lds_error *err)
{
    memset(out, 0, sizeof(*out));
    if (max_entries == 0)
        max_entries = DEFAULT_MAX_ENTRIES;
    const char *p = data, *end = data + size;
    if (size >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    enum { MAX_FIELDS = COL_COUNT + 64 };
    csv_field fields[MAX_FIELDS];
    int columns[MAX_FIELDS];
    size_t column_count = 0, n = 0, row = 0;
    lds_buf scratch;
    lds_buf_init(&scratch, 1);
    lds_status st = LDS_OK;
    const char *why = NULL;
    int rc;
    /* Header: the first non-blank record. */
    while ((rc = csv_record(&p, end, &scratch, fields, MAX_FIELDS, &n, &why)) == 1 && record_blank(fields, n))
        row++;
    row++;
    if (rc < 0) {
        st = lds_error_set(err, LDS_EFORMAT, "%s: row %zu: %s", name, row, why);
        goto out;
    }
    if (rc == 0) {
        st = lds_error_set(err, LDS_EFORMAT, "%s: empty manifest (no header row)", name);
        goto out;
    }
    int have_file = 0;
    for (size_t i = 0; i < n; i++) {
        columns[i] = column_of(fields[i].text, fields[i].size);
        if (columns[i] == COL_FILE)
            have_file = 1;
        for (size_t j = 0; j < i && columns[i] != COL_UNKNOWN; j++)
            if (columns[j] == columns[i]) {
                st = lds_error_set(err, LDS_EFORMAT, "%s: column %s appears twice", name, column_names[columns[i]]);
                goto out;
            }
        if (columns[i] == COL_UNKNOWN && (st = manifest_warn(out, "%s: unknown column \"%s\" ignored", name,
                                                             fields[i].text)) != LDS_OK)
            goto out;
    }
    column_count = n;
    if (!have_file) {
        st = lds_error_set(err, LDS_EFORMAT, "%s: no \"file\" column in the header", name);
        goto out;
    }
    for (;;) {
        rc = csv_record(&p, end, &scratch, fields, MAX_FIELDS, &n, &why);
        row++;
        if (rc == 0)
            break;
        if (rc < 0) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: row %zu: %s", name, row, why);
            goto out;
        }
        if (record_blank(fields, n))
            continue;
        if (n > column_count) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: row %zu has %zu fields, the header %zu", name, row, n,
                               column_count);
            goto out;
        }
        if (out->entry_count >= max_entries) {
            st = lds_error_set(err, LDS_ELIMIT, "%s: more than %zu entries", name, max_entries);
            goto out;
        }
        lds_manifest_entry *entries = realloc(out->entries, (out->entry_count + 1) * sizeof(lds_manifest_entry));
        if (entries == NULL) {
            st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
            goto out;
        }
        out->entries = entries;
        lds_manifest_entry *e = &entries[out->entry_count++];
        memset(e, 0, sizeof(*e));
        for (size_t i = 0; i < n; i++) {
            st = set_field(e, columns[i], fields[i].text, fields[i].size);
            if (st != LDS_OK) {
                st = lds_error_set(err, st, "%s: row %zu: %s", name, row,
                                   st == LDS_ELIMIT ? "too many tags" : "out of memory");
                goto out;
            }
        }
        if (e->file == NULL) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: row %zu has no file", name, row);
            goto out;
        }
    }
    st = finish_entries(name, out, err);
out:
    lds_buf_cleanup(&scratch);
    if (st != LDS_OK)
        lds_manifest_cleanup(out);
    return st;
}

/* ---- JSON ---- */

static lds_status json_string_field(json_t *obj, const char *key, char **slot, const char *name, size_t index,
                                    lds_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return LDS_OK;
    if (!json_is_string(v))
        return lds_error_set(err, LDS_EFORMAT, "%s: entry %zu: %s must be a string", name, index, key);
    if (json_string_length(v) > FIELD_MAX || strlen(json_string_value(v)) != json_string_length(v))
        return lds_error_set(err, LDS_EFORMAT, "%s: entry %zu: %s is too long or holds a NUL", name, index, key);
    *slot = dup_trimmed(json_string_value(v), json_string_length(v));
    return LDS_OK;
}

lds_status lds_manifest_parse_json(const char *name, const char *data, size_t size, size_t max_entries,
                                   lds_manifest *out, lds_error *err)
{
    memset(out, 0, sizeof(*out));
    if (max_entries == 0)
        max_entries = DEFAULT_MAX_ENTRIES;
    json_error_t jerr;
    json_t *root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return lds_error_set(err, LDS_EFORMAT, "%s: line %d: %s", name, jerr.line, jerr.text);
    lds_status st = LDS_OK;
    if (!json_is_array(root)) {
        st = lds_error_set(err, LDS_EFORMAT, "%s: expected an array of entries", name);
        goto out;
    }
    size_t count = json_array_size(root);
    if (count > max_entries) {
        st = lds_error_set(err, LDS_ELIMIT, "%s: more than %zu entries", name, max_entries);
        goto out;
    }
    if (count) {
        out->entries = calloc(count, sizeof(lds_manifest_entry));
        if (out->entries == NULL) {
            st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
            goto out;
        }
    }
    for (size_t i = 0; i < count; i++) {
        json_t *obj = json_array_get(root, i);
        lds_manifest_entry *e = &out->entries[i];
        out->entry_count = i + 1;
        if (!json_is_object(obj)) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: entry %zu is not an object", name, i + 1);
            goto out;
        }
        const char *key;
        json_t *value;
        json_object_foreach(obj, key, value)
        {
            if (column_of(key, strlen(key)) == COL_UNKNOWN &&
                (st = manifest_warn(out, "%s: unknown key \"%s\" ignored", name, key)) != LDS_OK)
                goto out;
        }
        if ((st = json_string_field(obj, "file", &e->file, name, i + 1, err)) != LDS_OK ||
            (st = json_string_field(obj, "title", &e->title, name, i + 1, err)) != LDS_OK ||
            (st = json_string_field(obj, "license", &e->license, name, i + 1, err)) != LDS_OK ||
            (st = json_string_field(obj, "owner", &e->owner, name, i + 1, err)) != LDS_OK ||
            (st = json_string_field(obj, "accession", &e->accession, name, i + 1, err)) != LDS_OK ||
            (st = json_string_field(obj, "capture_method", &e->capture_method, name, i + 1, err)) != LDS_OK)
            goto out;
        json_t *tags = json_object_get(obj, "tags");
        if (json_is_string(tags)) {
            st = split_tags(e, json_string_value(tags), json_string_length(tags));
        } else if (json_is_array(tags)) {
            size_t k;
            json_t *tag;
            json_array_foreach(tags, k, tag)
            {
                if (!json_is_string(tag)) {
                    st = lds_error_set(err, LDS_EFORMAT, "%s: entry %zu: tags must be strings", name, i + 1);
                    goto out;
                }
                if (strlen(json_string_value(tag)) != json_string_length(tag) || strchr(json_string_value(tag), ';'))
                    st = split_tags(e, json_string_value(tag), strlen(json_string_value(tag)));
                else
                    st = split_tags(e, json_string_value(tag), json_string_length(tag));
                if (st != LDS_OK)
                    break;
            }
        } else if (tags != NULL && !json_is_null(tags)) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: entry %zu: tags must be a string or an array", name, i + 1);
            goto out;
        }
        if (st != LDS_OK) {
            st = lds_error_set(err, st, "%s: entry %zu: %s", name, i + 1,
                               st == LDS_ELIMIT ? "too many tags" : "out of memory");
            goto out;
        }
    }
    st = finish_entries(name, out, err);
out:
    json_decref(root);
    if (st != LDS_OK)
        lds_manifest_cleanup(out);
    return st;
}
