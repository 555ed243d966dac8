/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-ohttp: the Oblivious HTTP gateway (libtwoway_ohttp) beside the HPKE
 * work it is built on, measured in the same run.
 *
 * 1. Requests per second through the gateway, forwarding to a local
 *    origin (tests/support/origin.c: POST /sum), 1 KiB request bodies,
 *    X25519 / HKDF-SHA256 / AES-128-GCM. The gateway's threads run on one
 *    core (CPU 0); the load (keep-alive HTTP clients posting requests
 *    sealed beforehand, which the gateway opens afresh each time: it keeps
 *    no replay state) and the origin run on the other. Beside it: the bare
 *    decapsulate + encapsulate rate on one core — a request opener reading
 *    the same request and a response sealer sealing the answer, the HPKE
 *    work of one request and nothing else. Ratio = gateway requests/s /
 *    bare rate; target >= 0.6.
 * 2. A 100 MiB body through the gateway, chunked both ways (client ->
 *    gateway -> origin upload, and origin -> gateway -> client download),
 *    beside the AEAD limit: one core sealing and opening 16 KiB chunks
 *    with the same suite, the crypto every byte needs on its way (one
 *    side seals it, the other opens it).
 * 3. Beside the forwarding figure: the CPU one 1 KiB POST to the origin
 *    through libcurl costs on the gateway's core by itself, and the
 *    ceiling it sets (HPKE + that exchange and nothing else).
 *
 * Usage: bench-ohttp [--quick] [--clients N]   (default 16 keep-alive clients)
 */
#define _GNU_SOURCE

#include <twoway/keyfile.h>
#include <twoway/ohttp.h>
#include <twoway/twoway.h>

#include "origin.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define REQ_BODY 1024u
#define N_SEALED 64u
#define MAX_CLIENTS 64
static int clients = 16; /* --clients N */

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench-ohttp: %s failed (%d: %s; %s)\n", what, rc, twoway_strerror(rc),
            twoway_ohttp_error_detail());
    exit(1);
}

static int n_cpus(void)
{
    cpu_set_t s;
    if (sched_getaffinity(0, sizeof s, &s) != 0)
        return 1;
    return CPU_COUNT(&s);
}

/* Pins the calling thread (and the threads it starts from now on) to cpu. */
static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    (void)pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

/* ------------------------------------------------------------- fixture */

typedef struct fixture {
    twoway_hpke_suite suite;
    twoway_hpke_key *key;
    twoway_key_config cfg;
    uint8_t configs[512];
    size_t configs_len;
    twoway_keyring *ring;
    char dir[64], key_path[128];
    /* requests sealed beforehand (the gateway does not remember them) */
    uint8_t *sealed[N_SEALED];
    size_t sealed_len[N_SEALED];
    twoway_sealer *sealers[N_SEALED];
    uint8_t response_pt[256];
    size_t response_pt_len;
} fixture;

