/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ed25519 identities in OpenSSH's formats (include/secureio/identity.h):
 * private key files against a file ssh-keygen wrote (embedded) and against
 * keys the real ssh-keygen makes during the test (skipped, with a SKIP line,
 * when it is not on PATH), a private key blob built here independently of
 * the library (PROTOCOL.key), every truncation and many corruptions, file
 * writing, signatures, public key lines, fingerprints and key lists.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, popen, fork */
#endif

#include <secureio/identity.h>

#include "secureio/sshkey.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ fixtures */

/* TEST KEY ONLY: written by `ssh-keygen -t ed25519 -N '' -C 'test comment'`
 * (OpenSSH 9.2p1), with its .pub line and what `ssh-keygen -lf` printed. */
static const char sample_key[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDDn21sg/LuZRhGO5JRYeLXQzFGZtcVgkzS0XtmvY3tfQAAAJAEAbqeBAG6\n"
    "ngAAAAtzc2gtZWQyNTUxOQAAACDDn21sg/LuZRhGO5JRYeLXQzFGZtcVgkzS0XtmvY3tfQ\n"
    "AAAEDBnz6Ri5KZCR5UuVuWjSNOMTtQFVkv5ZvvNjHQCtD/1MOfbWyD8u5lGEY7klFh4tdD\n"
    "MUZm1xWCTNLRe2a9je19AAAADHRlc3QgY29tbWVudAE=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
static const char sample_pub[] =
    "ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je19"
    " test comment\n";
static const char sample_fp[] = "SHA256:xINsS1JK8WxOLbgKfGwx6fsYDECxkZUgZHfoFHPLPYk";
#define SAMPLE_CHECK 0x0401ba9eu
/* Offsets in an Ed25519 openssh-key-v1 blob with cipher "none". */
#define OFF_CHECK 98u
#define OFF_COMMENT_LEN 225u

/* RFC 8032, 7.1, test 1 */
static const char rfc8032_seed[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char rfc8032_pk[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char rfc8032_sig[] = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                  "5fb8821590a33bacc61e39701cf9b46b"
                                  "d25bf5f0595bbe24655141438e7a100b";

static char tmpdir[64];

static void hex(uint8_t *out, size_t n, const char *h)
{
    size_t len = 0;
    if (sodium_hex2bin(out, n, h, strlen(h), NULL, &len, NULL) != 0 || len != n)
        abort();
}

static char *path_in(const char *name)
{
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

/* A whole file (NUL-terminated), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1024, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* Writes a file of mode 0600 (the mode of a private key). */
static int spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(data, 1, len, f) == len && fchmod(fileno(f), 0600) == 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The first line a command prints (without its newline), or "". */
static void run_line(const char *cmd, char *out, size_t out_len)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return;
    if (fgets(out, (int)out_len, p) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    while (fgetc(p) != EOF) {
    }
    pclose(p);
}

static int have_ssh_keygen(void)
{
    return system("command -v ssh-keygen >/dev/null 2>&1") == 0;
}

/* ssh-keygen <args> -f DIR/name -q, keys without prompts. */
static int keygen(const char *args, const char *name)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ssh-keygen -q %s -f '%s' </dev/null >/dev/null 2>&1", args,
             path_in(name));
    return system(cmd);
}

static size_t count_dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    size_t n = 0;
    struct dirent *e;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void clear_dir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            remove(path_in(e->d_name));
    closedir(d);
}

/* ------------------------------------------------ armor and blob (ours) */

/* The PEM text of a blob: 70-column base64 between the armor lines. */
static size_t armor(const uint8_t *blob, size_t n, char *out, size_t out_len)
{
    size_t b64_room = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_room);
    sodium_bin2base64(b64, b64_room, blob, n, sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(b64), o = 0;
    o += (size_t)snprintf(out + o, out_len - o, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for (size_t i = 0; i < len; i += 70)
        o += (size_t)snprintf(out + o, out_len - o, "%.*s\n", (int)(len - i < 70 ? len - i : 70),
                              b64 + i);
    o += (size_t)snprintf(out + o, out_len - o, "-----END OPENSSH PRIVATE KEY-----\n");
    free(b64);
    return o;
}

/* The blob of a PEM text (assumes the armor is well formed). */
static size_t unarmor(const char *text, uint8_t *blob, size_t blob_len)
{
    const char *s = strchr(text, '\n') + 1;
    const char *e = strstr(s, "-----END");
    size_t n = 0;
    if (sodium_base642bin(blob, blob_len, s, (size_t)(e - s), "\n", &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        abort();
    return n;
}

/* An openssh-key-v1 blob, written here from PROTOCOL.key, with knobs to
 * break each rule. */
typedef struct spec {
    const char *cipher, *kdf, *kdfopts, *pub_type, *priv_type, *comment;
    uint32_t nkeys, check1, check2;
    const uint8_t *seed, *pub_pk, *priv_pk, *sk_pk; /* sk_pk: second half of sk */
    size_t comment_len;                             /* used when comment has a NUL */
    int bad_pad;                                    /* padding 0,2,3… instead of 1,2,3… */
    int extra_block;                                /* 8 more padding bytes */
    int trailing;                                   /* a byte after the private section */
    int pub_trailing;                               /* a byte after the public blob's key */
    int pk_len_delta;
} spec;

static void w32(uint8_t **p, uint32_t v)
{
    (*p)[0] = (uint8_t)(v >> 24);
    (*p)[1] = (uint8_t)(v >> 16);
    (*p)[2] = (uint8_t)(v >> 8);
    (*p)[3] = (uint8_t)v;
    *p += 4;
}

static void wstr(uint8_t **p, const void *d, size_t n)
{
    w32(p, (uint32_t)n);
    if (n > 0)
        memcpy(*p, d, n);
    *p += n;
}

static size_t build(const spec *s, uint8_t *out)
{
    uint8_t *p = out, pub[256], *q = pub, priv[4096], *r = priv;
    memcpy(p, "openssh-key-v1", 15);
    p += 15;
    wstr(&p, s->cipher, strlen(s->cipher));
    wstr(&p, s->kdf, strlen(s->kdf));
    wstr(&p, s->kdfopts, strlen(s->kdfopts));
    w32(&p, s->nkeys);
    wstr(&q, s->pub_type, strlen(s->pub_type));
    wstr(&q, s->pub_pk, (size_t)(32 + s->pk_len_delta));
    if (s->pub_trailing)
        *q++ = 0;
    wstr(&p, pub, (size_t)(q - pub));
    w32(&r, s->check1);
    w32(&r, s->check2);
    wstr(&r, s->priv_type, strlen(s->priv_type));
    wstr(&r, s->priv_pk, 32);
    uint8_t sk[64];
    memcpy(sk, s->seed, 32);
    memcpy(sk + 32, s->sk_pk, 32);
    wstr(&r, sk, 64);
    wstr(&r, s->comment, s->comment_len ? s->comment_len : strlen(s->comment));
    size_t i = 0;
    while ((size_t)(r - priv) % 8 != 0) {
        i++;
        *r++ = (uint8_t)(s->bad_pad && i == 1 ? 0 : i);
    }
    if (s->extra_block)
        for (int k = 0; k < 8; k++)
            *r++ = (uint8_t)++i;
    wstr(&p, priv, (size_t)(r - priv));
    if (s->trailing)
        *p++ = 0;
    return (size_t)(p - out);
}

static uint8_t g_seed[32], g_pk[32], g_other[32];

static spec good_spec(void)
{
    spec s;
    memset(&s, 0, sizeof s);
    s.cipher = "none";
    s.kdf = "none";
    s.kdfopts = "";
    s.pub_type = "ssh-ed25519";
    s.priv_type = "ssh-ed25519";
    s.comment = "me@host";
    s.nkeys = 1;
    s.check1 = s.check2 = 0x12345678u;
    s.seed = g_seed;
    s.pub_pk = s.priv_pk = s.sk_pk = g_pk;
    return s;
}

static int decode_spec(const spec *s, secureio_identity **id)
{
    uint8_t blob[4096];
    char text[8192];
    size_t n = build(s, blob);
    size_t len = armor(blob, n, text, sizeof text);
    *id = NULL;
    return secureio_identity_decode(id, text, len);
}

/* ---------------------------------------------------------------- tests */

static void test_signatures(void)
{
    uint8_t seed[32], pk[32], want_sig[64], sig[64], got_pk[32];
    hex(seed, 32, rfc8032_seed);
    hex(pk, 32, rfc8032_pk);
    hex(want_sig, 64, rfc8032_sig);
    secureio_identity *id = NULL;
    CHECK_EQ_INT(secureio_identity_from_seed(&id, seed), SECUREIO_OK);
    if (!CHECK(id != NULL))
        return;
    secureio_identity_public_key(id, got_pk);
    CHECK_MEM(got_pk, pk, 32);
    CHECK_EQ_STR(secureio_identity_comment(id), "");
    CHECK_EQ_INT(secureio_identity_sign(id, sig, NULL, 0), SECUREIO_OK);
    CHECK_MEM(sig, want_sig, 64);
    CHECK_EQ_INT(secureio_signature_verify(pk, sig, NULL, 0), SECUREIO_OK);

    static const uint8_t msg[] = "a message to sign";
    CHECK_EQ_INT(secureio_identity_sign(id, sig, msg, sizeof msg), SECUREIO_OK);
    CHECK_EQ_INT(secureio_signature_verify(pk, sig, msg, sizeof msg), SECUREIO_OK);
    CHECK_EQ_INT(secureio_signature_verify(pk, sig, msg, sizeof msg - 1), SECUREIO_ERR_AUTH);
    uint8_t msg2[sizeof msg];
    memcpy(msg2, msg, sizeof msg);
    msg2[0] ^= 1;
    CHECK_EQ_INT(secureio_signature_verify(pk, sig, msg2, sizeof msg2), SECUREIO_ERR_AUTH);
    int all_fail = 1;
    for (size_t i = 0; i < 64; i++) {
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[i] ^= (uint8_t)(1u << (i % 8));
        all_fail &= secureio_signature_verify(pk, bad, msg, sizeof msg) == SECUREIO_ERR_AUTH;
    }
    CHECK(all_fail);
    uint8_t pk2[32];
    memcpy(pk2, pk, 32);
    pk2[5] ^= 0x10;
    CHECK_EQ_INT(secureio_signature_verify(pk2, sig, msg, sizeof msg), SECUREIO_ERR_AUTH);
    CHECK_EQ_INT(secureio_identity_sign(id, sig, NULL, 3), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_signature_verify(pk, sig, NULL, 3), SECUREIO_ERR_ARG);
    secureio_identity_free(id);

    secureio_identity *a = NULL, *b = NULL;
    CHECK_EQ_INT(secureio_identity_generate(&a), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_generate(&b), SECUREIO_OK);
    if (a != NULL && b != NULL) {
        uint8_t pa[32], pb[32];
        secureio_identity_public_key(a, pa);
        secureio_identity_public_key(b, pb);
        CHECK(memcmp(pa, pb, 32) != 0);
        CHECK_EQ_INT(secureio_identity_sign(a, sig, msg, sizeof msg), SECUREIO_OK);
        CHECK_EQ_INT(secureio_signature_verify(pa, sig, msg, sizeof msg), SECUREIO_OK);
        CHECK_EQ_INT(secureio_signature_verify(pb, sig, msg, sizeof msg), SECUREIO_ERR_AUTH);
    }
    secureio_identity_free(a);
    secureio_identity_free(b);
    secureio_identity_free(NULL);
    CHECK_EQ_INT(secureio_identity_generate(NULL), SECUREIO_ERR_ARG);
    CHECK_EQ_INT(secureio_identity_from_seed(&a, NULL), SECUREIO_ERR_ARG);
}

/* The embedded ssh-keygen file: loads, matches its .pub line and
 * fingerprint, and re-encodes to itself with its check integer. */
static void test_sample(void)
{
    secureio_identity *id = NULL;
    CHECK_EQ_INT(secureio_identity_decode(&id, sample_key, strlen(sample_key)), SECUREIO_OK);
    if (!CHECK(id != NULL))
        return;
    uint8_t pk[32], pub_pk[32];
    char comment[64];
    secureio_identity_public_key(id, pk);
    CHECK_EQ_INT(
        secureio_public_key_parse(pub_pk, sample_pub, strlen(sample_pub), comment, sizeof comment),
        SECUREIO_OK);
    CHECK_MEM(pk, pub_pk, 32);
    CHECK_EQ_STR(comment, "test comment");
    CHECK_EQ_STR(secureio_identity_comment(id), "test comment");
    CHECK_EQ_UINT(sio_sshkey_testing_check(id), SAMPLE_CHECK);

    char fp[SECUREIO_FINGERPRINT_LEN];
    secureio_public_key_fingerprint(pk, fp);
    CHECK_EQ_STR(fp, sample_fp);

    char out[1024];
    size_t out_len = sizeof out;
    CHECK_EQ_INT(sio_sshkey_testing_encode(id, NULL, SAMPLE_CHECK, out, &out_len), SECUREIO_OK);
    CHECK_EQ_UINT(out_len, strlen(sample_key));
    CHECK_MEM(out, sample_key, strlen(sample_key));

    size_t pub_len = sizeof out;
    CHECK_EQ_INT(secureio_public_key_format(pk, "test comment", out, &pub_len), SECUREIO_OK);
    CHECK_EQ_UINT(pub_len, strlen(sample_pub));
    CHECK_MEM(out, sample_pub, strlen(sample_pub));

    /* The public encoder draws a check integer: the text differs only there. */
    out_len = sizeof out;
    CHECK_EQ_INT(secureio_identity_encode(id, NULL, out, &out_len), SECUREIO_OK);
    CHECK_EQ_UINT(out_len, strlen(sample_key));
    uint8_t b1[512], b2[512];
    size_t n1 = unarmor(sample_key, b1, sizeof b1);
    out[out_len] = '\0';
    size_t n2 = unarmor(out, b2, sizeof b2);
    CHECK_EQ_UINT(n1, n2);
    CHECK(memcmp(b2 + OFF_CHECK, b2 + OFF_CHECK + 4, 4) == 0);
    memcpy(b2 + OFF_CHECK, b1 + OFF_CHECK, 8);
    CHECK_MEM(b1, b2, n1);

    /* Sizes: a query, one byte short, exact. */
    size_t need = 0;
    CHECK_EQ_INT(secureio_identity_encode(id, NULL, NULL, &need), SECUREIO_ERR_BUFFER);
    CHECK_EQ_UINT(need, strlen(sample_key));
    size_t shorter = need - 1;
    CHECK_EQ_INT(secureio_identity_encode(id, NULL, out, &shorter), SECUREIO_ERR_BUFFER);
    CHECK_EQ_UINT(shorter, need);
    size_t exact = need;
    CHECK_EQ_INT(secureio_identity_encode(id, NULL, out, &exact), SECUREIO_OK);
    CHECK_EQ_UINT(exact, need);
    need = 0;
    CHECK_EQ_INT(secureio_public_key_format(pk, NULL, NULL, &need), SECUREIO_ERR_BUFFER);
    CHECK_EQ_UINT(need, 12 + 68 + 1);
    char big[SECUREIO_MAX_COMMENT_LEN + 2];
    memset(big, 'c', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    out_len = sizeof out;
    CHECK_EQ_INT(secureio_identity_encode(id, big, out, &out_len), SECUREIO_ERR_ARG);
    out_len = sizeof out;
    CHECK_EQ_INT(secureio_public_key_format(pk, "two\nlines", out, &out_len), SECUREIO_ERR_ARG);

    /* Layout: CRLF line ends, blank lines around, other line lengths. */
    char text[2048];
    size_t t = 0;
    t += (size_t)snprintf(text + t, sizeof text - t, "\n\n");
    for (const char *c = sample_key; *c; c++) {
        if (*c == '\n')
            text[t++] = '\r';
        text[t++] = *c;
    }
    t += (size_t)snprintf(text + t, sizeof text - t, "\r\n  \n");
    secureio_identity *id2 = NULL;
    CHECK_EQ_INT(secureio_identity_decode(&id2, text, t), SECUREIO_OK);
    secureio_identity_free(id2);
    id2 = NULL;
    uint8_t blob[512];
    size_t blob_n = unarmor(sample_key, blob, sizeof blob);
    char b64[512];
    sodium_bin2base64(b64, sizeof b64, blob, blob_n, sodium_base64_VARIANT_ORIGINAL);
    t = (size_t)snprintf(text, sizeof text,
                         "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n"
                         "-----END OPENSSH PRIVATE KEY-----",
                         b64);
    CHECK_EQ_INT(secureio_identity_decode(&id2, text, t), SECUREIO_OK);
    secureio_identity_free(id2);
    /* Not layout: a blank inside base64, text after the END line. */
    t = (size_t)snprintf(text, sizeof text,
                         "-----BEGIN OPENSSH PRIVATE KEY-----\n%.20s %s\n"
                         "-----END OPENSSH PRIVATE KEY-----\n",
                         b64, b64 + 20);
    CHECK_EQ_INT(secureio_identity_decode(&id2, text, t), SECUREIO_ERR_FORMAT);
    t = (size_t)snprintf(text, sizeof text, "%sx\n", sample_key);
    CHECK_EQ_INT(secureio_identity_decode(&id2, text, t), SECUREIO_ERR_FORMAT);
    t = (size_t)snprintf(text, sizeof text, "x%s", sample_key);
    CHECK_EQ_INT(secureio_identity_decode(&id2, text, t), SECUREIO_ERR_FORMAT);
    CHECK_EQ_INT(secureio_identity_decode(&id2, "", 0), SECUREIO_ERR_FORMAT);
    CHECK_EQ_INT(secureio_identity_decode(&id2, NULL, 0), SECUREIO_ERR_FORMAT);
    CHECK_EQ_INT(secureio_identity_decode(NULL, sample_key, 10), SECUREIO_ERR_ARG);
    CHECK(id2 == NULL);
    secureio_identity_free(id);
}

/* Every truncation of the text and of the blob, and corruptions at both
 * levels: an error, never a crash, and never another key. */
static void test_damage(void)
{
    const size_t len = strlen(sample_key);
    secureio_identity *id = NULL;
    uint8_t want[32], pk[32];
    CHECK_EQ_INT(secureio_identity_decode(&id, sample_key, len), SECUREIO_OK);
    secureio_identity_public_key(id, want);
    secureio_identity_free(id);

    /* text truncations: only dropping the final newline still parses */
    size_t bad = 0;
    for (size_t n = 0; n < len; n++) {
        id = NULL;
        int rc = secureio_identity_decode(&id, sample_key, n);
        if (n == len - 1)
            CHECK_EQ_INT(rc, SECUREIO_OK);
        else if (rc == SECUREIO_OK || id != NULL)
            bad++;
        secureio_identity_free(id);
    }
    CHECK_EQ_UINT(bad, 0);

    /* blob truncations */
    uint8_t blob[512];
    char text[2048];
    size_t blob_n = unarmor(sample_key, blob, sizeof blob);
    bad = 0;
    for (size_t n = 0; n < blob_n; n++) {
        size_t t = armor(blob, n, text, sizeof text);
        id = NULL;
        int rc = secureio_identity_decode(&id, text, t);
        if (rc != SECUREIO_ERR_FORMAT || id != NULL)
            bad++;
        secureio_identity_free(id);
    }
    CHECK_EQ_UINT(bad, 0);

    /* blob corruptions: an error, except in the comment (its length and
     * bytes), where a success must still be the same key */
    bad = 0;
    size_t errors = 0, tries = 0;
    static const uint8_t flips[] = {0x01, 0x02, 0x10, 0x80, 0xff};
    for (size_t i = 0; i < blob_n; i++)
        for (size_t f = 0; f < sizeof flips; f++) {
            uint8_t copy[512];
            memcpy(copy, blob, blob_n);
            copy[i] ^= flips[f];
            size_t t = armor(copy, blob_n, text, sizeof text);
            id = NULL;
            int rc = secureio_identity_decode(&id, text, t);
            tries++;
            if (rc == SECUREIO_OK) {
                secureio_identity_public_key(id, pk);
                if (i < OFF_COMMENT_LEN || memcmp(pk, want, 32) != 0)
                    bad++;
            } else {
                errors++;
                if (id != NULL)
                    bad++;
            }
            secureio_identity_free(id);
        }
    CHECK_EQ_UINT(bad, 0);
    CHECK(errors > tries * 9 / 10);

    /* text corruptions: each character replaced by a few others */
    /* (char)0xE3 and 0xEF: libsodium 1.0.18 alone decodes them as '/' */
    static const char repl[] = {'A', 'z', '/',  '+',  '=',        '-',
                                '!', ' ', '\n', '\0', (char)0xE3, (char)0xEF};
    bad = 0;
    errors = 0;
    tries = 0;
    for (size_t i = 0; i < len; i++)
        for (size_t r = 0; r < sizeof repl; r++) {
            if (sample_key[i] == repl[r])
                continue;
            memcpy(text, sample_key, len);
            text[i] = repl[r];
            id = NULL;
            int rc = secureio_identity_decode(&id, text, len);
            tries++;
            if (rc == SECUREIO_OK) {
                secureio_identity_public_key(id, pk);
                if (memcmp(pk, want, 32) != 0)
                    bad++;
            } else {
                errors++;
                if (id != NULL)
                    bad++;
            }
            secureio_identity_free(id);
        }
    CHECK_EQ_UINT(bad, 0);
    CHECK(errors > tries * 9 / 10);

    /* a byte over 0x7f where a '/' was: must not read as '/' */
    memcpy(text, sample_key, len);
    char *slash = memchr(text + 36, '/', len - 36);
    if (CHECK(slash != NULL)) {
        *slash = (char)0xE3;
        id = NULL;
        CHECK_EQ_INT(secureio_identity_decode(&id, text, len), SECUREIO_ERR_FORMAT);
        secureio_identity_free(id);
    }

    /* Longer than SECUREIO_MAX_KEY_FILE_LEN */
    size_t huge = SECUREIO_MAX_KEY_FILE_LEN + 1;
    char *big = malloc(huge);
    memset(big, '\n', huge);
    memcpy(big, sample_key, len);
    id = NULL;
    CHECK_EQ_INT(secureio_identity_decode(&id, big, huge), SECUREIO_ERR_LIMIT);
    CHECK_EQ_INT(secureio_identity_decode(&id, big, huge - 1), SECUREIO_OK);
    secureio_identity_free(id);
    free(big);
}

/* The blob written here (PROTOCOL.key) and each rule broken. */
static void test_rules(void)
{
    secureio_identity *id = NULL, *ref = NULL;
    spec s = good_spec();
    CHECK_EQ_INT(decode_spec(&s, &id), SECUREIO_OK);
    if (id != NULL) {
        uint8_t pk[32];
        secureio_identity_public_key(id, pk);
        CHECK_MEM(pk, g_pk, 32);
        CHECK_EQ_STR(secureio_identity_comment(id), "me@host");
    }
    secureio_identity_free(id);

    /* our encoder gives the same blob, for every padding length */
    CHECK_EQ_INT(secureio_identity_from_seed(&ref, g_seed), SECUREIO_OK);
    static const char *comments[] = {"",      "a",      "ab",      "abc",      "abcd",
                                     "abcde", "abcdef", "abcdefg", "abcdefgh", "a much longer one"};
    for (size_t c = 0; c < sizeof comments / sizeof comments[0]; c++) {
        spec sc = good_spec();
        sc.comment = comments[c];
        sc.check1 = sc.check2 = 0xdeadbeefu + (uint32_t)c;
        uint8_t blob[1024];
        char want[2048], got[2048];
        size_t n = build(&sc, blob);
        size_t want_len = armor(blob, n, want, sizeof want);
        size_t got_len = sizeof got;
        CHECK_EQ_INT(sio_sshkey_testing_encode(ref, comments[c], sc.check1, got, &got_len),
                     SECUREIO_OK);
        CHECK_EQ_UINT(got_len, want_len);
        CHECK_MEM(got, want, want_len);
        id = NULL;
        CHECK_EQ_INT(secureio_identity_decode(&id, got, got_len), SECUREIO_OK);
        CHECK_EQ_STR(secureio_identity_comment(id), comments[c]);
        CHECK_EQ_UINT(sio_sshkey_testing_check(id), sc.check1);
        secureio_identity_free(id);
    }
    secureio_identity_free(ref);

#define EXPECT(mutation, code)                                                                     \
    do {                                                                                           \
        spec m = good_spec();                                                                      \
        mutation;                                                                                  \
        id = NULL;                                                                                 \
        CHECK_EQ_INT(decode_spec(&m, &id), code);                                                  \
        CHECK(id == NULL);                                                                         \
        secureio_identity_free(id);                                                                \
    } while (0)

    EXPECT(m.bad_pad = 1, SECUREIO_ERR_FORMAT);
    EXPECT(m.extra_block = 1, SECUREIO_ERR_FORMAT);
    EXPECT(m.check2 ^= 1, SECUREIO_ERR_FORMAT);
    EXPECT(m.pub_pk = g_other, SECUREIO_ERR_FORMAT);
    EXPECT(m.priv_pk = g_other, SECUREIO_ERR_FORMAT);
    EXPECT(m.sk_pk = g_other, SECUREIO_ERR_FORMAT);
    EXPECT((m.pub_pk = g_other, m.priv_pk = g_other, m.sk_pk = g_other), SECUREIO_ERR_FORMAT);
    EXPECT(m.seed = g_other, SECUREIO_ERR_FORMAT);
    EXPECT(m.nkeys = 2, SECUREIO_ERR_FORMAT);
    EXPECT(m.nkeys = 0, SECUREIO_ERR_FORMAT);
    EXPECT(m.cipher = "aes256-ctr", SECUREIO_ERR_ENCRYPTED_KEY);
    EXPECT(m.kdf = "bcrypt", SECUREIO_ERR_ENCRYPTED_KEY);
    EXPECT((m.cipher = "aes256-ctr", m.kdf = "bcrypt", m.kdfopts = "0123456789abcdefghijkl"),
           SECUREIO_ERR_ENCRYPTED_KEY);
    EXPECT(m.kdfopts = "x", SECUREIO_ERR_FORMAT);
    EXPECT(m.pub_type = "ssh-rsa", SECUREIO_ERR_UNSUPPORTED);
    EXPECT(m.pub_type = "ssh-ed448", SECUREIO_ERR_UNSUPPORTED);
    EXPECT(m.priv_type = "ssh-rsa", SECUREIO_ERR_FORMAT);
    EXPECT(m.trailing = 1, SECUREIO_ERR_FORMAT);
    EXPECT(m.pub_trailing = 1, SECUREIO_ERR_FORMAT);
    EXPECT(m.pk_len_delta = -1, SECUREIO_ERR_FORMAT);
    EXPECT((m.comment = "nul\0inside", m.comment_len = 10), SECUREIO_ERR_FORMAT);
    static char long_comment[SECUREIO_MAX_COMMENT_LEN + 2];
    memset(long_comment, 'x', SECUREIO_MAX_COMMENT_LEN + 1);
    EXPECT(m.comment = long_comment, SECUREIO_ERR_FORMAT);
    long_comment[SECUREIO_MAX_COMMENT_LEN] = '\0';
    {
        spec m = good_spec();
        m.comment = long_comment;
        id = NULL;
        CHECK_EQ_INT(decode_spec(&m, &id), SECUREIO_OK);
        CHECK_EQ_UINT(strlen(secureio_identity_comment(id)), SECUREIO_MAX_COMMENT_LEN);
        secureio_identity_free(id);
    }
#undef EXPECT

    /* other armors */
    static const char rsa_pem[] = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n"
                                  "-----END RSA PRIVATE KEY-----\n";
    id = NULL;
    CHECK_EQ_INT(secureio_identity_decode(&id, rsa_pem, strlen(rsa_pem)), SECUREIO_ERR_UNSUPPORTED);
    CHECK_EQ_INT(secureio_identity_decode(&id, sample_pub, strlen(sample_pub)),
                 SECUREIO_ERR_FORMAT);
}

static void check_mode(const char *path, unsigned mode)
{
    struct stat st;
    if (CHECK(stat(path, &st) == 0))
        CHECK_EQ_UINT(st.st_mode & 07777, mode);
}

static void test_files(void)
{
    clear_dir();
    const char *key = path_in("id_ed25519");
    const char *pub = path_in("id_ed25519.pub");
    secureio_identity *id = NULL, *again = NULL;
    int created = -1;

    mode_t old = umask(077); /* the modes are set whatever the umask */
    CHECK_EQ_INT(secureio_identity_load_or_create(&id, key, "made here", &created), SECUREIO_OK);
    umask(old);
    CHECK_EQ_INT(created, 1);
    check_mode(key, 0600);
    check_mode(pub, 0644);
    CHECK_EQ_UINT(count_dir_entries(), 2); /* no temporary file left */
    CHECK_EQ_INT(secureio_identity_load_or_create(&again, key, "other", &created), SECUREIO_OK);
    CHECK_EQ_INT(created, 0);
    uint8_t a[32], b[32], p[32];
    if (id != NULL && again != NULL) {
        secureio_identity_public_key(id, a);
        secureio_identity_public_key(again, b);
        CHECK_MEM(a, b, 32);
        CHECK_EQ_STR(secureio_identity_comment(again), "made here");
        CHECK_EQ_INT(secureio_public_key_load(p, pub), SECUREIO_OK);
        CHECK_MEM(p, a, 32);
        char *line = slurp(pub, NULL);
        uint8_t q[32];
        char comment[32];
        CHECK_EQ_INT(secureio_public_key_parse(q, line, strlen(line), comment, sizeof comment),
                     SECUREIO_OK);
        CHECK_EQ_STR(comment, "made here");
        free(line);
    }
    secureio_identity_free(again);
    again = NULL;

    /* save over an existing key: replaced by a rename (a new inode) */
    struct stat before, after;
    CHECK(stat(key, &before) == 0);
    secureio_identity *other = NULL;
    CHECK_EQ_INT(secureio_identity_generate(&other), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_save(other, key, "second"), SECUREIO_OK);
    CHECK(stat(key, &after) == 0);
    CHECK(before.st_ino != after.st_ino);
    CHECK_EQ_UINT(count_dir_entries(), 2);
    CHECK_EQ_INT(secureio_identity_load(&again, key), SECUREIO_OK);
    if (again != NULL && other != NULL) {
        secureio_identity_public_key(again, a);
        secureio_identity_public_key(other, b);
        CHECK_MEM(a, b, 32);
        CHECK_EQ_STR(secureio_identity_comment(again), "second");
        CHECK_EQ_INT(secureio_public_key_load(p, pub), SECUREIO_OK);
        CHECK_MEM(p, b, 32);
    }
    check_mode(key, 0600);
    check_mode(pub, 0644);
    secureio_identity_free(again);
    again = NULL;

    /* failures: no file left half-written or behind */
    errno = 0;
    CHECK_EQ_INT(secureio_identity_load(&again, path_in("missing")), SECUREIO_ERR_IO);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK_EQ_INT(secureio_identity_save(other, path_in("no/such/dir"), NULL), SECUREIO_ERR_IO);
    CHECK(mkdir(path_in("adir"), 0700) == 0);
    CHECK_EQ_INT(secureio_identity_save(other, path_in("adir"), NULL), SECUREIO_ERR_IO);
    CHECK_EQ_UINT(count_dir_entries(), 3);
    rmdir(path_in("adir"));
    CHECK_EQ_INT(secureio_identity_save(other, key, "bad\ncomment"), SECUREIO_ERR_ARG);
    CHECK_EQ_UINT(count_dir_entries(), 2);

    /* load_or_create does not replace a file it cannot read */
    const char *junk = path_in("junk");
    CHECK(spit(junk, "not a key\n", 10) == 0);
    CHECK_EQ_INT(secureio_identity_load_or_create(&again, junk, NULL, &created),
                 SECUREIO_ERR_FORMAT);
    CHECK_EQ_INT(created, 0);
    char *content = slurp(junk, NULL);
    CHECK_EQ_STR(content, "not a key\n");
    free(content);

    /* a file longer than SECUREIO_MAX_KEY_FILE_LEN */
    size_t huge = SECUREIO_MAX_KEY_FILE_LEN + 1;
    char *big = malloc(huge);
    memset(big, '\n', huge);
    memcpy(big, sample_key, strlen(sample_key));
    CHECK(spit(junk, big, huge) == 0);
    CHECK_EQ_INT(secureio_identity_load(&again, junk), SECUREIO_ERR_LIMIT);
    CHECK(spit(junk, big, huge - 1) == 0);
    CHECK_EQ_INT(secureio_identity_load(&again, junk), SECUREIO_OK);
    secureio_identity_free(again);
    free(big);

    /* a .pub file: the first line that is not blank or a comment */
    static const char pubfile[] = "\n# my key\n   \n";
    char *pf = malloc(sizeof pubfile + sizeof sample_pub);
    snprintf(pf, sizeof pubfile + sizeof sample_pub, "%s%s", pubfile, sample_pub);
    CHECK(spit(junk, pf, strlen(pf)) == 0);
    CHECK_EQ_INT(secureio_public_key_load(p, junk), SECUREIO_OK);
    CHECK(spit(junk, pubfile, strlen(pubfile)) == 0);
    CHECK_EQ_INT(secureio_public_key_load(p, junk), SECUREIO_ERR_FORMAT);
    free(pf);

    secureio_identity_free(other);
    secureio_identity_free(id);
    clear_dir();

    /* processes creating the same identity at once end up with one key */
    enum { PROCS = 4 };
    int fds[PROCS][2];
    pid_t pids[PROCS];
    const char *shared = path_in("shared");
    for (int i = 0; i < PROCS; i++) {
        if (pipe(fds[i]) != 0)
            abort();
        pids[i] = fork();
        if (pids[i] == 0) {
            secureio_identity *mine = NULL;
            uint8_t pk[32] = {0};
            if (secureio_identity_load_or_create(&mine, shared, "race", NULL) == SECUREIO_OK)
                secureio_identity_public_key(mine, pk);
            _exit(write(fds[i][1], pk, 32) == 32 ? 0 : 1);
        }
        close(fds[i][1]);
    }
    uint8_t first[32], got[32];
    for (int i = 0; i < PROCS; i++) {
        int status = -1;
        CHECK(read(fds[i][0], got, 32) == 32);
        close(fds[i][0]);
        CHECK(waitpid(pids[i], &status, 0) == pids[i] && status == 0);
        if (i == 0)
            memcpy(first, got, 32);
        CHECK_MEM(got, first, 32);
    }
    CHECK(!sodium_is_zero(first, 32));
    CHECK_EQ_INT(secureio_identity_load(&id, shared), SECUREIO_OK);
    if (id != NULL) {
        secureio_identity_public_key(id, got);
        CHECK_MEM(got, first, 32);
    }
    secureio_identity_free(id);
    CHECK_EQ_UINT(count_dir_entries(), 2);
    clear_dir();
}

/* Keys made by the real ssh-keygen, and ssh-keygen reading ours. */
static void test_ssh_keygen(void)
{
    if (!have_ssh_keygen()) {
        printf("SKIP: ssh-keygen not on PATH: the checks against OpenSSH did not run\n");
        return;
    }
    clear_dir();
    static const char *comments[] = {
        "",      "a",      "ab",      "abc",       "abcd",
        "abcde", "abcdef", "abcdefg", "user@host", "with spaces and more than eight bytes"};
    for (size_t c = 0; c < sizeof comments / sizeof comments[0]; c++) {
        char args[256], name[32];
        snprintf(name, sizeof name, "k%zu", c);
        snprintf(args, sizeof args, "-t ed25519 -N '' -C '%s'", comments[c]);
        if (!CHECK_EQ_INT(keygen(args, name), 0))
            continue;
        size_t len;
        char *text = slurp(path_in(name), &len);
        char pubname[40];
        snprintf(pubname, sizeof pubname, "%s.pub", name);
        char *pubtext = slurp(path_in(pubname), NULL);
        secureio_identity *id = NULL;
        if (!CHECK(text != NULL && pubtext != NULL) ||
            !CHECK_EQ_INT(secureio_identity_load(&id, path_in(name)), SECUREIO_OK)) {
            free(text);
            free(pubtext);
            continue;
        }
        uint8_t pk[32], pub_pk[32];
        char comment[128];
        secureio_identity_public_key(id, pk);
        CHECK_EQ_INT(
            secureio_public_key_parse(pub_pk, pubtext, strlen(pubtext), comment, sizeof comment),
            SECUREIO_OK);
        CHECK_MEM(pk, pub_pk, 32);
        CHECK_EQ_STR(comment, comments[c]);
        CHECK_EQ_STR(secureio_identity_comment(id), comments[c]);

        /* the check integer, read here from the decoded file */
        uint8_t blob[1024];
        size_t blob_n = unarmor(text, blob, sizeof blob);
        CHECK(blob_n > OFF_CHECK + 8);
        uint32_t check = (uint32_t)blob[OFF_CHECK] << 24 | (uint32_t)blob[OFF_CHECK + 1] << 16 |
                         (uint32_t)blob[OFF_CHECK + 2] << 8 | blob[OFF_CHECK + 3];
        CHECK_EQ_UINT(sio_sshkey_testing_check(id), check);
        char out[2048];
        size_t out_len = sizeof out;
        CHECK_EQ_INT(sio_sshkey_testing_encode(id, NULL, check, out, &out_len), SECUREIO_OK);
        CHECK_EQ_UINT(out_len, len);
        CHECK_MEM(out, text, len);
        char line[256];
        size_t line_len = sizeof line;
        CHECK_EQ_INT(secureio_public_key_format(pk, comments[c], line, &line_len), SECUREIO_OK);
        /* ssh-keygen -C '' ends the line with a blank; we write none */
        size_t pub_len = strlen(pubtext);
        if (comments[c][0] == '\0' && pub_len >= 2 && pubtext[pub_len - 2] == ' ') {
            memmove(pubtext + pub_len - 2, pubtext + pub_len - 1, 2);
            pub_len--;
        }
        CHECK_EQ_UINT(line_len, pub_len);
        CHECK_MEM(line, pubtext, line_len);
        free(text);
        free(pubtext);
        secureio_identity_free(id);
    }

    /* ours, read by ssh-keygen: -y prints our .pub line, -lf our fingerprint */
    secureio_identity *id = NULL;
    CHECK_EQ_INT(secureio_identity_generate(&id), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_save(id, path_in("ours"), "ours@test"), SECUREIO_OK);
    char cmd[512], got[512], fp[SECUREIO_FINGERPRINT_LEN], want[600];
    snprintf(cmd, sizeof cmd, "ssh-keygen -y -f '%s' 2>&1", path_in("ours"));
    run_line(cmd, got, sizeof got);
    char *pub = slurp(path_in("ours.pub"), NULL);
    if (pub != NULL) {
        pub[strcspn(pub, "\n")] = '\0';
        CHECK_EQ_STR(got, pub);
    }
    free(pub);
    uint8_t pk[32];
    secureio_identity_public_key(id, pk);
    secureio_public_key_fingerprint(pk, fp);
    snprintf(cmd, sizeof cmd, "ssh-keygen -lf '%s' 2>&1", path_in("ours.pub"));
    run_line(cmd, got, sizeof got);
    snprintf(want, sizeof want, "256 %s ours@test (ED25519)", fp);
    CHECK_EQ_STR(got, want);
    secureio_identity_free(id);

    /* and load_or_create's files */
    id = NULL;
    int created = 0;
    CHECK_EQ_INT(secureio_identity_load_or_create(&id, path_in("loc"), "", &created), SECUREIO_OK);
    CHECK_EQ_INT(created, 1);
    snprintf(cmd, sizeof cmd, "ssh-keygen -y -f '%s' 2>&1", path_in("loc"));
    run_line(cmd, got, sizeof got);
    pub = slurp(path_in("loc.pub"), NULL);
    if (pub != NULL) {
        pub[strcspn(pub, "\n")] = '\0';
        CHECK_EQ_STR(got, pub);
    }
    free(pub);
    secureio_identity_free(id);

    /* refused */
    id = NULL;
    CHECK_EQ_INT(keygen("-t ed25519 -N secret -C enc", "enc"), 0);
    CHECK_EQ_INT(secureio_identity_load(&id, path_in("enc")), SECUREIO_ERR_ENCRYPTED_KEY);
    CHECK_EQ_INT(keygen("-t ecdsa -N ''", "ecdsa"), 0);
    CHECK_EQ_INT(secureio_identity_load(&id, path_in("ecdsa")), SECUREIO_ERR_UNSUPPORTED);
    CHECK_EQ_INT(keygen("-t rsa -b 2048 -N ''", "rsa"), 0);
    CHECK_EQ_INT(secureio_identity_load(&id, path_in("rsa")), SECUREIO_ERR_UNSUPPORTED);
    CHECK_EQ_INT(keygen("-t rsa -b 2048 -N secret", "rsaenc"), 0);
    CHECK_EQ_INT(secureio_identity_load(&id, path_in("rsaenc")), SECUREIO_ERR_UNSUPPORTED);
    CHECK_EQ_INT(keygen("-t rsa -b 2048 -N '' -m PEM", "rsapem"), 0);
    CHECK_EQ_INT(secureio_identity_load(&id, path_in("rsapem")), SECUREIO_ERR_UNSUPPORTED);
    CHECK(id == NULL);
    /* their public lines: another key type */
    CHECK_EQ_INT(secureio_public_key_load(pk, path_in("rsa.pub")), SECUREIO_ERR_UNSUPPORTED);
    CHECK_EQ_INT(secureio_public_key_load(pk, path_in("ecdsa.pub")), SECUREIO_ERR_UNSUPPORTED);
    CHECK_EQ_INT(secureio_public_key_load(pk, path_in("enc.pub")), SECUREIO_OK);

    /* an authorized_keys file mixing them */
    size_t n1, n2, n3;
    char *k1 = slurp(path_in("rsa.pub"), &n1), *k2 = slurp(path_in("k8.pub"), &n2),
         *k3 = slurp(path_in("ecdsa.pub"), &n3);
    if (CHECK(k1 != NULL && k2 != NULL && k3 != NULL)) {
        char *ak = malloc(n1 + n2 + n3 + 64);
        int m = snprintf(ak, n1 + n2 + n3 + 64, "%sno-pty %s%s", k1, k2, k3);
        secureio_keylist *list = NULL;
        CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
        size_t bad_line = 99;
        CHECK_EQ_INT(secureio_keylist_parse(list, ak, (size_t)m, &bad_line), SECUREIO_OK);
        CHECK_EQ_UINT(bad_line, 0);
        CHECK_EQ_UINT(secureio_keylist_count(list), 1);
        uint8_t k8[32];
        CHECK_EQ_INT(secureio_public_key_load(k8, path_in("k8.pub")), SECUREIO_OK);
        CHECK_EQ_INT(secureio_keylist_contains(list, k8), 1);
        secureio_keylist_free(list);
        free(ak);
    }
    free(k1);
    free(k2);
    free(k3);
    clear_dir();
}

static void test_public_lines(void)
{
    uint8_t want[32], pk[32];
    char comment[64];
    hex(want, 32, "c39f6d6c83f2ee6518463b925161e2d743314666d715824cd2d17b66bd8ded7d");
#define B64 "AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je19"
    static const struct {
        const char *line, *comment;
    } ok[] = {
        {"ssh-ed25519 " B64, ""},
        {"ssh-ed25519 " B64 "\n", ""},
        {"ssh-ed25519 " B64 "\r\n", ""},
        {"ssh-ed25519 " B64 " c", "c"},
        {"ssh-ed25519 " B64 " user@host\n", "user@host"},
        {"  \tssh-ed25519  \t " B64 "   a  spaced   comment \t \r\n", "a  spaced   comment"},
        {"ssh-ed25519\t" B64 "\tx", "x"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        memset(pk, 0, 32);
        strcpy(comment, "junk");
        CHECK_EQ_INT(
            secureio_public_key_parse(pk, ok[i].line, strlen(ok[i].line), comment, sizeof comment),
            SECUREIO_OK);
        CHECK_MEM(pk, want, 32);
        CHECK_EQ_STR(comment, ok[i].comment);
        CHECK_EQ_INT(secureio_public_key_parse(pk, ok[i].line, strlen(ok[i].line), NULL, 0),
                     SECUREIO_OK);
    }
    /* a comment cut to the room given */
    char small[5];
    CHECK_EQ_INT(secureio_public_key_parse(pk, ok[4].line, strlen(ok[4].line), small, sizeof small),
                 SECUREIO_OK);
    CHECK_EQ_STR(small, "user");

    /* wrong inner type (same length), trailing data, bad base64 */
    uint8_t blob[64], *p = blob;
    char b64[128], line[256];
    w32(&p, 11);
    memcpy(p, "ssh-ed44819", 11);
    p += 11;
    wstr(&p, want, 32);
    sodium_bin2base64(b64, sizeof b64, blob, (size_t)(p - blob), sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof line, "ssh-ed25519 %s x", b64);
    CHECK_EQ_INT(secureio_public_key_parse(pk, line, strlen(line), NULL, 0), SECUREIO_ERR_FORMAT);
    memcpy(blob + 4, "ssh-ed25519", 11);
    *p++ = 0;
    sodium_bin2base64(b64, sizeof b64, blob, (size_t)(p - blob), sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof line, "ssh-ed25519 %s", b64);
    CHECK_EQ_INT(secureio_public_key_parse(pk, line, strlen(line), NULL, 0), SECUREIO_ERR_FORMAT);
    /* key of 31 bytes, 33 bytes */
    p = blob;
    wstr(&p, "ssh-ed25519", 11);
    wstr(&p, want, 31);
    sodium_bin2base64(b64, sizeof b64, blob, (size_t)(p - blob), sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof line, "ssh-ed25519 %s", b64);
    CHECK_EQ_INT(secureio_public_key_parse(pk, line, strlen(line), NULL, 0), SECUREIO_ERR_FORMAT);

    static const struct {
        const char *line;
        int rc;
    } bad[] = {
        {"", SECUREIO_ERR_FORMAT},
        {"\n", SECUREIO_ERR_FORMAT},
        {"ssh-ed25519", SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 \n", SECUREIO_ERR_FORMAT},
        {B64, SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 " B64 "=", SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 " B64 "AAAA", SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je1", /* 67 */
         SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je1!",
         SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je1=",
         SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je-_",
         SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 " B64 "\nssh-ed25519 " B64, SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je1\xfd",
         SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je1\xff",
         SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 " B64 " a\rb", SECUREIO_ERR_FORMAT},
        {"ssh-ed25519 " B64 " a\nb", SECUREIO_ERR_FORMAT},
        {"SSH-ED25519 " B64, SECUREIO_ERR_UNSUPPORTED},
        {"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ x", SECUREIO_ERR_UNSUPPORTED},
        {"ecdsa-sha2-nistp256 AAAAE2VjZHNh", SECUREIO_ERR_UNSUPPORTED},
        {"ssh-ed25519-cert-v01@openssh.com " B64, SECUREIO_ERR_UNSUPPORTED},
        {"no-pty ssh-ed25519 " B64, SECUREIO_ERR_UNSUPPORTED},
        {"from=\"x\" ssh-ed25519 " B64, SECUREIO_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(pk, 0xaa, 32);
        comment[0] = 'z';
        int rc = secureio_public_key_parse(pk, bad[i].line, strlen(bad[i].line), comment,
                                           sizeof comment);
        if (!CHECK_EQ_INT(rc, bad[i].rc))
            fprintf(stderr, "  line %zu: %s\n", i, bad[i].line);
        CHECK_EQ_STR(comment, "");
    }
    /* an embedded NUL */
    static const char nul[] = "ssh-ed25519 " B64 " a\0b";
    CHECK_EQ_INT(secureio_public_key_parse(pk, nul, sizeof nul - 1, NULL, 0), SECUREIO_ERR_FORMAT);
    CHECK_EQ_INT(secureio_public_key_parse(NULL, nul, 10, NULL, 0), SECUREIO_ERR_ARG);

    /* a byte over 0x7f where a '/' was (libsodium 1.0.18 alone reads 0xE3
     * as '/') */
    for (int tries = 0; tries < 1000; tries++) {
        uint8_t r[32];
        randombytes_buf(r, sizeof r);
        size_t l = sizeof line;
        CHECK_EQ_INT(secureio_public_key_format(r, NULL, line, &l), SECUREIO_OK);
        char *sl = memchr(line + 30, '/', l - 30);
        if (sl == NULL)
            continue;
        CHECK_EQ_INT(secureio_public_key_parse(pk, line, l, NULL, 0), SECUREIO_OK);
        *sl = (char)0xE3;
        CHECK_EQ_INT(secureio_public_key_parse(pk, line, l, NULL, 0), SECUREIO_ERR_FORMAT);
        break;
    }

    /* format → parse */
    char out[256];
    size_t out_len = sizeof out;
    CHECK_EQ_INT(secureio_public_key_format(want, NULL, out, &out_len), SECUREIO_OK);
    CHECK_EQ_UINT(out_len, 12 + 68 + 1);
    CHECK_MEM(out, "ssh-ed25519 " B64 "\n", out_len);
    out_len = sizeof out;
    CHECK_EQ_INT(secureio_public_key_format(want, "", out, &out_len), SECUREIO_OK);
    CHECK_EQ_UINT(out_len, 12 + 68 + 1);
    out_len = sizeof out;
    CHECK_EQ_INT(secureio_public_key_format(want, "a b", out, &out_len), SECUREIO_OK);
    CHECK_MEM(out, "ssh-ed25519 " B64 " a b\n", out_len);
    CHECK_EQ_INT(secureio_public_key_parse(pk, out, out_len, comment, sizeof comment), SECUREIO_OK);
    CHECK_EQ_STR(comment, "a b");
    for (int k = 0; k < 50; k++) {
        uint8_t r[32];
        randombytes_buf(r, sizeof r);
        out_len = sizeof out;
        CHECK_EQ_INT(secureio_public_key_format(r, "c", out, &out_len), SECUREIO_OK);
        CHECK_EQ_INT(secureio_public_key_parse(pk, out, out_len, NULL, 0), SECUREIO_OK);
        CHECK_MEM(pk, r, 32);
    }
#undef B64
}

static void test_keylist(void)
{
    uint8_t k[4][32];
    char lines[4][128];
    for (int i = 0; i < 4; i++) {
        randombytes_buf(k[i], 32);
        size_t n = sizeof lines[i] - 1;
        if (secureio_public_key_format(k[i], NULL, lines[i], &n) != SECUREIO_OK)
            abort();
        lines[i][n - 1] = '\0'; /* without its newline */
    }
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "# authorized keys\n"
                     "\n"
                     "   \t\n"
                     "%s alice@host\n"
                     "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDx bob\n"
                     "  # indented comment\n"
                     "environment=\"A=b \\\"x\\\" y\",No-Pty,permitopen=\"h:1\" %s carol\r\n"
                     "no-port-forwarding,restrict %s dave\n"
                     "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= e\n"
                     "restrict ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDx f\n"
                     "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t g\n"
                     "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQ h\n"
                     "%s alice again\n"
                     "this line is not a key\n"
                     "%s",
                     lines[0], lines[1], lines[2], lines[0], lines[3]);
    secureio_keylist *list = NULL;
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    if (list == NULL)
        return;
    size_t bad_line = 77;
    CHECK_EQ_INT(secureio_keylist_parse(list, text, (size_t)n, &bad_line), SECUREIO_OK);
    CHECK_EQ_UINT(bad_line, 0);
    CHECK_EQ_UINT(secureio_keylist_count(list), 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(secureio_keylist_contains(list, k[i]), 1);
    uint8_t absent[32];
    randombytes_buf(absent, 32);
    CHECK_EQ_INT(secureio_keylist_contains(list, absent), 0);
    CHECK_EQ_INT(secureio_keylist_add(list, k[1]), SECUREIO_OK);
    CHECK_EQ_UINT(secureio_keylist_count(list), 4);

    /* options that restrict who the key is or where it comes from, and
     * options sshd does not know, skip the line (sshd would refuse or
     * restrict it); the harmless ones authorize it */
    static const char *const skipped[] = {
        "cert-authority",
        "cert-authority,principals=\"alice\"",
        "from=\"10.0.0.1\"",
        "no-pty,from=\"*.example.com\"",
        "expiry-time=\"20300101\"",
        "command=\"echo hi\"",
        "restrict,command=\"rsync --server\"",
        "unknown-option",
        "foo",
        "no-pty,",
        ",no-pty",
        "no-pty,,restrict",
        "environment=\"unterminated",
        "environment=unquoted",
        "no-pty=\"x\"",
        "principals=\"a\"",
    };
    static const char *const harmless[] = {
        "no-pty",
        "restrict",
        "RESTRICT,no-agent-forwarding,no-port-forwarding,no-user-rc,no-X11-forwarding",
        "agent-forwarding,port-forwarding,pty,user-rc,X11-forwarding",
        "no-touch-required,verify-required",
        "tunnel=\"0\",permitlisten=\"localhost:8080\",permitopen=\"a:1\"",
        "environment=\"PATH=/bin:/usr/bin\"",
        "environment=\"Q=\\\"quoted, with comma\\\"\"",
    };
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++) {
        secureio_keylist *l2 = NULL;
        CHECK_EQ_INT(secureio_keylist_new(&l2), SECUREIO_OK);
        n = snprintf(text, sizeof text, "%s %s opt\n", skipped[i], lines[0]);
        CHECK_EQ_INT(secureio_keylist_parse(l2, text, (size_t)n, &bad_line), SECUREIO_OK);
        if (secureio_keylist_count(l2) != 0)
            fprintf(stderr, "authorized with options %s\n", skipped[i]);
        CHECK_EQ_UINT(secureio_keylist_count(l2), 0);
        secureio_keylist_free(l2);
    }
    for (size_t i = 0; i < sizeof harmless / sizeof harmless[0]; i++) {
        secureio_keylist *l2 = NULL;
        CHECK_EQ_INT(secureio_keylist_new(&l2), SECUREIO_OK);
        n = snprintf(text, sizeof text, "%s %s opt\n", harmless[i], lines[2]);
        CHECK_EQ_INT(secureio_keylist_parse(l2, text, (size_t)n, &bad_line), SECUREIO_OK);
        if (secureio_keylist_count(l2) != 1)
            fprintf(stderr, "refused with options %s\n", harmless[i]);
        CHECK_EQ_INT(secureio_keylist_contains(l2, k[2]), 1);
        secureio_keylist_free(l2);
    }

    /* a malformed ed25519 line: rejected whole, line reported, list kept */
    char broken[128];
    strcpy(broken, lines[0]);
    broken[30] = broken[30] == 'A' ? 'B' : 'A';
    n = snprintf(text, sizeof text, "#\n\n  \nno-pty ssh-ed25519 AAAA!bad\n");
    CHECK_EQ_INT(secureio_keylist_parse(list, text, (size_t)n, &bad_line), SECUREIO_ERR_FORMAT);
    CHECK_EQ_UINT(bad_line, 4);
    uint8_t fresh[32];
    randombytes_buf(fresh, 32);
    char fresh_line[128];
    size_t fl = sizeof fresh_line;
    CHECK_EQ_INT(secureio_public_key_format(fresh, "new", fresh_line, &fl), SECUREIO_OK);
    fresh_line[fl] = '\0';
    n = snprintf(
        text, sizeof text, "%s%s\n%s\n", fresh_line, lines[3],
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOfbWyD8u5lGEY7klFh4tdDMUZm1xWCTNLRe2a9je1=");
    CHECK_EQ_INT(secureio_keylist_parse(list, text, (size_t)n, &bad_line), SECUREIO_ERR_FORMAT);
    CHECK_EQ_UINT(bad_line, 3);
    CHECK_EQ_UINT(secureio_keylist_count(list), 4);
    CHECK_EQ_INT(secureio_keylist_contains(list, fresh), 0);
    /* the list still works after the rollback */
    CHECK_EQ_INT(secureio_keylist_add(list, fresh), SECUREIO_OK);
    CHECK_EQ_INT(secureio_keylist_contains(list, fresh), 1);
    CHECK_EQ_UINT(secureio_keylist_count(list), 5);
    n = snprintf(text, sizeof text, "ssh-ed25519\n");
    CHECK_EQ_INT(secureio_keylist_parse(list, text, (size_t)n, &bad_line), SECUREIO_ERR_FORMAT);
    CHECK_EQ_UINT(bad_line, 1);
    n = snprintf(text, sizeof text, "%s trailing\n%s extra AAAA\n", lines[1], broken);
    CHECK_EQ_INT(secureio_keylist_parse(list, text, (size_t)n, &bad_line), SECUREIO_ERR_FORMAT);
    CHECK_EQ_UINT(bad_line, 2);
    CHECK_EQ_INT(secureio_keylist_parse(list, "", 0, &bad_line), SECUREIO_OK);
    CHECK_EQ_INT(secureio_keylist_parse(list, NULL, 0, NULL), SECUREIO_OK);
    CHECK_EQ_UINT(secureio_keylist_count(list), 5);
    secureio_keylist_free(list);
    list = NULL;

    /* many keys: linear, deduplicated */
    enum { MANY = 20000 };
    size_t cap = (size_t)MANY * 2 * 96, len = 0;
    char *many = malloc(cap);
    uint8_t(*keys)[32] = malloc((size_t)MANY * 32);
    for (size_t i = 0; i < MANY; i++) {
        randombytes_buf(keys[i], 32);
        size_t l = cap - len;
        if (secureio_public_key_format(keys[i], "k", many + len, &l) != SECUREIO_OK)
            abort();
        len += l;
    }
    size_t half = len;
    memcpy(many + len, many, half); /* every key twice */
    len += half;
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    clock_t t0 = clock();
    CHECK_EQ_INT(secureio_keylist_parse(list, many, len, NULL), SECUREIO_OK);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_EQ_UINT(secureio_keylist_count(list), MANY);
    CHECK(secs < 10.0);
    int all = 1;
    for (size_t i = 0; i < MANY; i += 997)
        all &= secureio_keylist_contains(list, keys[i]);
    CHECK(all);
    secureio_keylist_free(list);

    /* long lines: a 2 MiB comment line, non-key line and key comment */
    size_t big = (size_t)2 << 20;
    char *huge = malloc(3 * big + 256);
    len = 0;
    huge[len++] = '#';
    memset(huge + len, 'x', big);
    len += big;
    huge[len++] = '\n';
    memset(huge + len, 'y', big);
    len += big;
    huge[len++] = '\n';
    len += (size_t)snprintf(huge + len, 256, "%s ", lines[2]);
    memset(huge + len, 'z', big);
    len += big;
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    t0 = clock();
    CHECK_EQ_INT(secureio_keylist_parse(list, huge, len, &bad_line), SECUREIO_OK);
    secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(secs < 10.0);
    CHECK_EQ_UINT(secureio_keylist_count(list), 1);
    CHECK_EQ_INT(secureio_keylist_contains(list, k[2]), 1);

    /* files: loaded; longer than the bound refused */
    clear_dir();
    const char *ak = path_in("authorized_keys");
    size_t line_len = half / MANY; /* every line has the same length */
    CHECK_EQ_UINT(line_len * MANY, half);
    CHECK(line_len * (MANY / 2) <= (size_t)SECUREIO_MAX_KEY_FILE_LEN * 16);
    CHECK(spit(ak, many, line_len * (MANY / 2)) == 0);
    CHECK_EQ_INT(secureio_keylist_load(list, ak, &bad_line), SECUREIO_OK);
    CHECK_EQ_UINT(secureio_keylist_count(list), 1 + MANY / 2);
    CHECK_EQ_INT(secureio_keylist_contains(list, keys[0]), 1);
    CHECK_EQ_INT(secureio_keylist_contains(list, keys[MANY / 2]), 0);
    CHECK(spit(ak, huge, len) == 0); /* 6 MiB */
    CHECK_EQ_INT(secureio_keylist_load(list, ak, &bad_line), SECUREIO_ERR_LIMIT);
    errno = 0;
    CHECK_EQ_INT(secureio_keylist_load(list, path_in("missing"), &bad_line), SECUREIO_ERR_IO);
    CHECK_EQ_INT(errno, ENOENT);
    secureio_keylist_free(list);
    free(huge);
    free(many);
    free(keys);
    clear_dir();
}

/* What secureio_error_detail() says when a file cannot be used. */
/* A private key file that others may read is refused, as ssh refuses it;
 * the detail gives the mode and the fix. Files of other owners are the
 * kernel's to guard (not checked here: that needs a second user). */
static void test_permissions(void)
{
    const char *path = path_in("perm_key");
    secureio_identity *gen = NULL, *id = NULL;
    CHECK_EQ_INT(secureio_identity_generate(&gen), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_save(gen, path, "perm"), SECUREIO_OK);
    static const unsigned bad[] = {0644, 0640, 0604, 0660, 0610, 0601, 0700 | 0040, 0666};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(chmod(path, bad[i]) == 0);
        CHECK_EQ_INT(secureio_identity_load(&id, path), SECUREIO_ERR_PERMISSIONS);
        CHECK(id == NULL);
        CHECK(strstr(secureio_error_detail(), "chmod 600") != NULL);
        char mode[16];
        snprintf(mode, sizeof mode, "mode %04o", bad[i]);
        CHECK(strstr(secureio_error_detail(), mode) != NULL);
        /* load_or_create never replaces it */
        int created = 1;
        CHECK_EQ_INT(secureio_identity_load_or_create(&id, path, NULL, &created),
                     SECUREIO_ERR_PERMISSIONS);
        CHECK_EQ_INT(created, 0);
    }
    static const unsigned good[] = {0600, 0400, 0700};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK(chmod(path, good[i]) == 0);
        CHECK_EQ_INT(secureio_identity_load(&id, path), SECUREIO_OK);
        secureio_identity_free(id);
        id = NULL;
    }
    /* a public key file is no secret: 0644 is its mode */
    char pub[300];
    uint8_t pk[32];
    snprintf(pub, sizeof pub, "%s.pub", path);
    CHECK_EQ_INT(secureio_public_key_load(pk, pub), SECUREIO_OK);
    /* and a .pub given as a private key says what it is, not its mode */
    CHECK_EQ_INT(secureio_identity_load(&id, pub), SECUREIO_ERR_FORMAT);
    CHECK(strstr(secureio_error_detail(), "this is a public key line") != NULL);
    CHECK(chmod(path, 0600) == 0);
    secureio_identity_free(gen);
}

static void test_details(void)
{
    secureio_identity *id = NULL, *gen = NULL;
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
    const char *missing = path_in("missing_key");
    CHECK_EQ_INT(secureio_identity_load(&id, missing), SECUREIO_ERR_IO);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK(strstr(secureio_error_detail(), missing) != NULL);
    CHECK(strstr(secureio_error_detail(), strerror(ENOENT)) != NULL);
    CHECK_EQ_INT(secureio_public_key_load(pk, missing), SECUREIO_ERR_IO);
    CHECK(strstr(secureio_error_detail(), strerror(ENOENT)) != NULL);
    /* a private key where a public key is wanted, and the reverse */
    const char *priv = path_in("detail_key");
    CHECK_EQ_INT(secureio_identity_generate(&gen), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_save(gen, priv, "detail"), SECUREIO_OK);
    CHECK_EQ_STR(secureio_error_detail(), "");
    CHECK_EQ_INT(secureio_public_key_load(pk, priv), SECUREIO_ERR_FORMAT);
    CHECK(strstr(secureio_error_detail(), "this is a private key file") != NULL);
    char pub[300];
    snprintf(pub, sizeof pub, "%s.pub", priv);
    CHECK_EQ_INT(secureio_public_key_load(pk, pub), SECUREIO_OK);
    CHECK_EQ_STR(secureio_error_detail(), "");
    CHECK_EQ_INT(secureio_identity_load(&id, pub), SECUREIO_ERR_FORMAT);
    CHECK(strstr(secureio_error_detail(), "this is a public key line") != NULL);
    CHECK(id == NULL);
    /* something else entirely */
    const char *junk = path_in("junk");
    CHECK(spit(junk, "hello\n", 6) == 0);
    CHECK_EQ_INT(secureio_identity_load(&id, junk), SECUREIO_ERR_FORMAT);
    CHECK(strstr(secureio_error_detail(), "not an OpenSSH private key file") != NULL);
    CHECK_EQ_INT(secureio_public_key_load(pk, junk), SECUREIO_ERR_FORMAT);
    CHECK(strstr(secureio_error_detail(), "malformed public key line") != NULL);
    /* an authorized_keys file with a bad line: its number */
    secureio_keylist *list = NULL;
    size_t bad = 0;
    char text[400];
    int n = snprintf(text, sizeof text, "# keys\n%s.pub\nssh-ed25519 AAAAbad\n", priv);
    CHECK(spit(junk, text, (size_t)n) == 0);
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    CHECK_EQ_INT(secureio_keylist_load(list, junk, &bad), SECUREIO_ERR_FORMAT);
    CHECK_EQ_UINT(bad, 3);
    char want[300];
    snprintf(want, sizeof want, "%s:3:", junk);
    CHECK(strstr(secureio_error_detail(), want) != NULL);
    CHECK_EQ_INT(secureio_keylist_load(list, missing, &bad), SECUREIO_ERR_IO);
    CHECK(strstr(secureio_error_detail(), missing) != NULL);
    secureio_keylist_free(list);
    /* load_or_create on a missing file creates it and leaves no detail */
    int created = 0;
    const char *fresh = path_in("detail_fresh");
    CHECK_EQ_INT(secureio_identity_load_or_create(&id, fresh, NULL, &created), SECUREIO_OK);
    CHECK(created == 1);
    CHECK_EQ_STR(secureio_error_detail(), "");
    secureio_identity_free(id);
    secureio_identity_free(gen);
    /* saving where it cannot: the path and why */
    CHECK_EQ_INT(secureio_identity_generate(&gen), SECUREIO_OK);
    const char *nodir = path_in("no/such/dir/key");
    CHECK_EQ_INT(secureio_identity_save(gen, nodir, NULL), SECUREIO_ERR_IO);
    CHECK(strstr(secureio_error_detail(), "no/such/dir/key") != NULL);
    secureio_identity_free(gen);
}

/* "~/" is $HOME in every path; load_or_create makes the missing ~/.ssh. */
static void test_home(void)
{
    const char *old = getenv("HOME");
    char *saved = old != NULL ? strdup(old) : NULL;
    char home[300];
    snprintf(home, sizeof home, "%s/home", tmpdir);
    CHECK(mkdir(home, 0700) == 0);
    CHECK(setenv("HOME", home, 1) == 0);

    secureio_identity *id = NULL, *again = NULL;
    int created = 0;
    CHECK_EQ_INT(secureio_identity_load_or_create(&id, "~/.ssh/id_ed25519", NULL, &created),
                 SECUREIO_OK);
    CHECK_EQ_INT(created, 1);
    char path[400];
    struct stat st;
    snprintf(path, sizeof path, "%s/.ssh", home);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    snprintf(path, sizeof path, "%s/.ssh/id_ed25519", home);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* the same file by its full path, by "~/" again, and its .pub */
    CHECK_EQ_INT(secureio_identity_load(&again, path), SECUREIO_OK);
    uint8_t a[32], b[32], c[32];
    secureio_identity_public_key(id, a);
    secureio_identity_public_key(again, b);
    CHECK(memcmp(a, b, 32) == 0);
    secureio_identity_free(again);
    again = NULL;
    CHECK_EQ_INT(secureio_identity_load_or_create(&again, "~/.ssh/id_ed25519", NULL, &created),
                 SECUREIO_OK);
    CHECK_EQ_INT(created, 0);
    CHECK(secureio_public_key_load(c, "~/.ssh/id_ed25519.pub") == SECUREIO_OK &&
          memcmp(a, c, 32) == 0);
    secureio_keylist *list = NULL;
    CHECK_EQ_INT(secureio_keylist_new(&list), SECUREIO_OK);
    CHECK_EQ_INT(secureio_keylist_load(list, "~/.ssh/id_ed25519.pub", NULL), SECUREIO_OK);
    CHECK(secureio_keylist_contains(list, a));
    secureio_keylist_free(list);
    /* a home with a trailing slash; "~user/" and a "~" inside are names */
    char slash[310];
    snprintf(slash, sizeof slash, "%s/", home);
    CHECK(setenv("HOME", slash, 1) == 0);
    CHECK(secureio_public_key_load(c, "~/.ssh/id_ed25519.pub") == SECUREIO_OK);
    CHECK_EQ_INT(secureio_public_key_load(c, "~nobody/.ssh/id_ed25519.pub"), SECUREIO_ERR_IO);
    /* no home at all (and none in the password database for this test: a
     * relative HOME is not taken) */
    CHECK(setenv("HOME", "relative", 1) == 0);
    int rc = secureio_public_key_load(c, "~/.ssh/id_ed25519.pub");
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_IO); /* (root's home from the database) */
    secureio_identity_free(id);
    secureio_identity_free(again);

    if (saved != NULL) {
        CHECK(setenv("HOME", saved, 1) == 0);
        free(saved);
    } else {
        unsetenv("HOME");
    }
    snprintf(path, sizeof path, "%s/.ssh/id_ed25519", home);
    remove(path);
    snprintf(path, sizeof path, "%s/.ssh/id_ed25519.pub", home);
    remove(path);
    snprintf(path, sizeof path, "%s/.ssh", home);
    rmdir(path);
    rmdir(home);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_identity.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    randombytes_buf(g_seed, sizeof g_seed);
    randombytes_buf(g_other, sizeof g_other);
    {
        uint8_t sk[64];
        crypto_sign_seed_keypair(g_pk, sk, g_seed);
        sodium_memzero(sk, sizeof sk);
    }

    test_signatures();
    test_sample();
    test_damage();
    test_rules();
    test_files();
    test_public_lines();
    test_keylist();
    test_permissions();
    test_ssh_keygen();
    test_details();
    test_home();

    clear_dir();
    rmdir(tmpdir);
    return test_summary("identity");
}
