/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: OpenSSH key formats of libsecureio
 * (include/secureio/identity.h): secureio_identity_decode (the
 * openssh-key-v1 private key file), secureio_public_key_parse (one
 * "ssh-ed25519 AAAA… comment" line) and secureio_keylist_parse
 * (authorized_keys text).
 *
 * Input: the bytes, read once as each of the three, and once more as the
 * binary openssh-key-v1 blob (armored by the harness as ssh-keygen would).
 *
 * Every call must either fail with a documented error code or give results
 * that keep these invariants (abort() otherwise):
 *  - a decoded identity re-encodes, with its own check integer (the
 *    test-only entry point of src/secureio/sshkey.h), to a text that decodes
 *    to the same public key, comment and check integer, and re-encodes to
 *    the same text; that text differs from the input only in blanks and
 *    line breaks (the decoder is lenient in layout only); the public
 *    encoder (random check integer) gives a text of the same length that
 *    decodes to the same key; its signature verifies under its public key;
 *  - a blob that decodes re-encodes, with its check integer, to exactly the
 *    text the harness made of it (one key, one text);
 *  - a parsed public line formats (with its comment) to a line that parses
 *    to the same key and comment;
 *  - a key list: OK (bad_line 0, at most one key per line, parsing it again
 *    adds nothing) or FORMAT (bad_line within the text, nothing added).
 */
#include <secureio/identity.h>

#include "secureio/sshkey.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_sshkey"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* a and b are equal once spaces, tabs, CRs and LFs are removed */
static int same_but_blanks(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a_len && is_ws(a[i]))
            i++;
        while (j < b_len && is_ws(b[j]))
            j++;
        if (i == a_len || j == b_len)
            return i == a_len && j == b_len;
        if (a[i++] != b[j++])
            return 0;
    }
}

static void fuzz_private(const char *text, size_t size)
{
    secureio_identity *id = NULL, *again = NULL;
    int rc = secureio_identity_decode(&id, text, size);
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_FORMAT || rc == SECUREIO_ERR_ENCRYPTED_KEY ||
          rc == SECUREIO_ERR_UNSUPPORTED || rc == SECUREIO_ERR_LIMIT || rc == SECUREIO_ERR_NOMEM);
    if (rc != SECUREIO_OK) {
        CHECK(id == NULL);
        return;
    }
    CHECK(id != NULL);
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], pk2[SECUREIO_PUBLIC_KEY_LEN];
    secureio_identity_public_key(id, pk);
    const char *comment = secureio_identity_comment(id);
    CHECK(strlen(comment) <= SECUREIO_MAX_COMMENT_LEN);
    uint32_t check = sio_sshkey_testing_check(id);

    size_t need = 0;
    CHECK(sio_sshkey_testing_encode(id, NULL, check, NULL, &need) == SECUREIO_ERR_BUFFER);
    char *out = malloc(need), *out2 = malloc(need);
    CHECK(out != NULL && out2 != NULL);
    size_t out_len = need;
    CHECK(sio_sshkey_testing_encode(id, NULL, check, out, &out_len) == SECUREIO_OK);
    CHECK(out_len == need);
    /* The decoder is free only in layout (blank lines and blanks around
     * the armor, CRs, line lengths): base64 is canonical and every byte of
     * the blob is determined by the key, comment and check integer. */
    CHECK(same_but_blanks(text, size, out, out_len));

    CHECK(secureio_identity_decode(&again, out, out_len) == SECUREIO_OK);
    secureio_identity_public_key(again, pk2);
    CHECK(memcmp(pk, pk2, sizeof pk) == 0);
    CHECK(strcmp(comment, secureio_identity_comment(again)) == 0);
    CHECK(sio_sshkey_testing_check(again) == check);
    size_t out2_len = need;
    CHECK(sio_sshkey_testing_encode(again, NULL, check, out2, &out2_len) == SECUREIO_OK);
    CHECK(out2_len == out_len && memcmp(out, out2, out_len) == 0);
    secureio_identity_free(again);
    again = NULL;

    /* the public encoder: another check integer, same length, same key */
    out2_len = need;
    CHECK(secureio_identity_encode(id, NULL, out2, &out2_len) == SECUREIO_OK);
    CHECK(out2_len == out_len);
    CHECK(secureio_identity_decode(&again, out2, out2_len) == SECUREIO_OK);
    secureio_identity_public_key(again, pk2);
    CHECK(memcmp(pk, pk2, sizeof pk) == 0);
    secureio_identity_free(again);

    uint8_t sig[SECUREIO_SIGNATURE_LEN];
    CHECK(secureio_identity_sign(id, sig, (const uint8_t *)text, size) == SECUREIO_OK);
    CHECK(secureio_signature_verify(pk, sig, (const uint8_t *)text, size) == SECUREIO_OK);

    free(out);
    free(out2);
    secureio_identity_free(id);
}

