/* note.c: C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures, and C2SP
 * tlog-checkpoint (https://c2sp.org/tlog-checkpoint) bodies.
 *
 *   <text ending in newline>            checkpoint text: origin, decimal size, base64 root,
 *   <blank line>                                         optional extension lines
 *   — <key name> base64(key id || sig)  one line per signature; em dash U+2014, space
 *
 * key id = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian. A verifier key
 * is "<name>+<8 hex key id>+<base64(0x01 || public key)>". Signatures by unknown keys (name or id
 * differ) are ignored; a known key's signature that fails rejects the note. */
#include <stdlib.h>
#include <string.h>

#include "proto_internal.h"

static const char em_dash[] = "\xe2\x80\x94";

uint32_t lds_note_key_id(const char *name, const unsigned char public_key[LDS_ED25519_PUBLIC_BYTES])
{
    static const unsigned char sep[2] = {0x0A, LDS_NOTE_SIG_TYPE_ED25519};
    unsigned char digest[LDS_SHA256_BYTES];
    lds_sha256 ctx;
    lds_sha256_init(&ctx);
    lds_sha256_update(&ctx, name, strlen(name));
    lds_sha256_update(&ctx, sep, sizeof(sep));
    lds_sha256_update(&ctx, public_key, LDS_ED25519_PUBLIC_BYTES);
    lds_sha256_final(&ctx, digest);
    return (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 | (uint32_t)digest[2] << 8 | digest[3];
}

/* Valid UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). Returns the
 * length of the character at s, or 0 when invalid. */
static size_t utf8_char(const unsigned char *s, size_t left, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* 0 when text is valid UTF-8 without control characters other than newline (when allowed). */
static int text_check(const char *text, size_t size, int allow_newline)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < size;) {
        uint32_t cp;
        size_t n = utf8_char(s + i, size - i, &cp);
        if (n == 0)
            return -1;
        if (cp < 0x20 && !(allow_newline && cp == '\n'))
            return -1;
        if (cp == 0x7F)
            return -1;
        i += n;
    }
    return 0;
}

int lds_note_name_check(const char *name)
{
    size_t size = strlen(name);
    if (size == 0 || size >= LDS_NOTE_NAME_MAX || text_check(name, size, 0) != 0)
        return -1;
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < size;) {
        uint32_t cp;
        size_t n = utf8_char(s + i, size - i, &cp);
        /* '+' and Unicode spaces (the ones a name could plausibly carry) are not allowed. */
        if (cp == '+' || cp == ' ' || cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
            cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
            return -1;
        i += n;
    }
    return 0;
}

lds_status lds_note_verifier_parse(const char *text, size_t size, lds_note_verifier *out, lds_error *err)
{
    memset(out, 0, sizeof(*out));
    while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == ' ' || text[size - 1] == '\r' ||
                        text[size - 1] == '\t'))
        size--;
    while (size > 0 && (text[0] == ' ' || text[0] == '\t' || text[0] == '\n')) {
        text++;
        size--;
    }
    const char *plus1 = memchr(text, '+', size);
    const char *plus2 = plus1 ? memchr(plus1 + 1, '+', size - (size_t)(plus1 + 1 - text)) : NULL;
    if (plus1 == NULL || plus2 == NULL)
        return lds_error_set(err, LDS_EFORMAT, "verifier key: not of the form <name>+<key id>+<key>");
    size_t name_size = (size_t)(plus1 - text);
    if (name_size == 0 || name_size >= sizeof(out->name))
        return lds_error_set(err, LDS_EFORMAT, "verifier key: name is empty or longer than %d bytes",
                             LDS_NOTE_NAME_MAX - 1);
    memcpy(out->name, text, name_size);
    out->name[name_size] = 0;
    if (lds_note_name_check(out->name) != 0)
        return lds_error_set(err, LDS_EFORMAT, "verifier key: invalid key name");
    if (plus2 - plus1 - 1 != 8)
        return lds_error_set(err, LDS_EFORMAT, "verifier key: key id is not 8 hex digits");
    char hex[9];
    memcpy(hex, plus1 + 1, 8);
    hex[8] = 0;
    unsigned char id[4];
    for (int i = 0; i < 8; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return lds_error_set(err, LDS_EFORMAT, "verifier key: key id is not 8 lower-case hex digits");
    if (lds_hex_decode(hex, id, 4) != LDS_OK)
        return lds_error_set(err, LDS_EFORMAT, "verifier key: key id is not hex");
    unsigned char key[1 + LDS_ED25519_PUBLIC_BYTES + 1];
    size_t key_size = 0;
    const char *b64 = plus2 + 1;
    if (lds_base64_decode(b64, size - (size_t)(b64 - text), key, sizeof(key), &key_size) != 0 ||
        key_size != 1 + LDS_ED25519_PUBLIC_BYTES)
        return lds_error_set(err, LDS_EFORMAT, "verifier key: key is not base64 of 33 bytes");
    if (key[0] != LDS_NOTE_SIG_TYPE_ED25519)
        return lds_error_set(err, LDS_EFORMAT, "verifier key: signature type 0x%02x is not Ed25519 (0x01)", key[0]);
    memcpy(out->public_key, key + 1, LDS_ED25519_PUBLIC_BYTES);
    out->key_id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    if (lds_note_key_id(out->name, out->public_key) != out->key_id)
        return lds_error_set(err, LDS_EFORMAT, "verifier key: key id %s does not match the name and key", hex);
    return LDS_OK;
}

