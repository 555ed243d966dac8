/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ed25519 identities in OpenSSH's formats (include/secureio/identity.h):
 * the openssh-key-v1 private key file (OpenSSH's PROTOCOL.key), unencrypted
 * only; the "ssh-ed25519 AAAA… comment" public key line; the SHA256
 * fingerprint; signatures; atomic file writing. docs/IDENTITY.md says what
 * is accepted and refused, and why.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fsync, O_CLOEXEC, O_NOFOLLOW under -std=c11 */
#endif

#include "secureio/sshkey.h"
#include "common/detail.h"
#include "keypath.h"

#include "common/file.h"

#include <secureio/identity.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ constants */

#define KEY_TYPE "ssh-ed25519"
#define KEY_TYPE_LEN 11u
#define PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define PEM_END "-----END OPENSSH PRIVATE KEY-----"
#define PEM_BEGIN_LEN (sizeof PEM_BEGIN - 1)
#define PEM_END_LEN (sizeof PEM_END - 1)
#define PEM_COLUMNS 70u
/* "openssh-key-v1" and its NUL */
static const uint8_t auth_magic[15] = "openssh-key-v1";
#define AUTH_MAGIC_LEN sizeof auth_magic
/* The cipher "none" pads the private section to 8 bytes. */
#define BLOCK_NONE 8u
/* libsodium's Ed25519 secret key: seed || public key */
#define SK_LEN 64u

/* string "ssh-ed25519" || string pk */
#define PUBLIC_BLOB_LEN (4 + KEY_TYPE_LEN + 4 + SECUREIO_PUBLIC_KEY_LEN)
/* its base64: 51 bytes, 68 characters, no padding */
#define PUBLIC_B64_LEN (((PUBLIC_BLOB_LEN + 2) / 3) * 4)

struct secureio_identity {
    uint8_t *sk; /* sodium_malloc'd, read-only: seed || public key */
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    uint32_t check; /* check integer of the file it came from (0 otherwise) */
    char comment[SECUREIO_MAX_COMMENT_LEN + 1];
};

/* ------------------------------------------------------------ libsodium */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_state = -1;

static void sodium_init_once(void)
{
    sodium_state = sodium_init() < 0 ? -1 : 0;
}

int sio_sodium_ready(void)
{
    if (pthread_once(&sodium_once, sodium_init_once) != 0)
        return SECUREIO_ERR_CRYPTO;
    return sodium_state == 0 ? SECUREIO_OK : SECUREIO_ERR_CRYPTO;
}

/* ------------------------------------------------------------- identity */

static int identity_new(secureio_identity **out, const uint8_t seed[SECUREIO_SEED_LEN],
                        const char *comment, size_t comment_len, uint32_t check)
{
    int rc = sio_sodium_ready();
    if (rc != SECUREIO_OK)
        return rc;
    if (comment_len > SECUREIO_MAX_COMMENT_LEN)
        return SECUREIO_ERR_ARG;
    secureio_identity *id = calloc(1, sizeof *id);
    if (id == NULL)
        return SECUREIO_ERR_NOMEM;
    id->sk = sodium_malloc(SK_LEN);
    if (id->sk == NULL) {
        free(id);
        return SECUREIO_ERR_NOMEM;
    }
    if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0) {
        sodium_free(id->sk);
        free(id);
        return SECUREIO_ERR_CRYPTO;
    }
    (void)sodium_mprotect_readonly(id->sk);
    if (comment_len > 0)
        memcpy(id->comment, comment, comment_len);
    id->comment[comment_len] = '\0';
    id->check = check;
    *out = id;
    return SECUREIO_OK;
}

