/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Known-answer vectors of the secureio protocol, version 2
 * (tests/vectors/secureio-v2.json, docs/PROTOCOL.md §11).
 *
 * A session between two engines with fixed identities and a fixed random
 * generator: A pins B's key and starts; B accepts A from a key list and
 * answers (so only A sends a HELLO). Both ceilings are 1200 bytes (no path
 * size search). After the handshake, A writes "hello" on channel 1, B
 * writes a 1500-byte message on channel 2 (two fragments), A starts a rekey,
 * and B writes "after" under the new keys. Every random draw is recorded
 * (who drew, how many bytes, which bytes), and so is every packet, in the
 * order they were sent, with the key schedule's values along the way: an
 * independent implementation can rebuild each packet from the draws, the
 * identities and PROTOCOL.md.
 *
 * SECUREIO_PRINT_VECTORS=FILE writes the JSON to FILE (to make the vectors
 * file again); otherwise the run is compared with the file, byte for byte.
 */
#include <secureio/engine.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "secureio/handshake.h"
#include "secureio/wire.h"
#include "test.h"

#define T0 1000000000ull
#define MAXV 64

typedef struct item {
    char who[4];
    char what[32];
    size_t len;
    uint8_t *bytes;
} item;

static item draws[MAXV], packets[MAXV], values[MAXV];
static size_t n_draws, n_packets, n_values;
static uint64_t lcg = 7;
static const char *drawer = "?";

static void add(item *list, size_t *n, const char *who, const char *what, const uint8_t *p,
                size_t len)
{
    if (*n == MAXV)
        abort();
    item *it = &list[(*n)++];
    snprintf(it->who, sizeof it->who, "%s", who);
    snprintf(it->what, sizeof it->what, "%s", what);
    it->len = len;
    it->bytes = malloc(len ? len : 1);
    if (it->bytes == NULL)
        abort();
    memcpy(it->bytes, p, len);
}

/* The generator: a 64-bit LCG, one byte per step (its top byte). */
static int rng(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = (uint8_t)(lcg >> 56);
    }
    add(draws, &n_draws, drawer, "random", out, len);
    return 0;
}

typedef struct side {
    const char *name;
    secureio_engine *e;
    size_t got;
    uint8_t last[2048];
    size_t last_len;
} side;

static void on_msg(void *user, uint32_t ch, const uint8_t *data, size_t len)
{
    side *s = user;
    (void)ch;
    s->got++;
    s->last_len = len < sizeof s->last ? len : sizeof s->last;
    memcpy(s->last, data, s->last_len);
}

static const char *kind(const uint8_t *p, size_t len)
{
    if (len == 0)
        return "empty";
    switch (p[0]) {
    case SIO_PKT_HELLO: return "HELLO";
    case SIO_PKT_AUTH_R: return "AUTH_R";
    case SIO_PKT_AUTH_I: return "AUTH_I";
    case SIO_PKT_COOKIE: return "COOKIE";
    default: return "record";
    }
}

/* Moves every packet both ways until nothing moves (one instant). */
static void pump(side *a, side *b)
{
    side *s[2] = {a, b};
    for (int round = 0; round < 20; round++) {
        int any = 0;
        for (int i = 0; i < 2; i++) {
            uint8_t pkt[2048];
            size_t n = sizeof pkt;
            drawer = s[i]->name;
            while (secureio_engine_poll(s[i]->e, pkt, &n, T0) == SECUREIO_OK && n > 0) {
                add(packets, &n_packets, s[i]->name, kind(pkt, n), pkt, n);
                drawer = s[1 - i]->name;
                CHECK_EQ_INT(secureio_engine_recv(s[1 - i]->e, pkt, n, T0), SECUREIO_OK);
                drawer = s[i]->name;
                n = sizeof pkt;
                any = 1;
            }
        }
        if (!any)
            break;
    }
}

static const item *find(const item *list, size_t n, const char *who, const char *what, int k)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].who, who) == 0 && strcmp(list[i].what, what) == 0 && k-- == 0)
            return &list[i];
    return NULL;
}

/* The key schedule's values of this session, from the draws and the
 * packets (an independent implementation checks its steps against them). */
