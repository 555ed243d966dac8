/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's private key file (include/twoway/keyfile.h): encoding,
 * a line parser that refuses anything unexpected and says where, atomic
 * saving, and loading into a key ring that then owns the key.
 *
 * The parser works on a bounded copy (TWOWAY_KEY_FILE_MAX_LEN bytes on the
 * stack), one line at a time; every field is checked before use; the copy
 * and the decoded private key are wiped on every path.
 */
#include <twoway/keyfile.h>

#include "common/detail.h"
#include "common/file.h"
#include "common/util.h"
#include "twoway/keyring_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYFILE_MAGIC "twoway-private-key 1"

static const char hex_digits[] = "0123456789abcdef";

/* ---------------------------------------------------------------- encode */

/* Appends to out[cap] at *len (counting past cap, to tell the size). */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (out != NULL && *len < cap)
        memcpy(out + *len, s, n <= cap - *len ? n : cap - *len);
    *len += n;
}

static void put_str(char *out, size_t cap, size_t *len, const char *s)
{
    put(out, cap, len, s, strlen(s));
}

static void put_hex(char *out, size_t cap, size_t *len, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char two[2] = {hex_digits[p[i] >> 4], hex_digits[p[i] & 15]};
        put(out, cap, len, two, 2);
    }
}

int twoway_key_file_encode(const twoway_key_config *cfg, const twoway_hpke_key *key, char *out,
                           size_t *out_len)
{
    twoway_hpke_suite suites[TWOWAY_KEY_CONFIG_MAX_SUITES];
    util_detail_clear();
    if (out_len == NULL || (out == NULL && *out_len > 0))
        return TWOWAY_ERR_ARG;
    int rc = tw_keyring_suites_of(cfg, key, suites);
    if (rc == TWOWAY_ERR_UNSUPPORTED)
        rc = TWOWAY_ERR_ARG; /* a file names built-in algorithms only */
    if (rc != TWOWAY_OK)
        return rc;
    const char *kem = twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, cfg->kem_id);
    if (kem == NULL || twoway_hpke_kem_by_id(cfg->kem_id) != twoway_hpke_key_kem(key))
        return TWOWAY_ERR_ARG;
    for (size_t i = 0; i < cfg->n_suites; i++)
        if (suites[i].aead->id == TWOWAY_HPKE_AEAD_EXPORT_ONLY)
            return TWOWAY_ERR_ARG; /* a request cannot be sealed with it */
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
    size_t sk_len = sizeof sk;
    rc = twoway_hpke_key_export_private(key, sk, &sk_len);
    if (rc != TWOWAY_OK) {
        util_wipe(sk, sizeof sk);
        return rc;
    }

    size_t cap = *out_len, len = 0;
    char line[64];
    put_str(
        out, cap, &len,
        "# twoway private key: keep it secret. Its public key configuration\n"
        "# (application/ohttp-keys) is what clients get: twoway pubkey prints it.\n" KEYFILE_MAGIC
        "\n");
    snprintf(line, sizeof line, "key-id %u\nkem %s\n", (unsigned)cfg->key_id, kem);
    put_str(out, cap, &len, line);
    for (size_t i = 0; i < cfg->n_suites; i++) {
        snprintf(line, sizeof line, "suite %s %s\n",
                 twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KDF, suites[i].kdf->id),
                 twoway_hpke_alg_name(TWOWAY_HPKE_ALG_AEAD, suites[i].aead->id));
        put_str(out, cap, &len, line);
    }
    put_str(out, cap, &len, "public-key ");
    put_hex(out, cap, &len, cfg->public_key, cfg->public_key_len);
    put_str(out, cap, &len, "\nprivate-key ");
    put_hex(out, cap, &len, sk, sk_len);
    put_str(out, cap, &len, "\n");
    util_wipe(sk, sizeof sk);
    if (len > cap) {
        if (out != NULL)
            util_wipe(out, cap); /* a partial private key */
        *out_len = len;
        return TWOWAY_ERR_BUFFER;
    }
    *out_len = len;
    return TWOWAY_OK;
}

/* ----------------------------------------------------------------- decode */

enum { F_KEY_ID, F_KEM, F_PUBLIC, F_PRIVATE, F_COUNT };
static const char *const field_names[F_COUNT] = {"key-id", "kem", "public-key", "private-key"};