lds_status lds_note_sign(const char *text, size_t size, const char *name, uint32_t key_id,
                         const unsigned char secret_key[LDS_ED25519_SECRET_BYTES], char **note, lds_error *err)
{
    *note = NULL;
    if (size == 0 || text[size - 1] != '\n' || text_check(text, size, 1) != 0)
        return lds_error_set(err, LDS_EINVAL, "signed note: text must be UTF-8 ending in a newline");
    unsigned char sig[4 + LDS_ED25519_SIG_BYTES];
    sig[0] = (unsigned char)(key_id >> 24);
    sig[1] = (unsigned char)(key_id >> 16);
    sig[2] = (unsigned char)(key_id >> 8);
    sig[3] = (unsigned char)key_id;
    lds_ed25519_sign(text, size, secret_key, sig + 4);
    char *b64 = lds_base64_encode(sig, sizeof(sig));
    lds_buf buf;
    lds_buf_init(&buf, LDS_NOTE_MAX);
    lds_status status = b64 ? LDS_OK : LDS_ENOMEM;
    if (status == LDS_OK)
        status = lds_buf_append(&buf, text, size);
    if (status == LDS_OK)
        status = lds_buf_printf(&buf, "\n%s %s %s\n", em_dash, name, b64);
    free(b64);
    if (status != LDS_OK) {
        lds_buf_cleanup(&buf);
        return lds_error_set(err, status, "signed note: %s", lds_status_message(status));
    }
    *note = (char *)lds_buf_detach(&buf, NULL);
    return LDS_OK;
}

lds_status lds_note_verify(const char *note, size_t size, const lds_note_verifier *verifier, size_t *text_size,
                           lds_error *err)
{
    if (size > LDS_NOTE_MAX)
        return lds_error_set(err, LDS_EFORMAT, "signed note: %zu bytes, over the %d-byte cap", size, LDS_NOTE_MAX);
    if (text_check(note, size, 1) != 0)
        return lds_error_set(err, LDS_EFORMAT, "signed note: not UTF-8 or holds control characters");
    if (size == 0 || note[size - 1] != '\n')
        return lds_error_set(err, LDS_EFORMAT, "signed note: does not end in a newline");
    /* The text ends at the last blank line; everything after it is signature lines. */
    size_t sep = 0;
    int found = 0;
    for (size_t i = size - 1; i > 0; i--)
        if (note[i] == '\n' && note[i - 1] == '\n') {
            sep = i;
            found = 1;
            break;
        }
    if (!found || sep < 1)
        return lds_error_set(err, LDS_EFORMAT, "signed note: no blank line before the signatures");
    size_t text_end = sep; /* the text includes the newline at sep - 1 */
    if (sep + 1 >= size)
        return lds_error_set(err, LDS_EFORMAT, "signed note: no signature lines");
    int known = 0;
    for (size_t at = sep + 1; at < size;) {
        const char *line = note + at;
        const char *eol = memchr(line, '\n', size - at);
        size_t line_size = (size_t)(eol - line);
        at += line_size + 1;
        size_t dash = sizeof(em_dash) - 1;
        if (line_size < dash + 1 || memcmp(line, em_dash, dash) != 0 || line[dash] != ' ')
            return lds_error_set(err, LDS_EFORMAT, "signed note: a signature line does not start with \"— \"");
        const char *name = line + dash + 1;
        const char *space = memchr(name, ' ', line_size - dash - 1);
        if (space == NULL || space == name)
            return lds_error_set(err, LDS_EFORMAT, "signed note: a signature line has no key name and signature");
        size_t name_size = (size_t)(space - name);
        const char *b64 = space + 1;
        size_t b64_size = line_size - (size_t)(b64 - line);
        unsigned char sig[4 + 8192];
        size_t sig_size = 0;
        if (lds_base64_decode(b64, b64_size, sig, sizeof(sig), &sig_size) != 0 || sig_size < 5)
            return lds_error_set(err, LDS_EFORMAT, "signed note: signature of %.*s is not valid base64",
                                 (int)(name_size < 200 ? name_size : 200), name);
        uint32_t id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];
        if (name_size != strlen(verifier->name) || memcmp(name, verifier->name, name_size) != 0 ||
            id != verifier->key_id)
            continue; /* another key's signature: ignored, as the spec requires */
        if (sig_size != 4 + LDS_ED25519_SIG_BYTES ||
            !lds_ed25519_verify(note, text_end, sig + 4, verifier->public_key))
            return lds_error_set(err, LDS_EVERIFY, "signed note: the signature by %s+%08x does not verify",
                                 verifier->name, (unsigned)verifier->key_id);
        known++;
    }
    if (known == 0)
        return lds_error_set(err, LDS_EVERIFY, "signed note: no signature by the key %s+%08x", verifier->name,
                             (unsigned)verifier->key_id);
    if (text_size)
        *text_size = text_end;
    return LDS_OK;
}

