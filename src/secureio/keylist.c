/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key lists: the set of Ed25519 public keys a peer is authorized by, read
 * from authorized_keys-style text (include/secureio/identity.h,
 * docs/IDENTITY.md).
 *
 * The keys are kept in insertion order in a growable array. Adding checks
 * for duplicates through a hash index (SipHash with a key random per list,
 * open addressing, at most half full), so loading n keys costs O(n) and
 * not O(n^2); contains() does not use the index: it compares the key with
 * every entry in constant time, so its time depends only on the list's
 * size.
 */
#include "common/detail.h"
#include "keypath.h"
#include "common/util.h"
#include "secureio/sshkey.h"

#include <secureio/identity.h>

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Largest key list file read by secureio_keylist_load(). */
#define KEYLIST_MAX_FILE_LEN ((size_t)SECUREIO_MAX_KEY_FILE_LEN * 16u)
/* Slots are 32-bit indexes + 1; the index is at most half full. */
#define KEYLIST_MAX_KEYS ((size_t)1 << 30)

struct secureio_keylist {
    uint8_t (*keys)[SECUREIO_PUBLIC_KEY_LEN];
    size_t n, cap;
    uint32_t *slots; /* 0: empty, else index + 1 into keys */
    size_t n_slots;  /* a power of two, or 0 */
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

int secureio_keylist_new(secureio_keylist **out)
{
    if (out == NULL)
        return SECUREIO_ERR_ARG;
    *out = NULL;
    int rc = sio_sodium_ready();
    if (rc != SECUREIO_OK)
        return rc;
    secureio_keylist *list = calloc(1, sizeof *list);
    if (list == NULL)
        return SECUREIO_ERR_NOMEM;
    randombytes_buf(list->hash_key, sizeof list->hash_key);
    *out = list;
    return SECUREIO_OK;
}

void secureio_keylist_free(secureio_keylist *list)
{
    if (list == NULL)
        return;
    free(list->keys);
    free(list->slots);
    sodium_memzero(list, sizeof *list);
    free(list);
}

size_t secureio_keylist_count(const secureio_keylist *list)
{
    return list == NULL ? 0 : list->n;
}

int secureio_keylist_contains(const secureio_keylist *list,
                              const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    if (list == NULL || pk == NULL)
        return 0;
    unsigned found = 0;
    for (size_t i = 0; i < list->n; i++) /* sodium_memcmp: 0 or -1 */
        found |= (unsigned)(sodium_memcmp(list->keys[i], pk, SECUREIO_PUBLIC_KEY_LEN) + 1);
    return found != 0;
}

static size_t slot_of(const secureio_keylist *list, const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, pk, SECUREIO_PUBLIC_KEY_LEN, list->hash_key);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof h; i++)
        v = v << 8 | h[i];
    return (size_t)(v & (list->n_slots - 1));
}

/* The slot holding pk, or the empty slot where it would go. */
static size_t find_slot(const secureio_keylist *list, const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    size_t i = slot_of(list, pk);
    while (list->slots[i] != 0 &&
           memcmp(list->keys[list->slots[i] - 1], pk, SECUREIO_PUBLIC_KEY_LEN) != 0)
        i = (i + 1) & (list->n_slots - 1);
    return i;
}

/* Rebuilds the index over keys[0..n) (the keys are distinct). */
static void reindex(secureio_keylist *list)
{
    memset(list->slots, 0, list->n_slots * sizeof *list->slots);
    for (size_t k = 0; k < list->n; k++)
        list->slots[find_slot(list, list->keys[k])] = (uint32_t)(k + 1);
}