/* The input as the openssh-key-v1 blob itself, armored here the way
 * ssh-keygen does, so that the fuzzer reaches the binary parser directly.
 * What decodes must re-encode (with its check integer) to exactly that
 * text. */
static void fuzz_blob(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return;
    size_t b64_room = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_room), *text = malloc(b64_room + b64_room / 70 + 128);
    CHECK(b64 != NULL && text != NULL);
    sodium_bin2base64(b64, b64_room, data, size, sodium_base64_VARIANT_ORIGINAL);
    size_t b64_len = strlen(b64), len = 0;
    static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n",
                      end[] = "-----END OPENSSH PRIVATE KEY-----\n";
    memcpy(text, begin, sizeof begin - 1);
    len += sizeof begin - 1;
    for (size_t i = 0; i < b64_len; i += 70) {
        size_t n = b64_len - i < 70 ? b64_len - i : 70;
        memcpy(text + len, b64 + i, n);
        len += n;
        text[len++] = '\n';
    }
    memcpy(text + len, end, sizeof end - 1);
    len += sizeof end - 1;

    secureio_identity *id = NULL;
    int rc = secureio_identity_decode(&id, text, len);
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_FORMAT || rc == SECUREIO_ERR_ENCRYPTED_KEY ||
          rc == SECUREIO_ERR_UNSUPPORTED || rc == SECUREIO_ERR_NOMEM);
    if (rc == SECUREIO_OK) {
        char *out = malloc(len);
        size_t out_len = len;
        CHECK(out != NULL);
        CHECK(sio_sshkey_testing_encode(id, NULL, sio_sshkey_testing_check(id), out, &out_len) ==
              SECUREIO_OK);
        CHECK(out_len == len && memcmp(out, text, len) == 0);
        free(out);
    } else {
        CHECK(id == NULL);
    }
    secureio_identity_free(id);
    free(b64);
    free(text);
}

static void fuzz_public(const char *line, size_t size)
{
    uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], pk2[SECUREIO_PUBLIC_KEY_LEN];
    char *comment = malloc(size + 1), *comment2 = malloc(size + 1);
    CHECK(comment != NULL && comment2 != NULL);
    int rc = secureio_public_key_parse(pk, line, size, comment, size + 1);
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_FORMAT || rc == SECUREIO_ERR_UNSUPPORTED);
    if (rc != SECUREIO_OK) {
        CHECK(comment[0] == '\0');
        goto done;
    }
    size_t comment_len = strlen(comment);
    CHECK(comment_len < size);

    char out[SECUREIO_MAX_COMMENT_LEN + 128];
    size_t out_len = sizeof out;
    rc = secureio_public_key_format(pk, comment, out, &out_len);
    if (comment_len > SECUREIO_MAX_COMMENT_LEN) {
        CHECK(rc == SECUREIO_ERR_ARG);
        goto done;
    }
    CHECK(rc == SECUREIO_OK);
    CHECK(out_len == 12 + 68 + (comment_len > 0 ? 1 + comment_len : 0) + 1);
    CHECK(secureio_public_key_parse(pk2, out, out_len, comment2, size + 1) == SECUREIO_OK);
    CHECK(memcmp(pk, pk2, sizeof pk) == 0);
    CHECK(strcmp(comment, comment2) == 0);

    char fp[SECUREIO_FINGERPRINT_LEN];
    secureio_public_key_fingerprint(pk, fp);
    CHECK(strlen(fp) == 7 + 43 && memcmp(fp, "SHA256:", 7) == 0);
done:
    free(comment);
    free(comment2);
}

static void fuzz_list(const char *text, size_t size)
{
    secureio_keylist *list = NULL;
    CHECK(secureio_keylist_new(&list) == SECUREIO_OK);
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    if (size > 0 && text[size - 1] != '\n')
        lines++;

    size_t bad_line = 12345;
    int rc = secureio_keylist_parse(list, text, size, &bad_line);
    CHECK(rc == SECUREIO_OK || rc == SECUREIO_ERR_FORMAT || rc == SECUREIO_ERR_NOMEM);
    if (rc == SECUREIO_ERR_FORMAT) {
        CHECK(bad_line >= 1 && bad_line <= lines);
        CHECK(secureio_keylist_count(list) == 0);
    } else if (rc == SECUREIO_OK) {
        CHECK(bad_line == 0);
        size_t n = secureio_keylist_count(list);
        CHECK(n <= lines);
        CHECK(secureio_keylist_parse(list, text, size, &bad_line) == SECUREIO_OK);
        CHECK(secureio_keylist_count(list) == n);
    }
    secureio_keylist_free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libFuzzer's data is a heap block of exactly size bytes: ASan sees any
     * read past it. */
    const char *text = (const char *)data;
    fuzz_private(text, size);
    fuzz_blob(data, size);
    fuzz_public(text, size);
    fuzz_list(text, size);
    return 0;
}