int secureio_identity_generate(secureio_identity **out)
{
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    int rc = sio_sodium_ready();
    if (rc != SECUREIO_OK)
        return rc;
    uint8_t seed[SECUREIO_SEED_LEN];
    randombytes_buf(seed, sizeof seed);
    rc = identity_new(out, seed, "", 0, 0);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int secureio_identity_from_seed(secureio_identity **out, const uint8_t seed[SECUREIO_SEED_LEN])
{
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    if (seed == NULL)
        return SECUREIO_ERR_ARG;
    return identity_new(out, seed, "", 0, 0);
}

void secureio_identity_free(secureio_identity *id)
{
    if (id == NULL)
        return;
    sodium_free(id->sk); /* wipes it */
    sodium_memzero(id, sizeof *id);
    free(id);
}

void secureio_identity_public_key(const secureio_identity *id, uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    if (id == NULL || pk == NULL)
        return;
    memcpy(pk, id->pk, SECUREIO_PUBLIC_KEY_LEN);
}

const char *secureio_identity_comment(const secureio_identity *id)
{
    return id == NULL ? "" : id->comment;
}

int secureio_identity_sign(const secureio_identity *id, uint8_t sig[SECUREIO_SIGNATURE_LEN],
                           const uint8_t *msg, size_t msg_len)
{
    if (id == NULL || sig == NULL || (msg == NULL && msg_len > 0))
        return SECUREIO_ERR_ARG;
    static const uint8_t empty[1] = {0};
    if (crypto_sign_detached(sig, NULL, msg != NULL ? msg : empty, msg_len, id->sk) != 0)
        return SECUREIO_ERR_CRYPTO;
    return SECUREIO_OK;
}

int secureio_signature_verify(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN],
                              const uint8_t sig[SECUREIO_SIGNATURE_LEN], const uint8_t *msg,
                              size_t msg_len)
{
    if (pk == NULL || sig == NULL || (msg == NULL && msg_len > 0))
        return SECUREIO_ERR_ARG;
    int rc = sio_sodium_ready();
    if (rc != SECUREIO_OK)
        return rc;
    static const uint8_t empty[1] = {0};
    if (crypto_sign_verify_detached(sig, msg != NULL ? msg : empty, msg_len, pk) != 0)
        return SECUREIO_ERR_AUTH;
    return SECUREIO_OK;
}

/* --------------------------------------------------------- wire helpers */

static void put_u32(uint8_t **p, uint32_t v)
{
    (*p)[0] = (uint8_t)(v >> 24);
    (*p)[1] = (uint8_t)(v >> 16);
    (*p)[2] = (uint8_t)(v >> 8);
    (*p)[3] = (uint8_t)v;
    *p += 4;
}

static void put_bytes(uint8_t **p, const void *data, size_t len)
{
    if (len > 0)
        memcpy(*p, data, len);
    *p += len;
}

/* string: uint32 length || bytes */
static void put_string(uint8_t **p, const void *data, size_t len)
{
    put_u32(p, (uint32_t)len);
    put_bytes(p, data, len);
}

/* A reader over bytes: every read checks the length left first. */
typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static int get_u32(reader *r, uint32_t *v)
{
    if (r->n < 4)
        return SECUREIO_ERR_FORMAT;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->n -= 4;
    return SECUREIO_OK;
}

static int get_string(reader *r, reader *s)
{
    uint32_t len;
    if (get_u32(r, &len) != SECUREIO_OK || len > r->n)
        return SECUREIO_ERR_FORMAT;
    s->p = r->p;
    s->n = len;
    r->p += len;
    r->n -= len;
    return SECUREIO_OK;
}

static int equals(const reader *s, const char *str)
{
    size_t len = strlen(str);
    return s->n == len && (len == 0 || memcmp(s->p, str, len) == 0);
}

/* string "ssh-ed25519" || string pk(32), nothing more: SECUREIO_OK,
 * SECUREIO_ERR_UNSUPPORTED for a well-formed string of another type first,
 * else SECUREIO_ERR_FORMAT. */
static int parse_public_blob(const uint8_t *blob, size_t len, uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    reader r = {blob, len}, type, key;
    if (get_string(&r, &type) != SECUREIO_OK)
        return SECUREIO_ERR_FORMAT;
    if (!equals(&type, KEY_TYPE))
        return SECUREIO_ERR_UNSUPPORTED;
    if (get_string(&r, &key) != SECUREIO_OK || key.n != SECUREIO_PUBLIC_KEY_LEN || r.n != 0)
        return SECUREIO_ERR_FORMAT;
    memcpy(pk, key.p, SECUREIO_PUBLIC_KEY_LEN);
    return SECUREIO_OK;
}

static void make_public_blob(uint8_t blob[PUBLIC_BLOB_LEN],
                             const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    uint8_t *p = blob;
    put_string(&p, KEY_TYPE, KEY_TYPE_LEN);
    put_string(&p, pk, SECUREIO_PUBLIC_KEY_LEN);
}

/* Strict base64 (standard alphabet, '=' padding required, no other
 * character, zero unused bits): libsodium's constant-time decoder, which
 * refuses all of those among ASCII characters. 0 (and *bin_len) or -1. */