lds_status lds_checkpoint_sign(const char *origin, uint64_t size, const unsigned char root[LDS_MERKLE_HASH_BYTES],
                               uint32_t key_id, const unsigned char secret_key[LDS_ED25519_SECRET_BYTES],
                               char **note, lds_error *err)
{
    char *root_b64 = lds_base64_encode(root, LDS_MERKLE_HASH_BYTES);
    lds_buf text;
    lds_buf_init(&text, LDS_NOTE_MAX);
    lds_status status = root_b64 ? lds_buf_printf(&text, "%s\n%llu\n%s\n", origin, (unsigned long long)size, root_b64)
                                 : LDS_ENOMEM;
    free(root_b64);
    if (status != LDS_OK) {
        lds_buf_cleanup(&text);
        *note = NULL;
        return lds_error_set(err, status, "checkpoint: %s", lds_status_message(status));
    }
    status = lds_note_sign((const char *)text.data, text.size, origin, key_id, secret_key, note, err);
    lds_buf_cleanup(&text);
    return status;
}

lds_status lds_checkpoint_verify(const char *note, size_t size, const lds_note_verifier *verifier,
                                 lds_checkpoint *out, lds_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t text_size = 0;
    lds_status status = lds_note_verify(note, size, verifier, &text_size, err);
    if (status != LDS_OK)
        return status;
    /* Line 1: origin. */
    const char *line = note, *end = note + text_size;
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == line || (size_t)(eol - line) >= sizeof(out->origin))
        return lds_error_set(err, LDS_EFORMAT, "checkpoint: origin line is empty or too long");
    memcpy(out->origin, line, (size_t)(eol - line));
    /* Line 2: tree size in decimal, no sign, no leading zero. */
    line = eol + 1;
    eol = line < end ? memchr(line, '\n', (size_t)(end - line)) : NULL;
    if (eol == NULL || eol == line || eol - line > 20 || (line[0] == '0' && eol - line > 1))
        return lds_error_set(err, LDS_EFORMAT, "checkpoint: tree size line is not a decimal number");
    uint64_t tree_size = 0;
    for (const char *p = line; p < eol; p++) {
        if (*p < '0' || *p > '9')
            return lds_error_set(err, LDS_EFORMAT, "checkpoint: tree size line is not a decimal number");
        uint64_t digit = (uint64_t)(*p - '0');
        if (tree_size > (UINT64_MAX - digit) / 10)
            return lds_error_set(err, LDS_EFORMAT, "checkpoint: tree size does not fit in 64 bits");
        tree_size = tree_size * 10 + digit;
    }
    out->size = tree_size;
    /* Line 3: base64 root hash. */
    line = eol + 1;
    eol = line < end ? memchr(line, '\n', (size_t)(end - line)) : NULL;
    size_t root_size = 0;
    unsigned char root[LDS_MERKLE_HASH_BYTES];
    if (eol == NULL || lds_base64_decode(line, (size_t)(eol - line), root, sizeof(root), &root_size) != 0 ||
        root_size != LDS_MERKLE_HASH_BYTES)
        return lds_error_set(err, LDS_EFORMAT, "checkpoint: root hash line is not base64 of 32 bytes");
    memcpy(out->root, root, sizeof(root));
    /* Extension lines may follow; they must not be empty (the text has no blank line). */
    for (line = eol + 1; line < end; line = eol + 1) {
        eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == line)
            return lds_error_set(err, LDS_EFORMAT, "checkpoint: empty extension line");
    }
    return LDS_OK;
}
