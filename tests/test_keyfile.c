/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key handling in libtwoway: the private key file (every built-in KEM
 * round trip, the RFC 9458 key written by hand, every way a file can be
 * wrong with the line the detail names, every truncation), saving and
 * loading (mode, a missing file's detail), key rings that own loaded keys
 * (freed with their last entry: ASan's leak check watches), configurations
 * of keys and their selection from an application/ohttp-keys list, a
 * request sealer straight from such a list, algorithm names, a loaded
 * context's media type, the header of refused requests and the count of
 * authenticated chunks.
 */
#define _POSIX_C_SOURCE 200809L

#include "hpke_util.h"
#include "test.h"

#include <twoway/twoway.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define X25519 TWOWAY_HPKE_KEM_X25519_SHA256
#define P256 TWOWAY_HPKE_KEM_P256_SHA256
#define SHA256 TWOWAY_HPKE_KDF_HKDF_SHA256
#define SHA384 TWOWAY_HPKE_KDF_HKDF_SHA384
#define AES128 TWOWAY_HPKE_AEAD_AES_128_GCM
#define CHACHA TWOWAY_HPKE_AEAD_CHACHA20_POLY1305

static const uint16_t kems[] = {TWOWAY_HPKE_KEM_X25519_SHA256, TWOWAY_HPKE_KEM_P256_SHA256,
                                TWOWAY_HPKE_KEM_P384_SHA384, TWOWAY_HPKE_KEM_P521_SHA512,
                                TWOWAY_HPKE_KEM_X448_SHA512};

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char buf[16][128];
    static int i;
    i = (i + 1) % 16;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
    return buf[i];
}

/* ------------------------------------------------------ algorithm names */

static void test_names(void)
{
    static const struct {
        twoway_hpke_alg kind;
        uint16_t id;
        const char *name, *alias, *rfc;
    } t[] = {
        {TWOWAY_HPKE_ALG_KEM, X25519, "x25519", "DHKEM-X25519", "DHKEM(X25519, HKDF-SHA256)"},
        {TWOWAY_HPKE_ALG_KEM, P256, "p256", "P-256", "DHKEM(P-256, HKDF-SHA256)"},
        {TWOWAY_HPKE_ALG_KEM, TWOWAY_HPKE_KEM_P384_SHA384, "p384", "p-384", NULL},
        {TWOWAY_HPKE_ALG_KEM, TWOWAY_HPKE_KEM_P521_SHA512, "p521", "p-521", NULL},
        {TWOWAY_HPKE_ALG_KEM, TWOWAY_HPKE_KEM_X448_SHA512, "x448", "dhkem-x448", NULL},
        {TWOWAY_HPKE_ALG_KDF, SHA256, "sha256", "HKDF-SHA256", "HKDF-SHA256"},
        {TWOWAY_HPKE_ALG_KDF, SHA384, "sha384", "hkdf-sha384", NULL},
        {TWOWAY_HPKE_ALG_KDF, TWOWAY_HPKE_KDF_HKDF_SHA512, "sha512", "hkdf-sha512", NULL},
        {TWOWAY_HPKE_ALG_AEAD, AES128, "aes128gcm", "AES-128-GCM", "AES-128-GCM"},
        {TWOWAY_HPKE_ALG_AEAD, TWOWAY_HPKE_AEAD_AES_256_GCM, "aes256gcm", "aes-256-gcm", NULL},
        {TWOWAY_HPKE_ALG_AEAD, CHACHA, "chacha20poly1305", "ChaCha20-Poly1305", "ChaCha20Poly1305"},
        {TWOWAY_HPKE_ALG_AEAD, TWOWAY_HPKE_AEAD_EXPORT_ONLY, "export-only", "Export-Only",
         "Export-only"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint16_t id = 0;
        CHECK_EQ_STR(twoway_hpke_alg_name(t[i].kind, t[i].id), t[i].name);
        CHECK_EQ_INT(twoway_hpke_alg_from_name(t[i].kind, t[i].name, &id), TWOWAY_OK);
        CHECK_EQ_UINT(id, t[i].id);
        id = 0;
        CHECK_EQ_INT(twoway_hpke_alg_from_name(t[i].kind, t[i].alias, &id), TWOWAY_OK);
        CHECK_EQ_UINT(id, t[i].id);
        if (t[i].rfc != NULL) {
            CHECK_EQ_STR(twoway_hpke_alg_rfc_name(t[i].kind, t[i].id), t[i].rfc);
            id = 0;
            CHECK_EQ_INT(twoway_hpke_alg_from_name(t[i].kind, t[i].rfc, &id), TWOWAY_OK);
            CHECK_EQ_UINT(id, t[i].id);
        }
        /* a KEM name is not a KDF, and so on */
        twoway_hpke_alg other = (twoway_hpke_alg)((t[i].kind + 1) % 3);
        CHECK_EQ_INT(twoway_hpke_alg_from_name(other, t[i].name, &id), TWOWAY_ERR_UNSUPPORTED);
    }
    uint16_t id;
    CHECK(twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, 0x0001) == NULL);
    CHECK(twoway_hpke_alg_rfc_name(TWOWAY_HPKE_ALG_AEAD, 0x0004) == NULL);
    CHECK(twoway_hpke_alg_name((twoway_hpke_alg)7, X25519) == NULL);
    CHECK_EQ_INT(twoway_hpke_alg_from_name(TWOWAY_HPKE_ALG_KDF, "sha1", &id),
                 TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(twoway_hpke_alg_from_name(TWOWAY_HPKE_ALG_KDF, "", &id), TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(twoway_hpke_alg_from_name(TWOWAY_HPKE_ALG_KDF, "sha2566", &id),
                 TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(twoway_hpke_alg_from_name(TWOWAY_HPKE_ALG_KDF, NULL, &id), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_hpke_alg_from_name((twoway_hpke_alg)7, "x25519", &id), TWOWAY_ERR_ARG);
}

/* ------------------------------------------------------------ key files */

static const twoway_symmetric_suite two_suites[] = {{SHA256, AES128}, {SHA384, CHACHA}};

static void test_round_trips(void)
{
    for (size_t k = 0; k < sizeof kems / sizeof kems[0]; k++) {
        twoway_hpke_key *key = test_hpke_generate(twoway_hpke_kem_by_id(kems[k]));
        twoway_key_config cfg, back;
        twoway_hpke_key *loaded = NULL;
        char text[TWOWAY_KEY_FILE_MAX_LEN];
        size_t len = 0;
        if (key == NULL)
            continue;
        CHECK_EQ_INT(twoway_key_config_of_key(&cfg, (uint8_t)(17 * k), key, two_suites, 2),
                     TWOWAY_OK);
        /* the size first, then the text */
        CHECK_EQ_INT(twoway_key_file_encode(&cfg, key, NULL, &len), TWOWAY_ERR_BUFFER);
        size_t need = len;
        len = need - 1;
        CHECK_EQ_INT(twoway_key_file_encode(&cfg, key, text, &len), TWOWAY_ERR_BUFFER);
        CHECK_EQ_UINT(len, need);
        len = sizeof text;
        CHECK_EQ_INT(twoway_key_file_encode(&cfg, key, text, &len), TWOWAY_OK);
        CHECK_EQ_UINT(len, need);
        CHECK_EQ_INT(twoway_key_file_decode(&back, &loaded, text, len), TWOWAY_OK);
        CHECK_EQ_STR(twoway_error_detail(), "");
        CHECK(memcmp(&back, &cfg, sizeof cfg) == 0);
        if (loaded != NULL) {
            uint8_t a[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN], b[TWOWAY_HPKE_MAX_PRIVATE_KEY_LEN];
            size_t al = sizeof a, bl = sizeof b;
            CHECK_EQ_INT(twoway_hpke_key_export_private(key, a, &al), TWOWAY_OK);
            CHECK_EQ_INT(twoway_hpke_key_export_private(loaded, b, &bl), TWOWAY_OK);
            CHECK(al == bl && memcmp(a, b, al) == 0);
        }
        twoway_hpke_key_free(loaded);
        /* save and load: mode 0600 whatever the umask, the same file */
        const char *path = tmp_path("key");
        mode_t old = umask(0);
        CHECK_EQ_INT(twoway_key_file_save(path, &cfg, key), TWOWAY_OK);
        umask(old);
        struct stat st;
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        loaded = NULL;
        CHECK_EQ_INT(twoway_key_file_load(&back, &loaded, path), TWOWAY_OK);
        CHECK(memcmp(&back, &cfg, sizeof cfg) == 0);
        twoway_hpke_key_free(loaded);
        /* encode refuses a configuration that is not the key's */
        twoway_key_config wrong = cfg;
        wrong.public_key[0] ^= 1;
        len = sizeof text;
        CHECK_EQ_INT(twoway_key_file_encode(&wrong, key, text, &len), TWOWAY_ERR_ARG);
        wrong = cfg;
        wrong.suites[1].aead_id = TWOWAY_HPKE_AEAD_EXPORT_ONLY;
        CHECK_EQ_INT(twoway_key_file_encode(&wrong, key, text, &len), TWOWAY_ERR_ARG);
        wrong = cfg;
        wrong.suites[1].kdf_id = 0x0042;
        CHECK_EQ_INT(twoway_key_file_encode(&wrong, key, text, &len), TWOWAY_ERR_ARG);
        /* a public key cannot be written as a key file */
        twoway_hpke_key *pub = test_hpke_public_of(key);
        CHECK_EQ_INT(twoway_key_file_encode(&cfg, pub, text, &len), TWOWAY_ERR_STATE);
        twoway_hpke_key_free(pub);
        twoway_hpke_key_free(key);
        unlink(path);
    }
    /* configurations of keys */
    twoway_key_config cfg;
    twoway_hpke_key *key = test_hpke_generate(twoway_hpke_kem_by_id(X25519));
    const twoway_symmetric_suite twice[] = {{SHA256, AES128}, {SHA256, AES128}};
    CHECK_EQ_INT(twoway_key_config_of_key(&cfg, 1, key, twice, 2), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_config_of_key(&cfg, 1, key, two_suites, 0), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(
        twoway_key_config_of_key(&cfg, 1, key, two_suites, TWOWAY_KEY_CONFIG_MAX_SUITES + 1),
        TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_config_of_key(&cfg, 1, NULL, two_suites, 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_config_of_key(NULL, 1, key, two_suites, 1), TWOWAY_ERR_ARG);
    twoway_hpke_key_free(key);
}

/* The RFC 9458 Appendix A receiver key, written by hand as a key file. */
static const char rfc_key[] =
    "# the key of RFC 9458 Appendix A\n"
    "twoway-private-key 1\r\n"
    "key-id 1\n"
    "  kem X25519\n"
    "suite hkdf-sha256 AES-128-GCM\n"
    "suite sha256 chacha20poly1305\n"
    "\n"
    "public-key 31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155\n"
    "private-key 3c168975674B2FA8E465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a";
/* Its configuration, as RFC 9458 A.1 publishes it (with the list prefix). */
static const uint8_t rfc_config[] = {
    0x00, 0x2d, 0x01, 0x00, 0x20, 0x31, 0xe1, 0xf0, 0x5a, 0x74, 0x01, 0x02, 0x11, 0x52, 0x20, 0xe9,
    0xaf, 0x91, 0x8f, 0x73, 0x86, 0x74, 0xae, 0xc9, 0x5f, 0x54, 0xdb, 0x6e, 0x04, 0xeb, 0x70, 0x5a,
    0xae, 0x8e, 0x79, 0x81, 0x55, 0x00, 0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x03};

static void test_rfc_key(void)
{
    twoway_key_config cfg;
    twoway_hpke_key *key = NULL;
    CHECK_EQ_INT(twoway_key_file_decode(&cfg, &key, rfc_key, sizeof rfc_key - 1), TWOWAY_OK);
    uint8_t list[256];
    size_t len = sizeof list;
    CHECK_EQ_INT(twoway_key_configs_encode(&cfg, 1, list, &len), TWOWAY_OK);
    CHECK(len == sizeof rfc_config && memcmp(list, rfc_config, len) == 0);
    twoway_hpke_key_free(key);
    /* the same text in a ring (which owns the key) exports the same list */
    twoway_keyring *ring = NULL;
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add_key_file(ring, rfc_key, sizeof rfc_key - 1), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 2);
    len = sizeof list;
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, list, &len), TWOWAY_OK);
    CHECK(len == sizeof rfc_config && memcmp(list, rfc_config, len) == 0);
    /* twice: refused whole, nothing added, the rejected copy freed */
    CHECK_EQ_INT(twoway_keyring_add_key_file(ring, rfc_key, sizeof rfc_key - 1), TWOWAY_ERR_ARG);
    CHECK(strstr(twoway_error_detail(), "key id 1") != NULL);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 2);
    /* removing the entries frees the key with the last one (ASan: no leak,
     * no use after free by the remaining entry) */
    CHECK_EQ_INT(twoway_keyring_remove(ring, 1, X25519, SHA256, AES128), TWOWAY_OK);
    len = sizeof list;
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, list, &len), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_remove(ring, 1, X25519, SHA256, CHACHA), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 0);
    /* again, and the ring freed with the key in it */
    CHECK_EQ_INT(twoway_keyring_add_key_file(ring, rfc_key, sizeof rfc_key - 1), TWOWAY_OK);
    twoway_keyring_free(ring);
}