static int b64_decode(uint8_t *bin, size_t bin_max, const char *b64, size_t b64_len,
                      size_t *bin_len)
{
    if (b64_len == 0 || b64_len % 4 != 0)
        return -1;
    /* libsodium 1.0.18 reads the characters as (signed) char: a byte of
     * 0x80 or more can decode as a base64 digit (0xE3 as '/'). Refuse them
     * first, without a branch on the (secret) text. */
    unsigned high = 0;
    for (size_t i = 0; i < b64_len; i++)
        high |= (unsigned)(unsigned char)b64[i] >> 7;
    if (high != 0)
        return -1;
    return sodium_base642bin(bin, bin_max, b64, b64_len, NULL, bin_len, NULL,
                             sodium_base64_VARIANT_ORIGINAL);
}

/* -------------------------------------------------- private key: encode */

static size_t b64_len_of(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Bytes of the openssh-key-v1 blob for a comment of comment_len bytes, and
 * the padding of its private section. */
static size_t private_blob_len(size_t comment_len, size_t *priv_len, size_t *pad)
{
    size_t priv = 4 + 4 + (4 + KEY_TYPE_LEN) + (4 + SECUREIO_PUBLIC_KEY_LEN) + (4 + SK_LEN) +
                  (4 + comment_len);
    size_t padding = (BLOCK_NONE - priv % BLOCK_NONE) % BLOCK_NONE;
    priv += padding;
    *priv_len = priv;
    *pad = padding;
    return AUTH_MAGIC_LEN + (4 + 4) + (4 + 4) + 4 + 4 + (4 + PUBLIC_BLOB_LEN) + (4 + priv);
}

static size_t text_len_of(size_t blob_len)
{
    size_t b64 = b64_len_of(blob_len);
    size_t lines = (b64 + PEM_COLUMNS - 1) / PEM_COLUMNS;
    return PEM_BEGIN_LEN + 1 + b64 + lines + PEM_END_LEN + 1;
}

static int encode_private(const secureio_identity *id, const char *comment, uint32_t check,
                          char *out, size_t *out_len)
{
    if (id == NULL || out_len == NULL || (out == NULL && *out_len > 0))
        return SECUREIO_ERR_ARG;
    if (comment == NULL)
        comment = id->comment;
    size_t comment_len = strlen(comment);
    if (comment_len > SECUREIO_MAX_COMMENT_LEN)
        return SECUREIO_ERR_ARG;

    size_t priv_len, pad;
    size_t blob_len = private_blob_len(comment_len, &priv_len, &pad);
    size_t b64_len = b64_len_of(blob_len);
    size_t need = text_len_of(blob_len);
    if (*out_len < need) {
        *out_len = need;
        return SECUREIO_ERR_BUFFER;
    }

    /* blob, then its base64 (with libsodium's NUL), both secret: wiped */
    size_t b64_room = b64_len + 1;
    uint8_t *blob = malloc(blob_len + b64_room);
    if (blob == NULL)
        return SECUREIO_ERR_NOMEM;
    char *b64 = (char *)blob + blob_len;
    uint8_t pub[PUBLIC_BLOB_LEN];
    make_public_blob(pub, id->pk);

    uint8_t *p = blob;
    put_bytes(&p, auth_magic, AUTH_MAGIC_LEN);
    put_string(&p, "none", 4);
    put_string(&p, "none", 4);
    put_string(&p, "", 0);
    put_u32(&p, 1);
    put_string(&p, pub, sizeof pub);
    put_u32(&p, (uint32_t)priv_len);
    put_u32(&p, check);
    put_u32(&p, check);
    put_string(&p, KEY_TYPE, KEY_TYPE_LEN);
    put_string(&p, id->pk, SECUREIO_PUBLIC_KEY_LEN);
    put_string(&p, id->sk, SK_LEN);
    put_string(&p, comment, comment_len);
    for (size_t i = 0; i < pad; i++)
        *p++ = (uint8_t)(i + 1);

    sodium_bin2base64(b64, b64_room, blob, blob_len, sodium_base64_VARIANT_ORIGINAL);

    char *o = out;
    memcpy(o, PEM_BEGIN "\n", PEM_BEGIN_LEN + 1);
    o += PEM_BEGIN_LEN + 1;
    for (size_t off = 0; off < b64_len; off += PEM_COLUMNS) {
        size_t n = b64_len - off < PEM_COLUMNS ? b64_len - off : PEM_COLUMNS;
        memcpy(o, b64 + off, n);
        o += n;
        *o++ = '\n';
    }
    memcpy(o, PEM_END "\n", PEM_END_LEN + 1);
    o += PEM_END_LEN + 1;
    sodium_memzero(blob, blob_len + b64_room);
    free(blob);
    *out_len = (size_t)(o - out);
    return SECUREIO_OK;
}

int secureio_identity_encode(const secureio_identity *id, const char *comment, char *out,
                             size_t *out_len)
{
    uint32_t check = 0;
    if (id != NULL) /* an identity exists: libsodium is initialized */
        randombytes_buf(&check, sizeof check);
    return encode_private(id, comment, check, out, out_len);
}

int sio_sshkey_testing_encode(const secureio_identity *id, const char *comment, uint32_t check,
                              char *out, size_t *out_len)
{
    return encode_private(id, comment, check, out, out_len);
}

uint32_t sio_sshkey_testing_check(const secureio_identity *id)
{
    return id == NULL ? 0 : id->check;
}

/* -------------------------------------------------- private key: decode */

/* The openssh-key-v1 blob (all lengths checked against what is left). */
static int parse_private_blob(secureio_identity **out, const uint8_t *blob, size_t len)
{
    reader r = {blob, len}, cipher, kdf, kdfopts, pubblob, priv;
    uint32_t nkeys;
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];

    if (r.n < AUTH_MAGIC_LEN || memcmp(r.p, auth_magic, AUTH_MAGIC_LEN) != 0)
        return SECUREIO_ERR_FORMAT;
    r.p += AUTH_MAGIC_LEN;
    r.n -= AUTH_MAGIC_LEN;
    if (get_string(&r, &cipher) != SECUREIO_OK || get_string(&r, &kdf) != SECUREIO_OK ||
        get_string(&r, &kdfopts) != SECUREIO_OK || get_u32(&r, &nkeys) != SECUREIO_OK)
        return SECUREIO_ERR_FORMAT;
    if (nkeys != 1 || get_string(&r, &pubblob) != SECUREIO_OK)
        return SECUREIO_ERR_FORMAT;
    /* The key type is readable even when the rest is encrypted: an RSA key
     * is unsupported whether or not it has a passphrase. */
    int rc = parse_public_blob(pubblob.p, pubblob.n, pk);
    if (rc != SECUREIO_OK)
        return rc;
    if (!equals(&cipher, "none") || !equals(&kdf, "none"))
        return SECUREIO_ERR_ENCRYPTED_KEY;
    if (kdfopts.n != 0 || get_string(&r, &priv) != SECUREIO_OK || r.n != 0)
        return SECUREIO_ERR_FORMAT;
    if (priv.n % BLOCK_NONE != 0)
        return SECUREIO_ERR_FORMAT;

    uint32_t check1, check2;
    reader type, pk2, sk, comment;
    if (get_u32(&priv, &check1) != SECUREIO_OK || get_u32(&priv, &check2) != SECUREIO_OK ||
        check1 != check2)
        return SECUREIO_ERR_FORMAT;
    if (get_string(&priv, &type) != SECUREIO_OK || !equals(&type, KEY_TYPE) ||
        get_string(&priv, &pk2) != SECUREIO_OK || pk2.n != SECUREIO_PUBLIC_KEY_LEN ||
        get_string(&priv, &sk) != SECUREIO_OK || sk.n != SK_LEN ||
        get_string(&priv, &comment) != SECUREIO_OK)
        return SECUREIO_ERR_FORMAT;
    if (comment.n > SECUREIO_MAX_COMMENT_LEN ||
        (comment.n > 0 && memchr(comment.p, '\0', comment.n) != NULL))
        return SECUREIO_ERR_FORMAT;
    /* padding 1, 2, 3, … shorter than a block */
    if (priv.n >= BLOCK_NONE)
        return SECUREIO_ERR_FORMAT;
    for (size_t i = 0; i < priv.n; i++)
        if (priv.p[i] != (uint8_t)(i + 1))
            return SECUREIO_ERR_FORMAT;

    secureio_identity *id;
    rc = identity_new(&id, sk.p, (const char *)comment.p, comment.n, check1);
    if (rc != SECUREIO_OK)
        return rc;
    /* The public key derived from the seed must be the one written three
     * times: the public blob, the private section, the secret key's half. */
    if (sodium_memcmp(id->pk, pk, SECUREIO_PUBLIC_KEY_LEN) != 0 ||
        sodium_memcmp(id->pk, pk2.p, SECUREIO_PUBLIC_KEY_LEN) != 0 ||
        sodium_memcmp(id->pk, sk.p + SECUREIO_SEED_LEN, SECUREIO_PUBLIC_KEY_LEN) != 0) {
        secureio_identity_free(id);
        return SECUREIO_ERR_FORMAT;
    }
    *out = id;
    return SECUREIO_OK;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next line from text[*pos..len) without its '\n' and trailing blanks
 * and '\r'. */
static void next_line(const char *text, size_t len, size_t *pos, const char **line,
                      size_t *line_len)
{
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl != NULL ? (size_t)(nl - start) : len - *pos;
    *pos += nl != NULL ? n + 1 : n;
    while (n > 0 && (is_blank(start[n - 1]) || start[n - 1] == '\r'))
        n--;
    *line = start;
    *line_len = n;
}

int secureio_identity_decode(secureio_identity **out, const char *text, size_t len)
{
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    if (text == NULL && len > 0)
        return SECUREIO_ERR_ARG;
    if (len > SECUREIO_MAX_KEY_FILE_LEN)
        return SECUREIO_ERR_LIMIT;
    int rc = sio_sodium_ready();
    if (rc != SECUREIO_OK)
        return rc;

    size_t pos = 0;
    while (pos < len && is_space(text[pos]))
        pos++;
    if (pos == len)
        return SECUREIO_ERR_FORMAT;
    const char *line;
    size_t line_len;
    next_line(text, len, &pos, &line, &line_len);
    if (line_len != PEM_BEGIN_LEN || memcmp(line, PEM_BEGIN, PEM_BEGIN_LEN) != 0) {
        /* another PEM armor: an RSA, EC, DSA or PKCS#8 key */
        static const char other[] = "-----BEGIN ", ours[] = "-----BEGIN OPENSSH";
        if (line_len > sizeof ours - 1 && memcmp(line, ours, sizeof ours - 1) == 0)
            return SECUREIO_ERR_FORMAT; /* a damaged armor of ours */
        if (line_len > sizeof other - 1 && memcmp(line, other, sizeof other - 1) == 0)
            return SECUREIO_ERR_UNSUPPORTED;
        return SECUREIO_ERR_FORMAT;
    }

    /* The base64 lines up to the END line, joined; then the blob. Both hold
     * the secret key: wiped before they are freed. (Short-lived buffers
     * like these get plain memory: only the identity's own copy of the key
     * lives in libsodium's guarded, locked memory.) */
    size_t room = len - pos;
    if (room == 0)
        return SECUREIO_ERR_FORMAT;
    size_t bin_room = room / 4 * 3 + 3;
    char *b64 = malloc(room + bin_room);
    if (b64 == NULL)
        return SECUREIO_ERR_NOMEM;
    uint8_t *bin = (uint8_t *)b64 + room;
    size_t b64_len = 0;
    int ended = 0;
    while (pos < len) {
        next_line(text, len, &pos, &line, &line_len);
        if (line_len == PEM_END_LEN && memcmp(line, PEM_END, PEM_END_LEN) == 0) {
            ended = 1;
            break;
        }
        memcpy(b64 + b64_len, line, line_len);
        b64_len += line_len;
    }
    rc = SECUREIO_ERR_FORMAT;
    if (ended) {
        while (pos < len && is_space(text[pos]))
            pos++;
        size_t bin_len = 0;
        if (pos == len && b64_decode(bin, bin_room, b64, b64_len, &bin_len) == 0)
            rc = parse_private_blob(out, bin, bin_len);
    }
    sodium_memzero(b64, room + bin_room);
    free(b64);
    return rc;
}

/* --------------------------------------------------------- public lines */

/* Characters of a key type name (ssh-rsa, ecdsa-sha2-nistp256,
 * sk-ssh-ed25519@openssh.com, …). */
static int is_type_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '@' || c == '+';
}