static void fixture_init(fixture *f, const char *url)
{
    int rc;
    twoway_symmetric_suite sym = {TWOWAY_HPKE_KDF_HKDF_SHA256, TWOWAY_HPKE_AEAD_AES_128_GCM};
    if ((rc = twoway_hpke_suite_from_ids(&f->suite, TWOWAY_HPKE_KEM_X25519_SHA256, sym.kdf_id,
                                         sym.aead_id)) != TWOWAY_OK)
        die("suite", rc);
    if ((rc = twoway_hpke_key_generate(f->suite.kem, &f->key)) != TWOWAY_OK)
        die("keygen", rc);
    if ((rc = twoway_key_config_of_key(&f->cfg, 1, f->key, &sym, 1)) != TWOWAY_OK)
        die("key config", rc);
    f->configs_len = sizeof f->configs;
    if ((rc = twoway_key_configs_encode(&f->cfg, 1, f->configs, &f->configs_len)) != TWOWAY_OK)
        die("configs", rc);
    snprintf(f->dir, sizeof f->dir, "/tmp/bench-ohttp.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        perror("bench-ohttp: mkdtemp");
        exit(1);
    }
    snprintf(f->key_path, sizeof f->key_path, "%s/gateway.key", f->dir);
    if ((rc = twoway_key_file_save(f->key_path, &f->cfg, f->key)) != TWOWAY_OK)
        die("key file", rc);
    if ((rc = twoway_keyring_new(&f->ring)) != TWOWAY_OK ||
        (rc = twoway_keyring_add_config(f->ring, &f->cfg, f->key)) != TWOWAY_OK)
        die("key ring", rc);

    /* POST url with a 1 KiB body, as Binary HTTP, sealed N_SEALED times */
    char authority[64];
    const char *a = strstr(url, "://") + 3;
    size_t al = strcspn(a, "/");
    memcpy(authority, a, al);
    authority[al] = 0;
    uint8_t body[REQ_BODY];
    memset(body, 'x', sizeof body);
    twoway_bhttp_field ct = {(const uint8_t *)"content-type", 12,
                             (const uint8_t *)"application/octet-stream", 24};
    twoway_bhttp_message m;
    memset(&m, 0, sizeof m);
    m.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    m.method = (const uint8_t *)"POST";
    m.method_len = 4;
    m.scheme = (const uint8_t *)"http";
    m.scheme_len = 4;
    m.authority = (const uint8_t *)authority;
    m.authority_len = al;
    m.path = (const uint8_t *)"/sum";
    m.path_len = 4;
    m.headers = &ct;
    m.n_headers = 1;
    m.content = body;
    m.content_len = sizeof body;
    m.truncate = 1;
    uint8_t pt[2048];
    size_t pt_len = sizeof pt;
    if ((rc = twoway_bhttp_encode(&m, TWOWAY_BHTTP_KNOWN_LENGTH, pt, &pt_len)) != TWOWAY_OK)
        die("bhttp", rc);
    for (size_t i = 0; i < N_SEALED; i++) {
        twoway_options o = TWOWAY_OPTIONS_INIT;
        rc = twoway_request_sealer_new_for_configs(
            &f->sealers[i], f->configs, f->configs_len, TWOWAY_ANY_KEY_ID, 0, 0,
            (const uint8_t *)TWOWAY_OHTTP_REQUEST, strlen(TWOWAY_OHTTP_REQUEST), &o);
        if (rc != TWOWAY_OK)
            die("sealer", rc);
        f->sealed_len[i] = twoway_sealer_max_output(f->sealers[i], pt_len);
        f->sealed[i] = malloc(f->sealed_len[i]);
        if ((rc = twoway_sealer_final(f->sealers[i], f->sealed[i], &f->sealed_len[i], pt,
                                      pt_len)) != TWOWAY_OK)
            die("seal", rc);
    }
    /* what the origin answers, as the gateway would encode it */
    twoway_bhttp_message r;
    memset(&r, 0, sizeof r);
    r.version = TWOWAY_BHTTP_MESSAGE_VERSION;
    r.response = 1;
    r.status = 200;
    twoway_bhttp_field rf[] = {
        {(const uint8_t *)"content-type", 12, (const uint8_t *)"text/plain", 10},
        {(const uint8_t *)"date", 4, (const uint8_t *)"Sun, 06 Dec 2026 08:00:00 GMT", 29}};
    r.headers = rf;
    r.n_headers = 2;
    r.content = (const uint8_t *)"len=1024 sum=0123456789abcdef\n";
    r.content_len = 30;
    r.truncate = 1;
    f->response_pt_len = sizeof f->response_pt;
    if ((rc = twoway_bhttp_encode(&r, TWOWAY_BHTTP_KNOWN_LENGTH, f->response_pt,
                                  &f->response_pt_len)) != TWOWAY_OK)
        die("bhttp response", rc);
}

/* The bare HPKE work of one request at the gateway: open it, seal the
 * answer. */