/* One mutation of the RFC key file: the text, the error, the line named. */
typedef struct bad_file {
    const char *what, *text;
    int rc;
    const char *detail;
} bad_file;

#define PK "public-key 31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155\n"
#define SK "private-key 3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a\n"
#define HEAD "twoway-private-key 1\nkey-id 1\nkem x25519\nsuite sha256 aes128gcm\n"

static void test_bad_files(void)
{
    static const bad_file t[] = {
        {"empty", "", TWOWAY_ERR_FORMAT, "empty"},
        {"comments only", "# nothing\n\n", TWOWAY_ERR_FORMAT, "no \"twoway-private-key 1\""},
        {"another magic", "twoway-private-key 2\n" PK SK, TWOWAY_ERR_FORMAT, "line 1: "},
        {"an OpenSSH key", "-----BEGIN OPENSSH PRIVATE KEY-----\n", TWOWAY_ERR_FORMAT,
         "line 1: not a twoway private key file"},
        {"unknown field", HEAD "color blue\n" PK SK, TWOWAY_ERR_FORMAT,
         "line 5: unknown field 'color'"},
        {"field twice", HEAD "key-id 2\n" PK SK, TWOWAY_ERR_FORMAT,
         "line 5: key-id is given twice"},
        {"field without value", HEAD PK "private-key\n", TWOWAY_ERR_FORMAT,
         "line 6: private-key takes one value"},
        {"field with two values", HEAD PK "private-key aa bb\n", TWOWAY_ERR_FORMAT,
         "line 6: private-key takes one value"},
        {"key id 256",
         "twoway-private-key 1\nkey-id 256\nkem x25519\nsuite sha256 aes128gcm\n" PK SK,
         TWOWAY_ERR_FORMAT, "line 2: key-id must be"},
        {"key id -1", "twoway-private-key 1\nkey-id -1\nkem x25519\nsuite sha256 aes128gcm\n" PK SK,
         TWOWAY_ERR_FORMAT, "line 2: key-id must be"},
        {"key id 0x1",
         "twoway-private-key 1\nkey-id 0x1\nkem x25519\nsuite sha256 aes128gcm\n" PK SK,
         TWOWAY_ERR_FORMAT, "line 2: key-id must be"},
        {"unknown KEM", "twoway-private-key 1\nkey-id 1\nkem rsa\nsuite sha256 aes128gcm\n" PK SK,
         TWOWAY_ERR_UNSUPPORTED, "line 3: unknown KEM 'rsa'"},
        {"unknown KDF", HEAD "suite sha1 aes128gcm\n" PK SK, TWOWAY_ERR_UNSUPPORTED,
         "line 5: unknown KDF 'sha1'"},
        {"unknown AEAD", HEAD "suite sha256 des\n" PK SK, TWOWAY_ERR_UNSUPPORTED,
         "line 5: unknown AEAD 'des'"},
        {"export-only suite", HEAD "suite sha256 export-only\n" PK SK, TWOWAY_ERR_UNSUPPORTED,
         "line 5: unknown AEAD 'export-only'"},
        {"suite twice", HEAD "suite sha256 aes128gcm\n" PK SK, TWOWAY_ERR_FORMAT,
         "line 5: the suite sha256 aes128gcm is given twice"},
        {"suite with one value", HEAD "suite sha256\n" PK SK, TWOWAY_ERR_FORMAT,
         "line 5: expected \"suite KDF AEAD\""},
        {"no suite", "twoway-private-key 1\nkey-id 1\nkem x25519\n" PK SK, TWOWAY_ERR_FORMAT,
         "no suite line"},
        {"no key id", "twoway-private-key 1\nkem x25519\nsuite sha256 aes128gcm\n" PK SK,
         TWOWAY_ERR_FORMAT, "key-id is missing"},
        {"no public key", HEAD SK, TWOWAY_ERR_FORMAT, "public-key is missing"},
        {"no private key", HEAD PK, TWOWAY_ERR_FORMAT, "private-key is missing"},
        {"odd hex", HEAD PK "private-key 3c1\n", TWOWAY_ERR_FORMAT,
         "line 6: private-key must be hexadecimal"},
        {"not hex", HEAD "public-key zz\n" SK, TWOWAY_ERR_FORMAT,
         "line 5: public-key must be hexadecimal"},
        {"short private key", HEAD PK "private-key 3c16\n", TWOWAY_ERR_KEY,
         "private-key has 2 bytes; a x25519 key has 32"},
        {"5-byte private key", HEAD PK "private-key 3c16897567\n", TWOWAY_ERR_KEY,
         "private-key has 5 bytes"},
        {"another public key",
         HEAD "public-key 41e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155\n" SK,
         TWOWAY_ERR_KEY, "public-key is not the public key of private-key"},
        {"a P-256 key of X25519 bytes",
         "twoway-private-key 1\nkey-id 1\nkem p256\nsuite sha256 aes128gcm\n" PK "private-key "
         "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n",
         TWOWAY_ERR_KEY, "private-key is not a valid p256 private key"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        twoway_hpke_key *key = (twoway_hpke_key *)&key; /* must be set to NULL */
        twoway_key_config cfg;
        int rc = twoway_key_file_decode(&cfg, &key, t[i].text, strlen(t[i].text));
        if (!CHECK_EQ_INT(rc, t[i].rc))
            fprintf(stderr, "  case: %s\n", t[i].what);
        CHECK(key == NULL);
        if (!CHECK(strstr(twoway_error_detail(), t[i].detail) != NULL))
            fprintf(stderr, "  case %s: detail '%s', expected '%s'\n", t[i].what,
                    twoway_error_detail(), t[i].detail);
        twoway_hpke_key_free(rc == TWOWAY_OK ? key : NULL);
    }
    /* a NUL inside, too long, NULL */
    twoway_hpke_key *key = NULL;
    char text[TWOWAY_KEY_FILE_MAX_LEN + 2];
    memset(text, '#', sizeof text);
    CHECK_EQ_INT(twoway_key_file_decode(NULL, &key, "twoway\0", 7), TWOWAY_ERR_FORMAT);
    CHECK(strstr(twoway_error_detail(), "binary") != NULL);
    CHECK_EQ_INT(twoway_key_file_decode(NULL, &key, text, sizeof text), TWOWAY_ERR_TOO_BIG);
    CHECK_EQ_INT(twoway_key_file_decode(NULL, NULL, rfc_key, sizeof rfc_key - 1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_file_decode(NULL, &key, NULL, 3), TWOWAY_ERR_ARG);
    /* a file of exactly the limit is read (comments), and fails for its content */
    size_t rlen = sizeof rfc_key - 1;
    memcpy(text + TWOWAY_KEY_FILE_MAX_LEN - rlen, rfc_key, rlen);
    text[TWOWAY_KEY_FILE_MAX_LEN - rlen - 1] = '\n';
    CHECK_EQ_INT(twoway_key_file_decode(NULL, &key, text, TWOWAY_KEY_FILE_MAX_LEN), TWOWAY_OK);
    twoway_hpke_key_free(key);
    key = NULL;

    /* every truncation of a good file: refused, or (cut inside the last
     * comment-free value) a key that does not match; never a crash */
    char good[TWOWAY_KEY_FILE_MAX_LEN];
    twoway_key_config cfg;
    CHECK_EQ_INT(twoway_key_file_decode(&cfg, &key, rfc_key, sizeof rfc_key - 1), TWOWAY_OK);
    size_t len = sizeof good;
    CHECK_EQ_INT(twoway_key_file_encode(&cfg, key, good, &len), TWOWAY_OK);
    twoway_hpke_key_free(key);
    size_t accepted = 0;
    for (size_t n = 0; n < len; n++) {
        key = NULL;
        int rc = twoway_key_file_decode(NULL, &key, good, n);
        accepted += rc == TWOWAY_OK;
        twoway_hpke_key_free(key);
    }
    /* only the copy without its final newline parses */
    CHECK_EQ_UINT(accepted, 1);
    /* every byte changed to every other printable class: no crash, and a
     * change in a key value is never accepted with another key */
    for (size_t n = 0; n < len; n++) {
        char copy[TWOWAY_KEY_FILE_MAX_LEN];
        static const char subst[] = {'0', 'f', ' ', '\n', '#', 'x', '\r', '\t'};
        for (size_t s = 0; s < sizeof subst; s++) {
            if (good[n] == subst[s])
                continue;
            memcpy(copy, good, len);
            copy[n] = subst[s];
            key = NULL;
            twoway_key_config c2;
            int rc = twoway_key_file_decode(&c2, &key, copy, len);
            /* what still parses is the same key (a key id may change, a
             * suite line may become a comment) */
            if (rc == TWOWAY_OK)
                CHECK(c2.public_key_len == 32 && memcmp(c2.public_key, cfg.public_key, 32) == 0 &&
                      c2.n_suites >= 1);
            twoway_hpke_key_free(key);
        }
    }
}

static void test_files(void)
{
    twoway_hpke_key *key = NULL;
    twoway_keyring *ring = NULL;
    twoway_key_config cfg;
    const char *missing = tmp_path("no-such-key");
    CHECK_EQ_INT(twoway_key_file_load(&cfg, &key, missing), TWOWAY_ERR_IO);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK(strstr(twoway_error_detail(), missing) != NULL);
    CHECK(strstr(twoway_error_detail(), strerror(ENOENT)) != NULL);
    /* a file that is too large for a key file */
    const char *huge = tmp_path("huge");
    FILE *f = fopen(huge, "w");
    if (CHECK(f != NULL)) {
        for (unsigned i = 0; i < TWOWAY_KEY_FILE_MAX_LEN + 1; i++)
            fputc('#', f);
        fclose(f);
    }
    CHECK_EQ_INT(twoway_key_file_load(&cfg, &key, huge), TWOWAY_ERR_TOO_BIG);
    CHECK(strstr(twoway_error_detail(), "larger than") != NULL);
    /* a malformed file: the path and the line */
    const char *bad = tmp_path("bad");
    f = fopen(bad, "w");
    if (CHECK(f != NULL)) {
        fputs("twoway-private-key 1\nkey-id 1\nkem x25519\nsuite md5 aes128gcm\n", f);
        fclose(f);
    }
    CHECK_EQ_INT(twoway_key_file_load(&cfg, &key, bad), TWOWAY_ERR_UNSUPPORTED);
    char want[200];
    snprintf(want, sizeof want, "%s:4: unknown KDF 'md5'", bad);
    CHECK(strstr(twoway_error_detail(), want) != NULL);
    /* into a ring: several files, one ring; the same key id with another
     * suite is fine, the same entry twice is not */
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    const char *k1 = tmp_path("k1"), *k2 = tmp_path("k2");
    twoway_hpke_key *a = test_hpke_generate(twoway_hpke_kem_by_id(X25519));
    twoway_hpke_key *b = test_hpke_generate(twoway_hpke_kem_by_id(P256));
    twoway_key_config ca, cb;
    CHECK_EQ_INT(twoway_key_config_of_key(&ca, 1, a, two_suites, 2), TWOWAY_OK);
    CHECK_EQ_INT(twoway_key_config_of_key(&cb, 1, b, two_suites, 1), TWOWAY_OK);
    CHECK_EQ_INT(twoway_key_file_save(k1, &ca, a), TWOWAY_OK);
    CHECK_EQ_INT(twoway_key_file_save(k2, &cb, b), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_load_key_file(ring, k1), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_load_key_file(ring, k2), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 3);
    CHECK_EQ_INT(twoway_keyring_load_key_file(ring, k1), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_keyring_load_key_file(ring, missing), TWOWAY_ERR_IO);
    CHECK_EQ_INT(twoway_keyring_load_key_file(NULL, k1), TWOWAY_ERR_ARG);
    CHECK_EQ_UINT(twoway_keyring_count(ring), 3);
    /* a borrowed key beside the owned ones stays the caller's */
    twoway_hpke_key *c = test_hpke_generate(twoway_hpke_kem_by_id(X25519));
    twoway_key_config cc;
    CHECK_EQ_INT(twoway_key_config_of_key(&cc, 2, c, two_suites, 1), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add_config(ring, &cc, c), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add_config(ring, &cc, c), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_keyring_add_config(ring, &ca, c), TWOWAY_ERR_ARG); /* not c's */
    CHECK_EQ_UINT(twoway_keyring_count(ring), 4);
    /* a request to each of them opens */
    uint8_t list[1024];
    size_t list_len = sizeof list;
    CHECK_EQ_INT(twoway_keyring_export_configs(ring, list, &list_len), TWOWAY_OK);
    for (int key_id = 1; key_id <= 2; key_id++) {
        for (int kem = 0; kem < 2; kem++) {
            static const uint8_t media[] = TWOWAY_OHTTP_REQUEST;
            twoway_sealer *s = NULL;
            twoway_key_config pick;
            twoway_hpke_suite suite;
            if (key_id == 2 && kem == 1)
                continue;
            /* select by key id; the KEM by trying each list entry's order */
            int rc = twoway_key_configs_select(&pick, &suite, list, list_len, key_id, 0, 0);
            CHECK_EQ_INT(rc, TWOWAY_OK);
            CHECK_EQ_UINT(pick.key_id, key_id);
            rc = twoway_request_sealer_new_for_configs(&s, list, list_len, key_id, 0, 0, media,
                                                       sizeof media - 1, NULL);
            CHECK_EQ_INT(rc, TWOWAY_OK);
            uint8_t msg[256], pt[256];
            size_t n = sizeof msg, pn = sizeof pt;
            CHECK_EQ_INT(twoway_sealer_final(s, msg, &n, (const uint8_t *)"hi", 2), TWOWAY_OK);
            twoway_opener *o = NULL;
            CHECK_EQ_INT(twoway_request_opener_new(&o, ring, media, sizeof media - 1, NULL),
                         TWOWAY_OK);
            CHECK_EQ_INT(twoway_opener_final(o, pt, &pn, msg, n), TWOWAY_OK);
            CHECK(pn == 2 && memcmp(pt, "hi", 2) == 0);
            twoway_opener_free(o);
            twoway_sealer_free(s);
        }
    }
    twoway_keyring_free(ring); /* frees a and b's copies; c is ours */
    twoway_hpke_key_free(a);
    twoway_hpke_key_free(b);
    twoway_hpke_key_free(c);
    /* saving where it cannot */
    twoway_hpke_key *d = test_hpke_generate(twoway_hpke_kem_by_id(X25519));
    twoway_key_config cd;
    CHECK_EQ_INT(twoway_key_config_of_key(&cd, 3, d, two_suites, 1), TWOWAY_OK);
    CHECK_EQ_INT(twoway_key_file_save(tmp_path("no/such/dir/key"), &cd, d), TWOWAY_ERR_IO);
    CHECK(strstr(twoway_error_detail(), "no/such/dir/key") != NULL);
    CHECK_EQ_INT(twoway_key_file_save("", &cd, d), TWOWAY_ERR_ARG);
    twoway_hpke_key_free(d);
    unlink(k1);
    unlink(k2);
    unlink(bad);
    unlink(huge);
}

/* ------------------------------------------------------ configurations */

static void test_select(void)
{
    twoway_hpke_key *x = test_hpke_generate(twoway_hpke_kem_by_id(X25519));
    twoway_hpke_key *p = test_hpke_generate(twoway_hpke_kem_by_id(P256));
    twoway_key_config cfgs[2], got;
    twoway_hpke_suite suite;
    const twoway_symmetric_suite sx[] = {{SHA384, CHACHA}, {SHA256, AES128}};
    const twoway_symmetric_suite sp[] = {{SHA256, AES128}};
    CHECK_EQ_INT(twoway_key_config_of_key(&cfgs[0], 5, x, sx, 2), TWOWAY_OK);
    CHECK_EQ_INT(twoway_key_config_of_key(&cfgs[1], 9, p, sp, 1), TWOWAY_OK);
    uint8_t list[1024];
    size_t len = sizeof list;
    CHECK_EQ_INT(twoway_key_configs_encode(cfgs, 2, list, &len), TWOWAY_OK);
    /* any: the first configuration, its first pair */
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len, TWOWAY_ANY_KEY_ID, 0, 0),
                 TWOWAY_OK);
    CHECK(got.key_id == 5 && suite.kem->id == X25519 && suite.kdf->id == SHA384 &&
          suite.aead->id == CHACHA);
    /* a pair by its AEAD, by its KDF, both */
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len, TWOWAY_ANY_KEY_ID, 0, AES128),
                 TWOWAY_OK);
    CHECK(got.key_id == 5 && suite.kdf->id == SHA256 && suite.aead->id == AES128);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len, 9, SHA256, AES128), TWOWAY_OK);
    CHECK(got.key_id == 9 && suite.kem->id == P256);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len, 9, SHA384, 0),
                 TWOWAY_ERR_UNSUPPORTED);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len, 7, 0, 0),
                 TWOWAY_ERR_KEY_MISMATCH);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len, 256, 0, 0), TWOWAY_ERR_ARG);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len, -2, 0, 0), TWOWAY_ERR_ARG);
    /* malformed lists: refused whole, even when a good entry comes first */
    uint8_t bad[1024];
    memcpy(bad, list, len);
    bad[len - 1] = 0; /* the last entry's AEAD id becomes 0x0000 (unknown): skipped */
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, bad, len, 9, 0, 0),
                 TWOWAY_ERR_KEY_MISMATCH);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, len - 1, 5, 0, 0),
                 TWOWAY_ERR_FORMAT);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, list, 0, 5, 0, 0), TWOWAY_ERR_FORMAT);
    CHECK_EQ_INT(twoway_key_configs_select(&got, &suite, NULL, 3, 5, 0, 0), TWOWAY_ERR_ARG);
    /* the sealer made from the list carries that configuration's header */
    static const uint8_t media[] = "application/x-test request";
    twoway_sealer *s = NULL;
    uint8_t msg[512];
    size_t n = sizeof msg;
    CHECK_EQ_INT(twoway_request_sealer_new_for_configs(&s, list, len, 9, 0, 0, media,
                                                       sizeof media - 1, NULL),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_sealer_final(s, msg, &n, NULL, 0), TWOWAY_OK);
    twoway_header h;
    CHECK_EQ_INT(twoway_header_parse(&h, msg, n), TWOWAY_OK);
    CHECK(h.key_id == 9 && h.kem_id == P256 && h.kdf_id == SHA256 && h.aead_id == AES128);
    twoway_sealer_free(s);
    s = (twoway_sealer *)&s;
    CHECK_EQ_INT(twoway_request_sealer_new_for_configs(&s, list, len, 3, 0, 0, media,
                                                       sizeof media - 1, NULL),
                 TWOWAY_ERR_KEY_MISMATCH);
    CHECK(s == NULL);
    twoway_hpke_key_free(x);
    twoway_hpke_key_free(p);
}