int secureio_public_key_parse(uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], const char *line, size_t len,
                              char *comment, size_t comment_len)
{
    if (comment != NULL && comment_len > 0)
        comment[0] = '\0';
    if (pk == NULL || (line == NULL && len > 0))
        return SECUREIO_ERR_ARG;

    size_t s = 0, e = len;
    while (e > s && is_space(line[e - 1]))
        e--;
    while (s < e && is_blank(line[s]))
        s++;
    /* one line, and nothing a C string could not hold */
    for (size_t i = s; i < e; i++)
        if (line[i] == '\n' || line[i] == '\r' || line[i] == '\0')
            return SECUREIO_ERR_FORMAT;

    size_t t0 = s;
    while (s < e && !is_blank(line[s]))
        s++;
    size_t t1 = s;
    while (s < e && is_blank(line[s]))
        s++;
    size_t b0 = s;
    while (s < e && !is_blank(line[s]))
        s++;
    size_t b1 = s;
    while (s < e && is_blank(line[s]))
        s++;

    if (t1 - t0 != KEY_TYPE_LEN || memcmp(line + t0, KEY_TYPE, KEY_TYPE_LEN) != 0) {
        int type_like = t1 > t0 && b1 > b0;
        for (size_t i = t0; i < t1 && type_like; i++)
            type_like = is_type_char(line[i]);
        return type_like ? SECUREIO_ERR_UNSUPPORTED : SECUREIO_ERR_FORMAT;
    }
    uint8_t blob[PUBLIC_BLOB_LEN];
    size_t blob_len = 0;
    if (b1 - b0 != PUBLIC_B64_LEN ||
        b64_decode(blob, sizeof blob, line + b0, b1 - b0, &blob_len) != 0 ||
        blob_len != PUBLIC_BLOB_LEN)
        return SECUREIO_ERR_FORMAT;
    uint8_t key[SECUREIO_PUBLIC_KEY_LEN];
    if (parse_public_blob(blob, blob_len, key) != SECUREIO_OK)
        return SECUREIO_ERR_FORMAT; /* the line says ssh-ed25519: another inner type is wrong */
    memcpy(pk, key, sizeof key);
    if (comment != NULL && comment_len > 0) {
        size_t n = e - s < comment_len - 1 ? e - s : comment_len - 1;
        if (n > 0)
            memcpy(comment, line + s, n);
        comment[n] = '\0';
    }
    return SECUREIO_OK;
}