static void bare_exchange(void *arg)
{
    static unsigned i;
    fixture *f = arg;
    twoway_opener *o = NULL;
    twoway_sealer *s = NULL;
    uint8_t pt[2048], ct[512];
    size_t pt_len = sizeof pt, ct_len = sizeof ct;
    size_t k = i++ % N_SEALED;
    int rc = twoway_request_opener_new(&o, f->ring, (const uint8_t *)TWOWAY_OHTTP_REQUEST,
                                       strlen(TWOWAY_OHTTP_REQUEST), NULL);
    if (rc == TWOWAY_OK)
        rc = twoway_opener_final(o, pt, &pt_len, f->sealed[k], f->sealed_len[k]);
    if (rc == TWOWAY_OK)
        rc = twoway_response_sealer_new(&s, twoway_opener_context(o),
                                        (const uint8_t *)TWOWAY_OHTTP_RESPONSE,
                                        strlen(TWOWAY_OHTTP_RESPONSE), NULL);
    if (rc == TWOWAY_OK)
        rc = twoway_sealer_final(s, ct, &ct_len, f->response_pt, f->response_pt_len);
    if (rc != TWOWAY_OK)
        die("bare exchange", rc);
    twoway_sealer_free(s);
    twoway_opener_free(o);
}

/* The gateway's own answer (callback mode): what the origin would say. */
static int answer(void *arg, const twoway_ohttp_request *req, twoway_ohttp_response *resp)
{
    (void)arg;
    (void)req;
    if (twoway_ohttp_response_header(resp, "content-type", "text/plain") != TWOWAY_OK)
        return -1;
    return twoway_ohttp_response_body(resp, "len=1024 sum=0123456789abcdef\n", 30) == TWOWAY_OK
               ? 0
               : -1;
}

/* ------------------------------------------------------------ the load */

typedef struct load {
    fixture *f;
    const char *url;
    double until;
    int idx;
    long done, failed;
    int verified;
} load;

typedef struct sink_buf {
    uint8_t p[4096];
    size_t len;
} sink_buf;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    sink_buf *b = arg;
    size_t len = size * n;
    if (len > sizeof b->p - b->len)
        return 0;
    memcpy(b->p + b->len, p, len);
    b->len += len;
    return len;
}

/* Opens one answer to check that it is the origin's (once per client). */
static int verify(fixture *f, size_t k, const sink_buf *b)
{
    twoway_opener *o = NULL;
    uint8_t pt[4096];
    size_t pt_len = sizeof pt;
    int rc = twoway_response_opener_new(&o, twoway_sealer_context(f->sealers[k]),
                                        (const uint8_t *)TWOWAY_OHTTP_RESPONSE,
                                        strlen(TWOWAY_OHTTP_RESPONSE), NULL);
    if (rc == TWOWAY_OK)
        rc = twoway_opener_final(o, pt, &pt_len, b->p, b->len);
    twoway_opener_free(o);
    /* a 200 from the origin with its sum: "len=1024 sum=" */
    if (rc != TWOWAY_OK || pt_len < 5 || pt[0] != 1)
        return 0;
    for (size_t i = 0; i + 9 <= pt_len; i++)
        if (memcmp(pt + i, "len=1024 ", 9) == 0)
            return 1;
    return 0;
}

static void *load_main(void *arg)
{
    load *l = arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: message/ohttp-req");
    hdr = curl_slist_append(hdr, "Expect:");
    sink_buf b;
    curl_easy_setopt(h, CURLOPT_URL, l->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    size_t k = (size_t)l->idx % N_SEALED;
    while (bench_now() < l->until) {
        b.len = 0;
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)l->f->sealed[k]);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)l->f->sealed_len[k]);
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK &&
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200) {
            if (!l->verified)
                l->verified = verify(l->f, k, &b) ? 1 : -1;
            l->done++;
        } else {
            l->failed++;
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

static double run_load(fixture *f, const char *url, double seconds, long *failed, int *verified)
{
    pthread_t t[MAX_CLIENTS];
    load l[MAX_CLIENTS];
    double t0 = bench_now();
    for (int i = 0; i < clients; i++) {
        l[i] = (load){f, url, t0 + seconds, i, 0, 0, 0};
        pthread_create(&t[i], NULL, load_main, &l[i]);
    }
    long done = 0;
    *failed = 0;
    *verified = 1;
    for (int i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        done += l[i].done;
        *failed += l[i].failed;
        if (l[i].verified != 1)
            *verified = 0;
    }
    return (double)done / (bench_now() - t0);
}

/* The origin exchange alone: one 1 KiB POST through libcurl, as the gateway
 * makes it (a kept handle and connection), on this thread; the CPU time of
 * this thread per exchange, in seconds (loopback TCP's work for both ends
 * is done on the sending core, so it is counted too). */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double curl_exchange_cpu(const char *url, double seconds)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Expect:");
    uint8_t body[REQ_BODY];
    memset(body, 'x', sizeof body);
    long n = 0;
    double c0 = thread_cpu(), t0 = bench_now();
    while (bench_now() - t0 < seconds) {
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)sizeof body);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        if (curl_easy_perform(h) != CURLE_OK) {
            fprintf(stderr, "bench-ohttp: the origin did not answer\n");
            exit(1);
        }
        n++;
    }
    double per = (thread_cpu() - c0) / (double)n;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return per;
}