/* --------------------------------------------------- openers and contexts */

static void test_opener_facts(void)
{
    static const uint8_t media[] = TWOWAY_OHTTP_CHUNKED_REQUEST;
    static const uint8_t rmedia[] = TWOWAY_OHTTP_CHUNKED_RESPONSE;
    twoway_keyring *ring = NULL;
    CHECK_EQ_INT(twoway_keyring_new(&ring), TWOWAY_OK);
    CHECK_EQ_INT(twoway_keyring_add_key_file(ring, rfc_key, sizeof rfc_key - 1), TWOWAY_OK);
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    opt.chunked = 1;
    opt.max_chunk_len = 10;
    twoway_sealer *s = NULL;
    uint8_t msg[1024], pt[1024];
    size_t n = sizeof msg, pn;
    CHECK_EQ_INT(twoway_request_sealer_new_for_configs(&s, rfc_config, sizeof rfc_config, 1, 0,
                                                       CHACHA, media, sizeof media - 1, &opt),
                 TWOWAY_OK);
    CHECK_EQ_INT(twoway_sealer_final(s, msg, &n, (const uint8_t *)"0123456789abcdefghij", 20),
                 TWOWAY_OK);
    /* chunks: 10, 10, final. The count grows chunk by chunk. */
    twoway_opener *o = NULL;
    twoway_options oo = TWOWAY_OPTIONS_INIT;
    oo.chunked = 1;
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, media, sizeof media - 1, &oo), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_opener_authenticated(o), 0);
    size_t first = 7 + 32 + 1 + 10 + 16; /* hdr, enc, one chunk */
    pn = sizeof pt;
    CHECK_EQ_INT(twoway_opener_update(o, pt, &pn, msg, first), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_opener_authenticated(o), 1);
    pn = sizeof pt;
    CHECK_EQ_INT(twoway_opener_final(o, pt, &pn, msg + first, n - first), TWOWAY_OK);
    CHECK_EQ_UINT(twoway_opener_authenticated(o), 3);
    /* a saved context knows its media type and suite; a live one serves any */
    size_t mlen = 99;
    CHECK(twoway_context_response_media_type(twoway_sealer_context(s), &mlen) == NULL);
    CHECK_EQ_UINT(mlen, 0);
    CHECK(twoway_context_suite(twoway_sealer_context(s))->aead->id == CHACHA);
    uint8_t blob[TWOWAY_CONTEXT_BLOB_MAX];
    size_t blen = sizeof blob;
    CHECK_EQ_INT(
        twoway_context_save(twoway_opener_context(o), rmedia, sizeof rmedia - 1, blob, &blen),
        TWOWAY_OK);
    twoway_context *loaded = NULL;
    CHECK_EQ_INT(twoway_context_load(&loaded, blob, blen), TWOWAY_OK);
    const uint8_t *m = twoway_context_response_media_type(loaded, &mlen);
    CHECK(m != NULL && mlen == sizeof rmedia - 1 && memcmp(m, rmedia, mlen) == 0);
    CHECK(twoway_context_suite(loaded)->kdf->id == SHA256);
    CHECK(twoway_context_suite(NULL) == NULL);
    CHECK(twoway_context_response_media_type(loaded, NULL) == NULL);
    twoway_context_free(loaded);
    twoway_opener_free(o);

    /* a refused request still tells what it named */
    twoway_header h;
    uint8_t altered[1024];
    memcpy(altered, msg, n);
    altered[0] = 42; /* key id 42: no such key */
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, media, sizeof media - 1, &oo), TWOWAY_OK);
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_ERR_STATE);
    pn = sizeof pt;
    CHECK_EQ_INT(twoway_opener_final(o, pt, &pn, altered, n), TWOWAY_ERR_KEY_MISMATCH);
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_OK);
    CHECK(h.key_id == 42 && h.kem_id == X25519 && h.kdf_id == SHA256 && h.aead_id == CHACHA);
    twoway_opener_free(o);
    memcpy(altered, msg, n);
    altered[7 + 32 + 3] ^= 1; /* the first chunk */
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, media, sizeof media - 1, &oo), TWOWAY_OK);
    pn = sizeof pt;
    CHECK_EQ_INT(twoway_opener_final(o, pt, &pn, altered, n), TWOWAY_ERR_AUTH);
    CHECK_EQ_INT(twoway_opener_header(o, &h), TWOWAY_OK);
    CHECK(h.key_id == 1);
    CHECK_EQ_UINT(twoway_opener_authenticated(o), 0);
    twoway_opener_free(o);
    memcpy(altered, msg, n);
    altered[first + 3] ^= 1; /* the second chunk: one authenticated before */
    CHECK_EQ_INT(twoway_request_opener_new(&o, ring, media, sizeof media - 1, &oo), TWOWAY_OK);
    pn = sizeof pt;
    CHECK_EQ_INT(twoway_opener_final(o, pt, &pn, altered, n), TWOWAY_ERR_AUTH);
    CHECK_EQ_UINT(twoway_opener_authenticated(o), 1);
    twoway_opener_free(o);
    CHECK_EQ_UINT(twoway_opener_authenticated(NULL), 0);
    twoway_sealer_free(s);
    twoway_keyring_free(ring);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_keyfile.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_names();
    test_round_trips();
    test_rfc_key();
    test_bad_files();
    test_files();
    test_select();
    test_opener_facts();
    rmdir(tmpdir);
    return test_summary("keyfile");
}