int secureio_public_key_format(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], const char *comment,
                               char *out, size_t *out_len)
{
    if (pk == NULL || out_len == NULL || (out == NULL && *out_len > 0))
        return SECUREIO_ERR_ARG;
    size_t comment_len = comment == NULL ? 0 : strlen(comment);
    if (comment_len > SECUREIO_MAX_COMMENT_LEN ||
        (comment_len > 0 && strpbrk(comment, "\r\n") != NULL))
        return SECUREIO_ERR_ARG;
    size_t need = KEY_TYPE_LEN + 1 + PUBLIC_B64_LEN + (comment_len > 0 ? 1 + comment_len : 0) + 1;
    if (*out_len < need) {
        *out_len = need;
        return SECUREIO_ERR_BUFFER;
    }
    uint8_t blob[PUBLIC_BLOB_LEN];
    make_public_blob(blob, pk);
    char b64[PUBLIC_B64_LEN + 1];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    char *o = out;
    memcpy(o, KEY_TYPE " ", KEY_TYPE_LEN + 1);
    o += KEY_TYPE_LEN + 1;
    memcpy(o, b64, PUBLIC_B64_LEN);
    o += PUBLIC_B64_LEN;
    if (comment_len > 0) {
        *o++ = ' ';
        memcpy(o, comment, comment_len);
        o += comment_len;
    }
    *o++ = '\n';
    *out_len = (size_t)(o - out);
    return SECUREIO_OK;
}