/* ------------------------------------------------------------ chunked */

typedef struct gen {
    uint64_t off, total;
} gen;

static long gen_read(void *src, uint8_t *buf, size_t len)
{
    gen *g = src;
    size_t n = g->total - g->off < len ? (size_t)(g->total - g->off) : len;
    origin_fill(buf, g->off, n);
    g->off += n;
    return (long)n;
}

typedef struct hash_sink {
    uint64_t h, n;
    char text[128];
    size_t text_len;
} hash_sink;

static int hash_body(void *arg, const uint8_t *p, size_t n)
{
    hash_sink *s = arg;
    s->h = origin_fnv(s->h, p, n);
    size_t k = n < sizeof s->text - 1 - s->text_len ? n : sizeof s->text - 1 - s->text_len;
    memcpy(s->text + s->text_len, p, k);
    s->text_len += k;
    s->text[s->text_len] = 0;
    s->n += n;
    return 0;
}

/* The AEAD work of a byte at the gateway: a chunked sealer and opener of
 * 16 KiB chunks (the gateway opens the request and seals the response). */
typedef struct aead_fix {
    fixture *f;
    uint8_t *pt, *ct;
    size_t ct_len;
} aead_fix;

#define AEAD_BODY (4u << 20)

static void aead_round(void *arg)
{
    aead_fix *a = arg;
    twoway_options o = TWOWAY_OPTIONS_INIT;
    twoway_sealer *s = NULL;
    twoway_opener *op = NULL;
    o.chunked = 1;
    o.max_chunk_len = 16384;
    const char *mt = TWOWAY_OHTTP_CHUNKED_REQUEST;
    int rc = twoway_request_sealer_new(&s, &a->f->suite, 1, a->f->key, (const uint8_t *)mt,
                                       strlen(mt), &o);
    size_t n = twoway_sealer_max_output(s, AEAD_BODY);
    if (rc == TWOWAY_OK)
        rc = twoway_sealer_final(s, a->ct, &n, a->pt, AEAD_BODY);
    if (rc == TWOWAY_OK)
        rc = twoway_request_opener_new(&op, a->f->ring, (const uint8_t *)mt, strlen(mt), &o);
    size_t m = op != NULL ? twoway_opener_max_output(op, n) : 0;
    if (rc == TWOWAY_OK && m > AEAD_BODY + 65536)
        rc = TWOWAY_ERR_BUFFER;
    if (rc == TWOWAY_OK)
        rc = twoway_opener_final(op, a->pt, &m, a->ct, n);
    if (rc != TWOWAY_OK)
        die("aead round", rc);
    twoway_sealer_free(s);
    twoway_opener_free(op);
}