typedef struct parsed {
    unsigned seen; /* one bit per field */
    twoway_key_config cfg;
    size_t pk_len, sk_len;
    uint8_t pk[TWOWAY_HPKE_MAX_PUBLIC_KEY_LEN];
    uint8_t sk[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
} parsed;

/* Where messages point: "line N" or "PATH:N". */
typedef struct where {
    const char *path;
    unsigned line;
} where;

__attribute__((format(printf, 3, 4))) static int fail(const where *w, int rc, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* (the copy on the stack: the file's words are only quoted when safe) */
    if (w->path != NULL && w->line > 0)
        util_detail("%s:%u: %s", w->path, w->line, msg);
    else if (w->path != NULL)
        util_detail("%s: %s", w->path, msg);
    else if (w->line > 0)
        util_detail("line %u: %s", w->line, msg);
    else
        util_detail("%s", msg);
    return rc;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s (NUL-terminated) into out[max]; the length, or -1. */
static long hex_decode(const char *s, uint8_t *out, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 != 0 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

/* A word of the file as an error may quote it: only a short word with a
 * character that is not a hex digit, all printable ASCII. Anything else may
 * be a piece of the private key (a value on a broken line) and is not
 * repeated. */
static const char *quotable(const char *w)
{
    size_t n = strlen(w);
    int non_hex = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c < 0x21 || c > 0x7e)
            return "(not shown)";
        non_hex |= !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    }
    return n <= 24 && non_hex ? w : "(not shown)";
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next blank-separated word of *p (NUL-terminated in place), or NULL. */
static char *next_word(char **p)
{
    char *s = *p;
    while (is_blank(*s))
        s++;
    if (*s == '\0')
        return NULL;
    char *w = s;
    while (*s != '\0' && !is_blank(*s))
        s++;
    if (*s != '\0')
        *s++ = '\0';
    *p = s;
    return w;
}

/* One "field value..." line (NUL-terminated, no line break) into *f. */
static int parse_line(parsed *f, char *line, const where *w)
{
    char *p = line, *field = next_word(&p), *a = next_word(&p), *b = next_word(&p);
    char *extra = next_word(&p);
    if (strcmp(field, "suite") == 0) {
        twoway_symmetric_suite s;
        if (a == NULL || b == NULL || extra != NULL)
            return fail(w, TWOWAY_ERR_FORMAT, "expected \"suite KDF AEAD\"");
        if (twoway_hpke_alg_from_name(TWOWAY_HPKE_ALG_KDF, a, &s.kdf_id) != TWOWAY_OK)
            return fail(w, TWOWAY_ERR_UNSUPPORTED, "unknown KDF '%s' (sha256, sha384, sha512)",
                        quotable(a));
        if (twoway_hpke_alg_from_name(TWOWAY_HPKE_ALG_AEAD, b, &s.aead_id) != TWOWAY_OK ||
            s.aead_id == TWOWAY_HPKE_AEAD_EXPORT_ONLY)
            return fail(w, TWOWAY_ERR_UNSUPPORTED,
                        "unknown AEAD '%s' (aes128gcm, aes256gcm, chacha20poly1305)", quotable(b));
        for (size_t i = 0; i < f->cfg.n_suites; i++)
            if (f->cfg.suites[i].kdf_id == s.kdf_id && f->cfg.suites[i].aead_id == s.aead_id)
                return fail(w, TWOWAY_ERR_FORMAT, "the suite %s %s is given twice", quotable(a),
                            quotable(b));
        if (f->cfg.n_suites == TWOWAY_KEY_CONFIG_MAX_SUITES)
            return fail(w, TWOWAY_ERR_FORMAT, "more than %u suites",
                        (unsigned)TWOWAY_KEY_CONFIG_MAX_SUITES);
        f->cfg.suites[f->cfg.n_suites++] = s;
        return TWOWAY_OK;
    }
    unsigned i = 0;
    while (i < F_COUNT && strcmp(field, field_names[i]) != 0)
        i++;
    if (i == F_COUNT)
        return fail(w, TWOWAY_ERR_FORMAT, "unknown field '%s'", quotable(field));
    if (a == NULL || b != NULL)
        return fail(w, TWOWAY_ERR_FORMAT, "%s takes one value", field_names[i]);
    if (f->seen & (1u << i))
        return fail(w, TWOWAY_ERR_FORMAT, "%s is given twice", field_names[i]);
    f->seen |= 1u << i;
    switch (i) {
    case F_KEY_ID: {
        unsigned long v = 0;
        size_t n = strlen(a);
        for (size_t k = 0; k < n && v <= 255; k++)
            v = a[k] >= '0' && a[k] <= '9' ? v * 10 + (unsigned long)(a[k] - '0') : 256;
        if (n == 0 || n > 3 || v > 255)
            return fail(w, TWOWAY_ERR_FORMAT, "key-id must be a number from 0 to 255");
        f->cfg.key_id = (uint8_t)v;
        return TWOWAY_OK;
    }
    case F_KEM:
        if (twoway_hpke_alg_from_name(TWOWAY_HPKE_ALG_KEM, a, &f->cfg.kem_id) != TWOWAY_OK)
            return fail(w, TWOWAY_ERR_UNSUPPORTED,
                        "unknown KEM '%s' (x25519, p256, p384, p521, x448)", quotable(a));
        return TWOWAY_OK;
    case F_PUBLIC: {
        long n = hex_decode(a, f->pk, sizeof f->pk);
        if (n < 0)
            return fail(w, TWOWAY_ERR_FORMAT, "public-key must be hexadecimal bytes");
        f->pk_len = (size_t)n;
        return TWOWAY_OK;
    }
    default: {
        long n = hex_decode(a, f->sk, sizeof f->sk);
        util_wipe(a, strlen(a));
        if (n < 0)
            return fail(w, TWOWAY_ERR_FORMAT, "private-key must be hexadecimal bytes");
        f->sk_len = (size_t)n;
        return TWOWAY_OK;
    }
    }
}

/* The fields, checked together: the key pair and its configuration. */
static int finish(parsed *f, twoway_hpke_key **key, const where *w)
{
    for (unsigned i = 0; i < F_COUNT; i++)
        if (!(f->seen & (1u << i)))
            return fail(w, TWOWAY_ERR_FORMAT, "%s is missing", field_names[i]);
    if (f->cfg.n_suites == 0)
        return fail(w, TWOWAY_ERR_FORMAT, "no suite line");
    const twoway_hpke_kem *kem = twoway_hpke_kem_by_id(f->cfg.kem_id);
    if (f->sk_len != kem->private_key_len)
        return fail(w, TWOWAY_ERR_KEY, "private-key has %zu bytes; a %s key has %u", f->sk_len,
                    twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, kem->id),
                    (unsigned)kem->private_key_len);
    int rc = twoway_hpke_key_import_private(kem, key, f->sk, f->sk_len);
    if (rc == TWOWAY_ERR_NOMEM || rc == TWOWAY_ERR_CRYPTO)
        return rc;
    if (rc != TWOWAY_OK)
        return fail(w, TWOWAY_ERR_KEY, "private-key is not a valid %s private key",
                    twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, kem->id));
    size_t pk_len = 0;
    const uint8_t *pk = twoway_hpke_key_public(*key, &pk_len);
    if (pk == NULL || pk_len != f->pk_len || memcmp(pk, f->pk, pk_len) != 0) {
        twoway_hpke_key_free(*key);
        *key = NULL;
        return fail(w, TWOWAY_ERR_KEY, "public-key is not the public key of private-key");
    }
    f->cfg.public_key_len = pk_len;
    memcpy(f->cfg.public_key, pk, pk_len);
    return TWOWAY_OK;
}

static int decode(twoway_key_config *cfg, twoway_hpke_key **key, const char *text, size_t len,
                  const char *path)
{
    where w = {path, 0};
    if (key == NULL || (text == NULL && len > 0))
        return TWOWAY_ERR_ARG;
    *key = NULL;
    if (len > TWOWAY_KEY_FILE_MAX_LEN)
        return fail(&w, TWOWAY_ERR_TOO_BIG, "larger than %u bytes: not a key file",
                    TWOWAY_KEY_FILE_MAX_LEN);
    if (len == 0 || memchr(text, '\0', len) != NULL)
        return fail(&w, TWOWAY_ERR_FORMAT, "not a twoway private key file (%s)",
                    len == 0 ? "empty" : "binary: a key configuration, a state file?");

    char copy[TWOWAY_KEY_FILE_MAX_LEN + 1];
    parsed f;
    memset(&f, 0, sizeof f);
    memcpy(copy, text, len);
    copy[len] = '\0';
    int rc = TWOWAY_OK, magic = 0;
    char *line = copy;
    while (rc == TWOWAY_OK && line != NULL) {
        w.line++;
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        char *p = line;
        while (is_blank(*p))
            p++;
        if (*p != '\0' && *p != '#') {
            if (!magic) {
                magic = 1;
                if (strcmp(p, KEYFILE_MAGIC) != 0)
                    rc =
                        fail(&w, TWOWAY_ERR_FORMAT,
                             "not a twoway private key file (its first line is not \"" KEYFILE_MAGIC
                             "\")");
            } else {
                rc = parse_line(&f, p, &w);
            }
        }
        line = next;
    }
    w.line = 0;
    if (rc == TWOWAY_OK && !magic)
        rc = fail(&w, TWOWAY_ERR_FORMAT,
                  "not a twoway private key file (no \"" KEYFILE_MAGIC "\" line)");
    if (rc == TWOWAY_OK)
        rc = finish(&f, key, &w);
    if (rc == TWOWAY_OK && cfg != NULL)
        *cfg = f.cfg;
    util_wipe(copy, sizeof copy);
    util_wipe(&f, sizeof f);
    return rc;
}

int twoway_key_file_decode(twoway_key_config *cfg, twoway_hpke_key **key, const char *text,
                           size_t len)
{
    util_detail_clear();
    return decode(cfg, key, text, len, NULL);
}

/* ------------------------------------------------------------------ files */

int twoway_key_file_save(const char *path, const twoway_key_config *cfg, const twoway_hpke_key *key)
{
    char text[TWOWAY_KEY_FILE_MAX_LEN];
    size_t len = sizeof text;
    util_detail_clear();
    if (path == NULL || path[0] == '\0')
        return TWOWAY_ERR_ARG;
    int rc = twoway_key_file_encode(cfg, key, text, &len);
    if (rc == TWOWAY_OK) {
        int urc = util_write_file_atomic(path, text, len, 0600, 0);
        if (urc == UTIL_FILE_NOMEM)
            rc = TWOWAY_ERR_NOMEM;
        else if (urc != 0) {
            util_detail_errno(path);
            rc = TWOWAY_ERR_IO;
        }
    }
    util_wipe(text, sizeof text);
    return rc;
}

/* Reads path (bounded), with details for the failures. */
static int read_key_file(const char *path, char **text, size_t *len)
{
    int urc = util_read_file(path, TWOWAY_KEY_FILE_MAX_LEN, text, len);
    switch (urc) {
    case 0: return TWOWAY_OK;
    case UTIL_FILE_NOMEM: return TWOWAY_ERR_NOMEM;
    case UTIL_FILE_TOO_BIG:
        util_detail("%s: larger than %u bytes: not a twoway private key file", path,
                    TWOWAY_KEY_FILE_MAX_LEN);
        return TWOWAY_ERR_TOO_BIG;
    default: util_detail_errno(path); return TWOWAY_ERR_IO;
    }
}

int twoway_key_file_load(twoway_key_config *cfg, twoway_hpke_key **key, const char *path)
{
    char *text;
    size_t len;
    util_detail_clear();
    if (key == NULL || path == NULL)
        return TWOWAY_ERR_ARG;
    *key = NULL;
    int rc = read_key_file(path, &text, &len);
    if (rc != TWOWAY_OK)
        return rc;
    rc = decode(cfg, key, text, len, path);
    util_wipe(text, len);
    free(text);
    return rc;
}

/* The decoded key into ring, which takes it (freed here on failure). */
static int add_owned(twoway_keyring *ring, const twoway_key_config *cfg, twoway_hpke_key *key,
                     const char *path)
{
    twoway_hpke_suite suites[TWOWAY_KEY_CONFIG_MAX_SUITES];
    int rc = tw_keyring_suites_of(cfg, key, suites);
    if (rc == TWOWAY_OK)
        rc = tw_keyring_add_entries(ring, cfg->key_id, suites, cfg->n_suites, key, 1);
    if (rc == TWOWAY_ERR_ARG)
        util_detail("%s: key id %u with one of its suites is in the key ring already",
                    path != NULL ? path : "key file", (unsigned)cfg->key_id);
    if (rc != TWOWAY_OK)
        twoway_hpke_key_free(key);
    return rc;
}

int twoway_keyring_load_key_file(twoway_keyring *ring, const char *path)
{
    twoway_key_config cfg;
    twoway_hpke_key *key;
    if (ring == NULL) {
        util_detail_clear();
        return TWOWAY_ERR_ARG;
    }
    int rc = twoway_key_file_load(&cfg, &key, path);
    return rc != TWOWAY_OK ? rc : add_owned(ring, &cfg, key, path);
}

int twoway_keyring_add_key_file(twoway_keyring *ring, const char *text, size_t len)
{
    twoway_key_config cfg;
    twoway_hpke_key *key;
    util_detail_clear();
    if (ring == NULL)
        return TWOWAY_ERR_ARG;
    int rc = decode(&cfg, &key, text, len, NULL);
    return rc != TWOWAY_OK ? rc : add_owned(ring, &cfg, key, NULL);
}