void secureio_public_key_fingerprint(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN],
                                     char out[SECUREIO_FINGERPRINT_LEN])
{
    if (out == NULL)
        return;
    out[0] = '\0';
    if (pk == NULL || sio_sodium_ready() != SECUREIO_OK)
        return;
    uint8_t blob[PUBLIC_BLOB_LEN], hash[crypto_hash_sha256_BYTES];
    make_public_blob(blob, pk);
    crypto_hash_sha256(hash, blob, sizeof blob);
    memcpy(out, "SHA256:", 7);
    /* 43 characters and a NUL */
    sodium_bin2base64(out + 7, SECUREIO_FINGERPRINT_LEN - 7, hash, sizeof hash,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

/* ------------------------------------------------------------------ files */

/* 1 if needle[n] occurs in text[len]. */
static int find(const char *text, size_t len, const char *needle, size_t n)
{
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(text + i, needle, n) == 0)
            return 1;
    return 0;
}

/* The detail of a private key file that did not decode. */
static void identity_load_detail(int rc, const char *path, const char *text, size_t len)
{
    size_t s = 0;
    while (s < len && (is_blank(text[s]) || text[s] == '\n' || text[s] == '\r'))
        s++;
    if (len - s >= 4 && memcmp(text + s, "ssh-", 4) == 0 &&
        !find(text, len, PEM_BEGIN, PEM_BEGIN_LEN))
        util_detail("%s: this is a public key line; an identity is a private key file "
                    "(the file without .pub)",
                    path);
    else if (rc == SECUREIO_ERR_ENCRYPTED_KEY)
        util_detail("%s: protected by a passphrase; remove it with ssh-keygen -p -f %s", path,
                    path);
    else if (rc == SECUREIO_ERR_UNSUPPORTED)
        util_detail("%s: not an Ed25519 OpenSSH key (make one with ssh-keygen -t ed25519)", path);
    else if (rc == SECUREIO_ERR_FORMAT && !find(text, len, PEM_BEGIN, PEM_BEGIN_LEN))
        util_detail("%s: not an OpenSSH private key file (no \"" PEM_BEGIN "\" line)", path);
    else
        util_detail("%s: %s", path, secureio_strerror(rc));
}

int sio_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    return sio_file_result(util_read_file(path, max, out, out_len), path, max);
}