int main(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0 &&
                   atoi(argv[i + 1]) <= MAX_CLIENTS) {
            clients = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench-ohttp [--quick] [--clients 1-%d]\n", MAX_CLIENTS);
            return 2;
        }
    }
    double secs = quick ? 1.0 : 3.0;
    uint64_t big = quick ? (uint64_t)16 << 20 : (uint64_t)100 << 20;
    int cpus = n_cpus();
    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* the origin and the load on the last CPU, the gateway on CPU 0 */
    pin(cpus > 1 ? 1 : 0);
    origin *org = NULL;
    unsigned oport = 0;
    if (origin_start(&org, &oport) != 0) {
        fprintf(stderr, "bench-ohttp: the origin did not start\n");
        return 1;
    }
    char origin_url[64], target[96];
    snprintf(origin_url, sizeof origin_url, "http://127.0.0.1:%u", oport);
    snprintf(target, sizeof target, "%s/sum", origin_url);
    fixture f;
    memset(&f, 0, sizeof f);
    fixture_init(&f, target);

    pin(0);
    const char *keys[] = {f.key_path};
    const char *origins[] = {origin_url};
    twoway_ohttp_gateway_options go;
    memset(&go, 0, sizeof go);
    go.version = TWOWAY_OHTTP_GATEWAY_OPTIONS_VERSION;
    go.key_files = keys;
    go.n_key_files = 1;
    go.allowed_origins = origins;
    go.n_allowed_origins = 1;
    go.max_response_len = (size_t)1 << 20;
    twoway_ohttp_gateway *gw = NULL;
    int rc = twoway_ohttp_gateway_start(&gw, &go);
    if (rc != TWOWAY_OK)
        die("gateway", rc);
    twoway_ohttp_gateway_options cbo = go;
    cbo.allowed_origins = NULL;
    cbo.n_allowed_origins = 0;
    cbo.handler = answer;
    twoway_ohttp_gateway *cb = NULL;
    if ((rc = twoway_ohttp_gateway_start(&cb, &cbo)) != TWOWAY_OK)
        die("gateway (callback)", rc);
    /* the bare rate, and the bare origin exchange, on the gateway's core */
    double bare = bench_rate(bare_exchange, &f, secs / 3);
    double curl_cpu = curl_exchange_cpu(target, secs / 3);
    pin(cpus > 1 ? 1 : 0);

    char gw_url[64];
    snprintf(gw_url, sizeof gw_url, "http://127.0.0.1:%u/gateway", twoway_ohttp_gateway_port(gw));
    long failed;
    int verified;
    (void)run_load(&f, gw_url, 0.3, &failed, &verified); /* warm up: connections */
    double rps = run_load(&f, gw_url, secs, &failed, &verified);
    double ratio = rps / bare;
    char cb_url[64];
    long cb_failed;
    int cb_verified;
    snprintf(cb_url, sizeof cb_url, "http://127.0.0.1:%u/gateway", twoway_ohttp_gateway_port(cb));
    (void)run_load(&f, cb_url, 0.3, &cb_failed, &cb_verified);
    double cb_rps = run_load(&f, cb_url, secs, &cb_failed, &cb_verified);
    printf("bench-ohttp (%d CPUs; gateway on CPU 0, %d keep-alive clients and the origin on "
           "CPU %d)\n",
           cpus, clients, cpus > 1 ? 1 : 0);
    printf("  gateway, 1 KiB POST forwarded to a local origin: %.0f requests/s (%ld failed, "
           "answers %s)\n",
           rps, failed, verified ? "opened and checked" : "NOT VERIFIED");
    printf("  gateway answering itself (callback, no origin):   %.0f requests/s (%ld failed, "
           "ratio %.2f)\n",
           cb_rps, cb_failed, cb_rps / bare);
    printf("  bare decapsulate + encapsulate on one core:       %.0f /s\n", bare);
    double ceiling = 1.0 / (1.0 / bare + curl_cpu);
    printf("  ratio %.2f (target >= 0.6): %s\n", ratio, ratio >= 0.6 ? "met" : "NOT met");
    printf("  one 1 KiB POST to the origin through libcurl alone, on that core: %.1f us of CPU\n",
           curl_cpu * 1e6);
    printf("  ceiling of forwarding (HPKE + that exchange, nothing else): %.0f /s = %.2f of the "
           "bare rate; the gateway reaches %.2f of the ceiling\n",
           ceiling, ceiling / bare, rps / ceiling);
    if (ratio < 0.6)
        printf("    why not met: forwarding adds a whole HTTP exchange with the origin, which on "
               "this machine costs about as much CPU as the HPKE work itself (loopback TCP "
               "does both ends' work on the sending core), so even a gateway that did nothing "
               "else could reach only %.2f; the callback line shows the gateway's own "
               "overhead without it\n",
               ceiling / bare);
    if (cpus < 2)
        printf("    (one CPU only: load, origin and gateway share it; the figure is low)\n");

    /* chunked, both ways */
    twoway_ohttp_client_options co;
    memset(&co, 0, sizeof co);
    co.version = TWOWAY_OHTTP_CLIENT_OPTIONS_VERSION;
    co.chunked = 1;
    co.key_configs = f.configs;
    co.key_configs_len = f.configs_len;
    co.timeout_ms = 600000;
    gen g = {0, big};
    hash_sink up = {ORIGIN_FNV_INIT, 0, {0}, 0}, down = {ORIGIN_FNV_INIT, 0, {0}, 0};
    twoway_ohttp_fetch_request rq;
    memset(&rq, 0, sizeof rq);
    rq.url = target;
    rq.body_read = gen_read;
    rq.body_src = &g;
    twoway_ohttp_fetch_sink sk = {NULL, NULL, hash_body, &up};
    double t0 = bench_now();
    rc = twoway_ohttp_fetch(gw_url, &rq, &sk, &co, NULL);
    double t_up = bench_now() - t0;
    if (rc != TWOWAY_OK)
        die("chunked upload", rc);
    char get_url[96];
    snprintf(get_url, sizeof get_url, "%s/bytes/%llu", origin_url, (unsigned long long)big);
    memset(&rq, 0, sizeof rq);
    rq.url = get_url;
    sk.arg = &down;
    t0 = bench_now();
    rc = twoway_ohttp_fetch(gw_url, &rq, &sk, &co, NULL);
    double t_down = bench_now() - t0;
    if (rc != TWOWAY_OK)
        die("chunked download", rc);
    /* check both against the bytes sent */
    uint64_t want = ORIGIN_FNV_INIT;
    uint8_t *tmp = malloc(1 << 20);
    for (uint64_t off = 0; off < big; off += 1 << 20) {
        size_t n = big - off < (1u << 20) ? (size_t)(big - off) : (1u << 20);
        origin_fill(tmp, off, n);
        want = origin_fnv(want, tmp, n);
    }
    char want_text[64];
    snprintf(want_text, sizeof want_text, "len=%llu sum=%016llx", (unsigned long long)big,
             (unsigned long long)want);
    int up_ok = strncmp(up.text, want_text, strlen(want_text)) == 0;
    int down_ok = down.n == big && down.h == want;

    aead_fix a = {&f, malloc(AEAD_BODY + 65536), malloc(AEAD_BODY + 65536), 0};
    memset(a.pt, 7, AEAD_BODY);
    pin(0);
    double aead = bench_rate(aead_round, &a, secs / 3) * AEAD_BODY / 1e6;
    double mb = (double)big / 1e6;
    printf("  chunked %llu MiB upload through the gateway:   %.0f MB/s (%s)\n",
           (unsigned long long)(big >> 20), mb / t_up,
           up_ok ? "the origin's sum matches" : "SUM WRONG");
    printf("  chunked %llu MiB download through the gateway: %.0f MB/s (%s)\n",
           (unsigned long long)(big >> 20), mb / t_down, down_ok ? "bytes match" : "BYTES WRONG");
    printf("  AEAD limit (seal + open of 16 KiB chunks, one core): %.0f MB/s; ratios %.2f up, "
           "%.2f down\n",
           aead, mb / t_up / aead, mb / t_down / aead);
    free(a.pt);
    free(a.ct);
    free(tmp);
    twoway_ohttp_gateway_stop(gw);
    twoway_ohttp_gateway_stop(cb);
    origin_stop(org);
    unlink(f.key_path);
    rmdir(f.dir);
    return up_ok && down_ok && verified ? 0 : 1;
}