static void key_schedule(const uint8_t pk_a[32], const uint8_t pk_b[32])
{
    const item *hello = find(packets, n_packets, "A", "HELLO", 0);
    const item *auth_r = find(packets, n_packets, "B", "AUTH_R", 0);
    const item *seed = NULL; /* A's 68-byte draw: e_I's private key, n_I, LE32 idx_I */
    for (size_t i = 0; i < n_draws && seed == NULL; i++)
        if (strcmp(draws[i].who, "A") == 0 && draws[i].len == 68)
            seed = &draws[i];
    if (!CHECK(hello != NULL && auth_r != NULL && seed != NULL && seed->len == 68))
        return;
    sio_hs_packet h, r;
    CHECK_EQ_INT(sio_hs_decode(&h, hello->bytes, hello->len), 0);
    CHECK_EQ_INT(sio_hs_decode(&r, auth_r->bytes, auth_r->len), 0);
    uint8_t kpsk[32], th[32], dh[32], hs[32], km[48], m0[32], mk[32];
    sio_psk_key(kpsk, NULL, 0);
    add(values, &n_values, "-", "K_psk (no psk)", kpsk, 32);
    uint8_t psk[32], kpsk2[32];
    memset(psk, 0x55, sizeof psk);
    sio_psk_key(kpsk2, psk, sizeof psk);
    add(values, &n_values, "-", "K_psk (psk 55 x 32)", kpsk2, 32);
    sio_mac_key(mk, pk_b);
    add(values, &n_values, "-", "K_mac(B)", mk, 32);
    sio_transcript(th, h.options, h.index, h.e, h.n, r.options, r.index, r.e, r.n);
    add(values, &n_values, "-", "TH", th, 32);
    CHECK_EQ_INT(sio_x25519(dh, seed->bytes, r.e), 0);
    add(values, &n_values, "-", "DH", dh, 32);
    sio_handshake_secret(hs, kpsk, dh, th);
    add(values, &n_values, "-", "HS", hs, 32);
    sio_auth_keymat(km, hs, 0);
    add(values, &n_values, "-", "k_auth responder", km, 48);
    sio_auth_keymat(km, hs, 1);
    add(values, &n_values, "-", "k_auth initiator", km, 48);
    sio_session_master(m0, hs, th, pk_a, pk_b);
    add(values, &n_values, "-", "M_0", m0, 32);
    sio_traffic_keymat(km, m0, 0, 1);
    add(values, &n_values, "-", "traffic 0, A to B", km, 48);
    sio_traffic_keymat(km, m0, 0, 0);
    add(values, &n_values, "-", "traffic 0, B to A", km, 48);
}

static void print_list(FILE *f, const char *name, const item *list, size_t n, int last)
{
    fprintf(f, "  \"%s\": [\n", name);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    {\"who\": \"%s\", \"what\": \"%s\", \"hex\": \"", list[i].who,
                list[i].what);
        for (size_t k = 0; k < list[i].len; k++)
            fprintf(f, "%02x", list[i].bytes[k]);
        fprintf(f, "\"}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ]%s\n", last ? "" : ",");
}