static int add_key(secureio_keylist *list, const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    if (list->n_slots == 0 || (list->n + 1) * 2 > list->n_slots) {
        if (list->n >= KEYLIST_MAX_KEYS)
            return SECUREIO_ERR_LIMIT;
        size_t n_slots = list->n_slots == 0 ? 16 : list->n_slots * 2;
        uint32_t *slots = calloc(n_slots, sizeof *slots);
        if (slots == NULL)
            return SECUREIO_ERR_NOMEM;
        free(list->slots);
        list->slots = slots;
        list->n_slots = n_slots;
        reindex(list);
    }
    size_t i = find_slot(list, pk);
    if (list->slots[i] != 0)
        return SECUREIO_OK; /* already there */
    if (list->n == list->cap) {
        size_t cap = list->cap == 0 ? 8 : list->cap * 2;
        if (cap > SIZE_MAX / sizeof *list->keys)
            return SECUREIO_ERR_LIMIT;
        void *keys = realloc(list->keys, cap * sizeof *list->keys);
        if (keys == NULL)
            return SECUREIO_ERR_NOMEM;
        list->keys = keys;
        list->cap = cap;
    }
    memcpy(list->keys[list->n], pk, SECUREIO_PUBLIC_KEY_LEN);
    list->n++;
    list->slots[i] = (uint32_t)list->n;
    return SECUREIO_OK;
}

int secureio_keylist_add(secureio_keylist *list, const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN])
{
    if (list == NULL || pk == NULL)
        return SECUREIO_ERR_ARG;
    return add_key(list, pk);
}

/* ------------------------------------------------------ authorized_keys */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int token_is(const char *tok, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len == n && memcmp(tok, word, n) == 0;
}

static int has_prefix(const char *tok, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(tok, prefix, n) == 0;
}

/* A key type name of OpenSSH other than ssh-ed25519 (ssh-rsa, ssh-dss,
 * ecdsa-sha2-*, sk-*@openssh.com, certificates, …). No authorized_keys
 * option starts like this. */
static int is_other_key_type(const char *tok, size_t len)
{
    return !token_is(tok, len, "ssh-ed25519") &&
           (has_prefix(tok, len, "ssh-") || has_prefix(tok, len, "ecdsa-") ||
            has_prefix(tok, len, "sk-") || has_prefix(tok, len, "x509v3-"));
}

/*
 * authorized_keys options (sshd(8), AUTHORIZED_KEYS FILE FORMAT), and what
 * they mean here. A line is used only when each of its options is one that
 * does not restrict who the key is or where it may come from; the others
 * skip the line, as sshd skips a line with an option it does not know:
 *
 *   no effect (they govern ssh features secureio does not have):
 *     agent-forwarding, no-agent-forwarding, port-forwarding,
 *     no-port-forwarding, pty, no-pty, user-rc, no-user-rc, X11-forwarding,
 *     no-X11-forwarding, restrict, no-touch-required, verify-required,
 *     environment="", permitopen="", permitlisten="", tunnel=""
 *   the line is skipped:
 *     cert-authority, principals="" (a certificate authority, not a key),
 *     from="" (secureio does not see addresses), expiry-time="" (nor a
 *     wall clock), command="" (the key was meant for one command only),
 *     and any option sshd does not know.
 */
static const char *const harmless_flags[] = {"agent-forwarding",
                                             "no-agent-forwarding",
                                             "port-forwarding",
                                             "no-port-forwarding",
                                             "pty",
                                             "no-pty",
                                             "user-rc",
                                             "no-user-rc",
                                             "x11-forwarding",
                                             "no-x11-forwarding",
                                             "restrict",
                                             "no-touch-required",
                                             "verify-required"};
static const char *const harmless_values[] = {"environment", "permitopen", "permitlisten",
                                              "tunnel"};