int sio_file_result(int rc, const char *path, size_t max)
{
    switch (rc) {
    case 0: return SECUREIO_OK;
    case UTIL_FILE_TOO_BIG:
        util_detail("%s: larger than %zu bytes: not a key file", path, max);
        return SECUREIO_ERR_LIMIT;
    case UTIL_FILE_NOMEM: return SECUREIO_ERR_NOMEM;
    default: util_detail_errno(path); return SECUREIO_ERR_IO;
    }
}

int secureio_identity_load(secureio_identity **out, const char *path)
{
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    if (path == NULL)
        return SECUREIO_ERR_ARG;
    char *text;
    size_t len;
    unsigned mode;
    util_detail_clear();
    sio_path pb;
    if ((path = sio_path_expand(&pb, path)) == NULL)
        return SECUREIO_ERR_IO;
    int rc = util_read_private_file(path, SECUREIO_MAX_KEY_FILE_LEN, &text, &len, &mode);
    rc = sio_file_result(rc, path, SECUREIO_MAX_KEY_FILE_LEN);
    if (rc != SECUREIO_OK)
        return rc;
    rc = secureio_identity_decode(out, text, len);
    if (rc != SECUREIO_OK) {
        identity_load_detail(rc, path, text, len); /* what the file is, if not a key */
    } else if (mode != 0) {
        /* a private key others may read: refused, as ssh refuses it */
        secureio_identity_free(*out);
        *out = NULL;
        rc = SECUREIO_ERR_PERMISSIONS;
        util_detail("%s: mode %04o lets others read this private key (ssh refuses it too): "
                    "chmod 600 %s",
                    path, mode, path);
    }
    sodium_memzero(text, len);
    free(text);
    return rc;
}

int secureio_public_key_load(uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], const char *path)
{
    if (pk == NULL || path == NULL)
        return SECUREIO_ERR_ARG;
    char *text;
    size_t len;
    util_detail_clear();
    sio_path pb;
    if ((path = sio_path_expand(&pb, path)) == NULL)
        return SECUREIO_ERR_IO;
    int rc = sio_read_file(path, SECUREIO_MAX_KEY_FILE_LEN, &text, &len);
    if (rc != SECUREIO_OK)
        return rc;
    if (find(text, len, PEM_BEGIN, PEM_BEGIN_LEN)) {
        util_detail("%s: this is a private key file; a public key is its .pub file "
                    "(\"ssh-ed25519 AAAA...\", ssh-keygen -y -f %s prints it)",
                    path, path);
        sodium_memzero(text, len);
        free(text);
        return SECUREIO_ERR_FORMAT;
    }
    rc = SECUREIO_ERR_FORMAT; /* no key line */
    size_t pos = 0;
    int found = 0;
    while (pos < len) {
        const char *line;
        size_t line_len;
        next_line(text, len, &pos, &line, &line_len);
        size_t s = 0;
        while (s < line_len && is_blank(line[s]))
            s++;
        if (s == line_len || line[s] == '#')
            continue;
        rc = secureio_public_key_parse(pk, line, line_len, NULL, 0);
        found = 1;
        break;
    }
    if (rc != SECUREIO_OK)
        util_detail("%s: %s", path,
                    !found ? "no \"ssh-ed25519 AAAA...\" public key line"
                    : rc == SECUREIO_ERR_UNSUPPORTED
                        ? "not an ssh-ed25519 key (only Ed25519 keys are used)"
                        : "malformed public key line");
    free(text);
    return rc;
}

/* path + suffix, malloc'd */
static char *path_with(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *p = malloc(a + b + 1);
    if (p != NULL) {
        memcpy(p, path, a);
        memcpy(p + a, suffix, b + 1);
    }
    return p;
}

/* Returned (internally) by save_files when no_replace is set and path exists. */
#define SAVE_EXISTS 1

/* A util_* file result as a secureio error (with the detail for path). */
static int file_error(int rc, const char *path)
{
    if (rc == UTIL_FILE_NOMEM)
        return SECUREIO_ERR_NOMEM;
    util_detail_errno(path);
    return SECUREIO_ERR_IO;
}

/*
 * Both files, each through its temporary file: the private key put in
 * place first, then the public one. With no_replace, the private key is
 * placed with link(), which fails if path exists (SAVE_EXISTS: another
 * process created it first).
 */