static void compare(const char *name, const tj_value *arr, const item *list, size_t n)
{
    if (!CHECK_EQ_UINT(tj_len(arr), n)) {
        fprintf(stderr, "  %s: %zu in the file, %zu made\n", name, tj_len(arr), n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const tj_value *v = tj_at(arr, i);
        uint8_t *hex;
        size_t len;
        CHECK_EQ_STR(tj_str(tj_get(v, "who")), list[i].who);
        CHECK_EQ_STR(tj_str(tj_get(v, "what")), list[i].what);
        if (!CHECK_EQ_INT(tj_hex(tj_get(v, "hex"), &hex, &len), 0))
            continue;
        if (!CHECK_EQ_UINT(len, list[i].len) || !CHECK_MEM(hex, list[i].bytes, len))
            fprintf(stderr, "  %s %zu (%s %s) differs\n", name, i, list[i].who, list[i].what);
        free(hex);
    }
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    uint8_t seed_a[32], seed_b[32], pk_a[32], pk_b[32];
    memset(seed_a, 0x11, 32);
    memset(seed_b, 0x22, 32);
    secureio_identity *ia, *ib;
    CHECK_EQ_INT(secureio_identity_from_seed(&ia, seed_a), SECUREIO_OK);
    CHECK_EQ_INT(secureio_identity_from_seed(&ib, seed_b), SECUREIO_OK);
    secureio_identity_public_key(ia, pk_a);
    secureio_identity_public_key(ib, pk_b);
    secureio_keylist *allow;
    CHECK_EQ_INT(secureio_keylist_new(&allow), SECUREIO_OK);
    CHECK_EQ_INT(secureio_keylist_add(allow, pk_a), SECUREIO_OK);

    side a = {"A", NULL, 0, {0}, 0}, b = {"B", NULL, 0, {0}, 0};
    secureio_config ca = SECUREIO_CONFIG_INIT, cb = SECUREIO_CONFIG_INIT;
    ca.identity = ia;
    ca.peer_key = pk_b;
    cb.identity = ib;
    cb.allowed_peers = allow;
    ca.max_packet_len = cb.max_packet_len = 1200;
    ca.send_delay_us = cb.send_delay_us = SECUREIO_SEND_DELAY_OFF;
    ca.rng = cb.rng = rng;
    ca.on_message = cb.on_message = on_msg;
    ca.user = &a;
    cb.user = &b;
    CHECK_EQ_INT(secureio_engine_new(&a.e, &ca), SECUREIO_OK);
    CHECK_EQ_INT(secureio_engine_new(&b.e, &cb), SECUREIO_OK);
    drawer = "B";
    CHECK_EQ_INT(secureio_engine_start(b.e, T0), SECUREIO_OK); /* B's S and used-hello key */
    drawer = "A";
    CHECK_EQ_INT(secureio_engine_start(a.e, T0), SECUREIO_OK); /* A's two; e_I, n_I, idx_I */
    pump(&a, &b);
    CHECK(secureio_engine_state(a.e) == SECUREIO_STATE_ESTABLISHED);
    CHECK(secureio_engine_state(b.e) == SECUREIO_STATE_ESTABLISHED);
    CHECK_EQ_INT(secureio_engine_write(a.e, 1, (const uint8_t *)"hello", 5, 0, NULL, NULL, T0),
                 SECUREIO_OK);
    pump(&a, &b);
    CHECK_EQ_UINT(b.got, 1);
    CHECK(b.last_len == 5 && memcmp(b.last, "hello", 5) == 0);
    static uint8_t big[1500];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    CHECK_EQ_INT(secureio_engine_write(b.e, 2, big, sizeof big, 0, NULL, NULL, T0), SECUREIO_OK);
    pump(&a, &b);
    CHECK_EQ_UINT(a.got, 1);
    drawer = "A";
    CHECK_EQ_INT(secureio_engine_rekey(a.e, T0), SECUREIO_OK);
    pump(&a, &b);
    CHECK_EQ_INT(secureio_engine_write(b.e, 1, (const uint8_t *)"after", 5, 0, NULL, NULL, T0),
                 SECUREIO_OK);
    pump(&a, &b);
    CHECK_EQ_UINT(a.got, 2);
    CHECK(a.last_len == 5 && memcmp(a.last, "after", 5) == 0);
    secureio_stats st;
    secureio_engine_stats(a.e, &st);
    CHECK_EQ_UINT(st.rekeys, 1);
    key_schedule(pk_a, pk_b);

    const char *out = getenv("SECUREIO_PRINT_VECTORS");
    if (out != NULL && *out != '\0') {
        FILE *f = fopen(out, "w");
        if (!CHECK(f != NULL))
            return 1;
        fprintf(f, "{\n  \"description\": \"secureio protocol version 2: one session, see "
                   "tests/test_secureio_vectors.c and docs/PROTOCOL.md section 11\",\n");
        fprintf(f, "  \"seed_a\": \"%s\",\n  \"seed_b\": \"%s\",\n",
                "1111111111111111111111111111111111111111111111111111111111111111",
                "2222222222222222222222222222222222222222222222222222222222222222");
        print_list(f, "draws", draws, n_draws, 0);
        print_list(f, "packets", packets, n_packets, 0);
        print_list(f, "values", values, n_values, 1);
        fprintf(f, "}\n");
        CHECK(fclose(f) == 0);
    } else {
        char err[256];
        tj_value *v = tj_load_file(test_vector_path("secureio-v2.json"), err, sizeof err);
        if (CHECK(v != NULL)) {
            compare("draws", tj_get(v, "draws"), draws, n_draws);
            compare("packets", tj_get(v, "packets"), packets, n_packets);
            compare("values", tj_get(v, "values"), values, n_values);
        } else {
            fprintf(stderr, "  %s\n", err);
        }
        tj_free(v);
    }
    for (size_t i = 0; i < n_draws; i++)
        free(draws[i].bytes);
    for (size_t i = 0; i < n_packets; i++)
        free(packets[i].bytes);
    for (size_t i = 0; i < n_values; i++)
        free(values[i].bytes);
    secureio_engine_free(a.e);
    secureio_engine_free(b.e);
    secureio_keylist_free(allow);
    secureio_identity_free(ia);
    secureio_identity_free(ib);
    return test_summary("secureio-vectors");
}