static int name_is(const char *tok, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = tok[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* 1 if every option of opts[0..len) is harmless (see above), 0 if the line
 * must be skipped (a restricting or unknown option, or broken quoting). */
static int options_ok(const char *opts, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t s = i;
        while (i < len && opts[i] != ',' && opts[i] != '=')
            i++;
        size_t name_len = i - s;
        int has_value = i < len && opts[i] == '=';
        if (has_value) {
            i++;
            if (i >= len || opts[i] != '"')
                return 0;
            for (i++; i < len && opts[i] != '"'; i++)
                if (opts[i] == '\\' && i + 1 < len && opts[i + 1] == '"')
                    i++;
            if (i >= len)
                return 0; /* an unterminated quote */
            i++;
        }
        int ok = 0;
        if (has_value) {
            for (size_t k = 0; k < UTIL_ARRAY_LEN(harmless_values) && !ok; k++)
                ok = name_is(opts + s, name_len, harmless_values[k]);
        } else {
            for (size_t k = 0; k < UTIL_ARRAY_LEN(harmless_flags) && !ok; k++)
                ok = name_is(opts + s, name_len, harmless_flags[k]);
        }
        if (!ok)
            return 0;
        if (i < len && opts[i] != ',')
            return 0;
        if (i < len)
            i++; /* the comma */
        if (i == len && opts[len - 1] == ',')
            return 0; /* a trailing comma */
    }
    return 1;
}

/*
 * Where the ssh-ed25519 key of line[0..len) starts (len if it holds none):
 * either the first word, or the first word after an options prefix whose
 * options allow it (options_ok). The options end at the first blank
 * outside double quotes (a backslash escapes a quote inside them), as sshd
 * reads them.
 */
static size_t ed25519_key_start(const char *line, size_t len)
{
    size_t e = 0;
    while (e < len && !is_blank(line[e]))
        e++;
    if (token_is(line, e, "ssh-ed25519"))
        return 0;
    if (is_other_key_type(line, e))
        return len;

    size_t i = 0;
    int quoted = 0;
    for (; i < len && (quoted || !is_blank(line[i])); i++) {
        if (line[i] == '\\' && i + 1 < len && line[i + 1] == '"')
            i++;
        else if (line[i] == '"')
            quoted = !quoted;
    }
    if (!options_ok(line, i))
        return len;
    while (i < len && is_blank(line[i]))
        i++;
    size_t s = i;
    while (i < len && !is_blank(line[i]))
        i++;
    return token_is(line + s, i - s, "ssh-ed25519") ? s : len;
}

int secureio_keylist_parse(secureio_keylist *list, const char *text, size_t len, size_t *bad_line)
{
    if (bad_line != NULL)
        *bad_line = 0;
    if (list == NULL || (text == NULL && len > 0))
        return SECUREIO_ERR_ARG;

    /* On failure the list is left as it was: the keys added from this text
     * (always appended after the first n0) are dropped again. */
    size_t n0 = list->n;
    size_t pos = 0, line_no = 0;
    int rc = SECUREIO_OK;
    while (pos < len && rc == SECUREIO_OK) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += nl != NULL ? line_len + 1 : line_len;
        line_no++;

        size_t s = 0;
        while (s < line_len && is_blank(line[s]))
            s++;
        size_t e = line_len;
        while (e > s && (is_blank(line[e - 1]) || line[e - 1] == '\r'))
            e--;
        if (s == e || line[s] == '#')
            continue;
        size_t k = s + ed25519_key_start(line + s, e - s);
        if (k == e)
            continue; /* not an ssh-ed25519 key: another type, or not a key */

        uint8_t pk[SECUREIO_PUBLIC_KEY_LEN];
        if (secureio_public_key_parse(pk, line + k, e - k, NULL, 0) != SECUREIO_OK) {
            rc = SECUREIO_ERR_FORMAT;
            if (bad_line != NULL)
                *bad_line = line_no;
        } else {
            rc = add_key(list, pk);
        }
    }
    if (rc != SECUREIO_OK && list->n != n0) {
        list->n = n0;
        reindex(list);
    }
    return rc;
}

int secureio_keylist_load(secureio_keylist *list, const char *path, size_t *bad_line)
{
    if (bad_line != NULL)
        *bad_line = 0;
    if (list == NULL || path == NULL)
        return SECUREIO_ERR_ARG;
    char *text;
    size_t len;
    util_detail_clear();
    sio_path pb;
    if ((path = sio_path_expand(&pb, path)) == NULL)
        return SECUREIO_ERR_IO;
    int rc = sio_read_file(path, KEYLIST_MAX_FILE_LEN, &text, &len);
    if (rc != SECUREIO_OK)
        return rc;
    size_t line = 0;
    rc = secureio_keylist_parse(list, text, len, &line);
    if (rc == SECUREIO_ERR_FORMAT && line > 0)
        util_detail("%s:%zu: a malformed ssh-ed25519 key line", path, line);
    else if (rc != SECUREIO_OK)
        util_detail("%s: %s", path, secureio_strerror(rc));
    if (bad_line != NULL)
        *bad_line = line;
    free(text);
    return rc;
}