static int save_files(const secureio_identity *id, const char *path, const char *comment,
                      int no_replace)
{
    if (id == NULL || path == NULL || path[0] == '\0')
        return SECUREIO_ERR_ARG;
    if (comment == NULL)
        comment = id->comment;

    char pub[KEY_TYPE_LEN + 1 + PUBLIC_B64_LEN + 1 + SECUREIO_MAX_COMMENT_LEN + 1];
    size_t pub_len = sizeof pub;
    int rc = secureio_public_key_format(id->pk, comment, pub, &pub_len);
    if (rc != SECUREIO_OK)
        return rc;
    size_t priv_len = 0;
    rc = secureio_identity_encode(id, comment, NULL, &priv_len);
    if (rc != SECUREIO_ERR_BUFFER)
        return rc == SECUREIO_OK ? SECUREIO_ERR_ARG : rc;
    char *priv = malloc(priv_len);
    if (priv == NULL)
        return SECUREIO_ERR_NOMEM;
    rc = secureio_identity_encode(id, comment, priv, &priv_len);
    char *pub_path = path_with(path, ".pub");
    char *tmp_priv = NULL, *tmp_pub = NULL;
    if (rc == SECUREIO_OK && pub_path == NULL)
        rc = SECUREIO_ERR_NOMEM;
    int urc = 0;
    if (rc == SECUREIO_OK && (urc = util_write_temp(path, priv, priv_len, 0600, &tmp_priv)) != 0)
        rc = file_error(urc, path);
    int saved = errno;
    sodium_memzero(priv, priv_len);
    free(priv);
    errno = saved;
    if (rc == SECUREIO_OK && (urc = util_write_temp(pub_path, pub, pub_len, 0644, &tmp_pub)) != 0)
        rc = file_error(urc, pub_path);
    if (rc == SECUREIO_OK) {
        urc = util_place_file(tmp_priv, path, no_replace);
        free(tmp_priv);
        tmp_priv = NULL; /* placed or removed */
        if (urc == UTIL_FILE_EXISTS)
            rc = SAVE_EXISTS;
        else if (urc != 0)
            rc = file_error(urc, path);
    }
    if (rc == SECUREIO_OK) {
        urc = util_place_file(tmp_pub, pub_path, 0);
        free(tmp_pub);
        tmp_pub = NULL;
        if (urc != 0)
            rc = file_error(urc, pub_path);
        util_sync_dir_of(path);
    }
    saved = errno;
    if (tmp_priv != NULL) {
        unlink(tmp_priv);
        free(tmp_priv);
    }
    if (tmp_pub != NULL) {
        unlink(tmp_pub);
        free(tmp_pub);
    }
    free(pub_path);
    errno = saved;
    return rc;
}

int secureio_identity_save(const secureio_identity *id, const char *path, const char *comment)
{
    util_detail_clear();
    sio_path pb;
    if (path != NULL && (path = sio_path_expand(&pb, path)) == NULL)
        return SECUREIO_ERR_IO;
    return save_files(id, path, comment, 0);
}

int secureio_identity_load_or_create(secureio_identity **out, const char *path, const char *comment,
                                     int *created)
{
    if (created != NULL)
        *created = 0;
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    if (path == NULL)
        return SECUREIO_ERR_ARG;
    sio_path pb;
    util_detail_clear();
    if ((path = sio_path_expand(&pb, path)) == NULL)
        return SECUREIO_ERR_IO;
    int rc = secureio_identity_load(out, path);
    if (rc != SECUREIO_ERR_IO || errno != ENOENT)
        return rc;
    util_detail_clear();                   /* a missing file is what this function is for */
    if (sio_path_make_parent(path) != 0) { /* (~/.ssh on a fresh account) */
        util_detail_errno(path);
        return SECUREIO_ERR_IO;
    }

    secureio_identity *id;
    rc = secureio_identity_generate(&id);
    if (rc != SECUREIO_OK)
        return rc;
    if (comment != NULL) {
        size_t n = strlen(comment);
        if (n > SECUREIO_MAX_COMMENT_LEN) {
            secureio_identity_free(id);
            return SECUREIO_ERR_ARG;
        }
        memcpy(id->comment, comment, n + 1);
    }
    rc = save_files(id, path, NULL, 1);
    if (rc == SAVE_EXISTS) { /* another process was first: use its key */
        secureio_identity_free(id);
        return secureio_identity_load(out, path);
    }
    if (rc != SECUREIO_OK) {
        secureio_identity_free(id);
        return rc;
    }
    *out = id;
    if (created != NULL)
        *created = 1;
    return SECUREIO_OK;
}
