/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `twoway` message commands: seal-request, open-request, seal-response,
 * open-response (docs/CLI.md, twoway(1)).
 *
 * Sealing pulls the plaintext through twoway_sealer_read(). Opening pushes
 * the message into one or two openers: the framing expected and, while
 * nothing has authenticated yet, the other one. Only one of them can
 * authenticate a given message, so this tells a chunked/unchunked mismatch
 * apart from a wrong key or an altered message, and lets open-request (and
 * open-response, by default) accept either framing. No plaintext is written
 * before it authenticated, and the state file of a request is written
 * before any of its plaintext: a response command downstream in a pipeline
 * reads it only once its own input begins.
 */
#define _GNU_SOURCE /* memmem */

#include "twoway_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ----------------------------------------------------------- defaults */

static const char *default_media(int response, int chunked)
{
    if (response)
        return chunked ? TWOWAY_OHTTP_CHUNKED_RESPONSE : TWOWAY_OHTTP_RESPONSE;
    return chunked ? TWOWAY_OHTTP_CHUNKED_REQUEST : TWOWAY_OHTTP_REQUEST;
}

/* The framing of the response to a request: the request's, unless the
 * response media type is one of OHTTP's, which fixes it. */
static int response_chunked(const char *rmedia, int request_chunked)
{
    if (strcmp(rmedia, TWOWAY_OHTTP_RESPONSE) == 0)
        return 0;
    if (strcmp(rmedia, TWOWAY_OHTTP_CHUNKED_RESPONSE) == 0)
        return 1;
    return request_chunked;
}

static twoway_options msg_opts(int chunked, size_t max_chunk)
{
    twoway_options o = TWOWAY_OPTIONS_INIT;
    o.chunked = chunked;
    o.max_chunk_len = chunked ? max_chunk : 0;
    return o;
}

static const char *framing(int chunked)
{
    return chunked ? "chunked" : "unchunked";
}

/* "key id 1 (x25519, sha256, aes128gcm)" */
static void describe_header(char *out, size_t len, const twoway_header *h)
{
    const char *kem = twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, h->kem_id);
    const char *kdf = twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KDF, h->kdf_id);
    const char *aead = twoway_hpke_alg_name(TWOWAY_HPKE_ALG_AEAD, h->aead_id);
    char k[16], d[16], a[16];
    snprintf(k, sizeof k, "kem 0x%04x", h->kem_id);
    snprintf(d, sizeof d, "kdf 0x%04x", h->kdf_id);
    snprintf(a, sizeof a, "aead 0x%04x", h->aead_id);
    snprintf(out, len, "key id %u (%s, %s, %s)", (unsigned)h->key_id, kem ? kem : k, kdf ? kdf : d,
             aead ? aead : a);
}

/* A note for errors after plaintext reached stdout. */
static void partial_note(char *out, size_t len, const cli_sink *dst, int opening)
{
    out[0] = '\0';
    if (dst->path == NULL && dst->count > 0)
        snprintf(out, len,
                 opening ? " (the %llu bytes written to stdout before the error are not "
                           "trustworthy)"
                         : " (the %llu bytes written to stdout are not a whole message)",
                 (unsigned long long)dst->count);
}

/* ------------------------------------------------------------- sealing */

#define PUMP_WRITE_FAILED 1 /* (reported by the sink) */

/* The whole message from src through s into dst: TWOWAY_OK, the library's
 * error, or PUMP_WRITE_FAILED. */
static int pump_sealer(twoway_sealer *s, cli_source *src, cli_sink *dst)
{
    static uint8_t buf[1u << 16];
    int rc;
    for (;;) {
        size_t n = 0;
        rc = twoway_sealer_read(s, cli_source_read, src, buf, sizeof buf, &n);
        if (rc != TWOWAY_OK || n == 0)
            break;
        if (cli_sink_write(dst, buf, n) != 0) {
            rc = PUMP_WRITE_FAILED;
            break;
        }
    }
    return rc;
}

static void seal_error(int rc, const cli_source *src, const cli_sink *dst, const char *noun,
                       int chunked)
{
    char partial[160];
    partial_note(partial, sizeof partial, dst, 0);
    if (rc == PUMP_WRITE_FAILED || (rc == TWOWAY_ERR_IO && src->refused))
        return; /* reported */
    if (rc == TWOWAY_ERR_IO && src->err != 0)
        cli_error("reading %s: %s%s", src->name, strerror(src->err), partial);
    else if (rc == TWOWAY_ERR_TOO_BIG && !chunked)
        cli_error("sealing the %s: %s: an unchunked message is sealed whole and may be at most "
                  "%zu MiB (chunked messages have no limit: --chunked)%s",
                  noun, twoway_strerror(rc), TWOWAY_DEFAULT_MAX_MESSAGE_LEN >> 20, partial);
    else
        cli_error("sealing the %s: %s%s", noun, twoway_strerror(rc), partial);
}

/* Seals src into dst; returns 0 or CLI_EXIT_FAIL (reported). */
static int seal_to(twoway_sealer *s, cli_source *src, const char *out, const char *noun,
                   int chunked)
{
    cli_sink dst;
    if (cli_sink_open(&dst, out, 0) != 0)
        return CLI_EXIT_FAIL;
    int rc = pump_sealer(s, src, &dst);
    if (rc != TWOWAY_OK) {
        seal_error(rc, src, &dst, noun, chunked);
        cli_sink_abort(&dst);
        return CLI_EXIT_FAIL;
    }
    return cli_sink_commit(&dst, 0) == 0 ? 0 : CLI_EXIT_FAIL;
}

/* ------------------------------------------------------------- opening */

typedef struct slot {
    twoway_opener *o;
    int chunked;
    int rc; /* its failure; TWOWAY_OK while it goes on */
} slot;

typedef struct opening {
    slot s[2];          /* s[0]: the framing expected; s[1]: the other one (o may be NULL) */
    int pick_any;       /* either framing is accepted (else s[1] only diagnoses) */
    char mismatch[200]; /* what to say when s[1]'s framing authenticates */
    /* the message's first bytes and length, to judge a failure; its prefix
     * length (0: a request's, read from its header) */
    uint8_t head[TWOWAY_HEADER_LEN + TWOWAY_HPKE_MAX_ENC_LEN + TWOWAY_MAX_VARINT_LEN];
    size_t head_len, prefix_len;
    uint64_t total;
    int chosen; /* -1 until one authenticates */
    /* once, when the message is first known authentic, before any of its
     * plaintext is written (request commands save their state here) */
    int (*on_authentic)(void *arg, const slot *s, int complete);
    void *arg;
    uint8_t *buf;
    size_t cap;
} opening;

#define OPEN_MISMATCH 2     /* the other framing authenticated (reported) */
#define OPEN_CALLBACK 3     /* on_authentic failed (reported) */
#define OPEN_WRITE_FAILED 4 /* (reported by the sink) */

static int grow(opening *op, size_t need)
{
    if (need <= op->cap)
        return 0;
    uint8_t *p = malloc(need);
    if (p == NULL)
        return -1;
    if (op->buf != NULL) {
        cli_wipe(op->buf, op->cap);
        free(op->buf);
    }
    op->buf = p;
    op->cap = need;
    return 0;
}

static void drop(slot *s)
{
    twoway_opener_free(s->o);
    s->o = NULL;
}

/* Feeds in[n] to every opener still going; writes what the chosen one
 * releases. TWOWAY_OK, or OPEN_* (the openers' own failures are in s[].rc). */
static int feed(opening *op, cli_sink *dst, const uint8_t *in, size_t n, int final)
{
    for (int i = 0; i < 2; i++) {
        slot *s = &op->s[i];
        if (s->o == NULL || s->rc != TWOWAY_OK || (op->chosen >= 0 && op->chosen != i))
            continue;
        size_t need = twoway_opener_max_output(s->o, n), w = need;
        if (grow(op, need ? need : 1) != 0) {
            s->rc = TWOWAY_ERR_NOMEM;
            continue;
        }
        s->rc = final ? twoway_opener_final(s->o, op->buf, &w, in, n)
                      : twoway_opener_update(s->o, op->buf, &w, in, n);
        /* the framing of something authentic is the message's, even if it
         * then fails (an authentic empty chunk) */
        if (op->chosen < 0 && twoway_opener_authenticated(s->o) > 0) {
            op->chosen = i;
            drop(&op->s[1 - i]);
            if (i == 1 && !op->pick_any) {
                cli_wipe(op->buf, w);
                return OPEN_MISMATCH;
            }
            if (s->rc == TWOWAY_OK && op->on_authentic != NULL &&
                op->on_authentic(op->arg, s, final) != 0) {
                cli_wipe(op->buf, w);
                return OPEN_CALLBACK;
            }
        }
        if (s->rc != TWOWAY_OK)
            continue;
        if (w > 0 && cli_sink_write(dst, op->buf, w) != 0) {
            cli_wipe(op->buf, w);
            return OPEN_WRITE_FAILED;
        }
        cli_wipe(op->buf, w);
    }
    return TWOWAY_OK;
}

/* Whether some opener is still going. */
static int alive(const opening *op)
{
    for (int i = 0; i < 2; i++)
        if (op->s[i].o != NULL && op->s[i].rc == TWOWAY_OK)
            return 1;
    return 0;
}

/* The message from src through the openers into dst. TWOWAY_OK (the chosen
 * one ended authentic), an OPEN_* code, or the openers' failure (s[].rc). */
static int open_stream(opening *op, cli_source *src, cli_sink *dst)
{
    static uint8_t in[1u << 16];
    int rc = TWOWAY_OK;
    op->chosen = -1;
    for (;;) {
        long r = cli_source_read(src, in, sizeof in);
        if (r < 0) {
            rc = TWOWAY_ERR_IO;
            break;
        }
        size_t keep =
            sizeof op->head - op->head_len < (size_t)r ? sizeof op->head - op->head_len : (size_t)r;
        memcpy(op->head + op->head_len, in, keep);
        op->head_len += keep;
        op->total += (uint64_t)r;
        rc = feed(op, dst, in, (size_t)r, r == 0);
        if (rc != TWOWAY_OK || r == 0 || !alive(op))
            break;
    }
    if (rc == TWOWAY_OK && op->chosen >= 0 && op->s[op->chosen].rc == TWOWAY_OK)
        return TWOWAY_OK;
    if (rc == TWOWAY_OK)
        rc = -1; /* the openers failed */
    return rc;
}

static void opening_free(opening *op)
{
    drop(&op->s[0]);
    drop(&op->s[1]);
    if (op->buf != NULL) {
        cli_wipe(op->buf, op->cap);
        free(op->buf);
    }
}

/* Whether the message read as chunked has a first chunk as long as its
 * length says (a real chunked message, with chunks over the limit), rather
 * than bytes of another kind of message read as a length. */
static int first_chunk_fits(const opening *op)
{
    size_t at = op->prefix_len;
    if (at == 0) { /* a request: hdr || enc */
        const twoway_hpke_kem *kem =
            op->head_len >= TWOWAY_HEADER_LEN
                ? twoway_hpke_kem_by_id((uint16_t)(op->head[1] << 8 | op->head[2]))
                : NULL;
        if (kem == NULL)
            return 0;
        at = TWOWAY_HEADER_LEN + kem->enc_len;
    }
    if (at >= op->head_len)
        return 0;
    size_t n = (size_t)1 << (op->head[at] >> 6);
    if (op->head_len - at < n)
        return 0;
    uint64_t v = op->head[at] & 0x3f;
    for (size_t i = 1; i < n; i++)
        v = v << 8 | op->head[at + i];
    return v > 0 && v <= op->total - at - n;
}

/* What to say about a failed opening. noun: "request" or "response";
 * state: the state file of a response. */
static void open_error(const opening *op, int rc, const cli_source *src, const cli_sink *dst,
                       const char *noun, const char *hint)
{
    char partial[160], what[96] = "";
    partial_note(partial, sizeof partial, dst, 1);
    if (rc == OPEN_WRITE_FAILED || rc == OPEN_CALLBACK || (rc == TWOWAY_ERR_IO && src->refused))
        return; /* reported */
    if (rc == TWOWAY_ERR_IO) {
        cli_error("reading %s: %s%s", src->name, strerror(src->err), partial);
        return;
    }
    if (rc == OPEN_MISMATCH) {
        cli_error("the %s is %s; %s", noun, framing(op->s[1].chunked), op->mismatch);
        return;
    }
    if (src->count == 0) {
        cli_error("the %s is empty: nothing came from %s", noun, src->name);
        return;
    }
    /* the failure to report: the chosen framing's, else the expected one's */
    const slot *s = &op->s[op->chosen >= 0 ? op->chosen : 0];
    rc = s->rc;
    /* Nothing authenticated either way, and read as chunked the first chunk
     * was over the limit while the message is long enough to hold it: both
     * readings are possible, say both. */
    const slot *other = op->chosen < 0 && op->pick_any && op->s[1].o != NULL ? &op->s[1] : NULL;
    if (other != NULL && other->chunked && other->rc == TWOWAY_ERR_TOO_BIG &&
        rc != TWOWAY_ERR_HEADER && rc != TWOWAY_ERR_KEY_MISMATCH && first_chunk_fits(op)) {
        cli_error("the %s does not open: read as chunked, its first chunk is larger than "
                  "--max-chunk allows (%zu bytes of plaintext by default): if it is chunked, give "
                  "a larger --max-chunk; if not, %s%s",
                  noun, (size_t)TWOWAY_DEFAULT_OPEN_CHUNK_LEN,
                  strcmp(noun, "request") == 0
                      ? "it was sealed to another key, with another --media-type, or altered"
                      : "it does not belong to this request's state, or it was altered",
                  partial);
        return;
    }
    uint64_t authentic = s->o != NULL ? twoway_opener_authenticated(s->o) : 0;
    twoway_header h;
    if (s->o != NULL && twoway_opener_header(s->o, &h) == TWOWAY_OK)
        describe_header(what, sizeof what, &h);
    switch (rc) {
    case TWOWAY_ERR_HEADER:
        cli_error("this is not a twoway %s: its header is too short or names unknown "
                  "algorithms%s%s%s",
                  noun, what[0] ? " (" : "", what, what[0] ? ")" : "");
        break;
    case TWOWAY_ERR_KEY_MISMATCH:
        cli_error("no key given opens this %s: it is sealed to %s%s", noun, what, hint);
        break;
    case TWOWAY_ERR_KEY:
    case TWOWAY_ERR_DH:
        cli_error("the %s's encapsulated key is not a valid public key: %s", noun,
                  twoway_strerror(rc));
        break;
    case TWOWAY_ERR_EMPTY_CHUNK:
        cli_error("the %s has an empty chunk before its end, which chunked OHTTP forbids: the "
                  "sender is broken%s",
                  noun, partial);
        break;
    case TWOWAY_ERR_TOO_BIG:
        if (s->chunked)
            cli_error("the %s has a chunk larger than --max-chunk allows (%zu bytes of plaintext "
                      "by default): give a larger --max-chunk%s",
                      noun, (size_t)TWOWAY_DEFAULT_OPEN_CHUNK_LEN, partial);
        else
            cli_error("the %s is larger than an unchunked message may be (%zu MiB): its sender "
                      "should chunk it (--chunked)%s",
                      noun, TWOWAY_DEFAULT_MAX_MESSAGE_LEN >> 20, partial);
        break;
    case TWOWAY_ERR_TRUNCATED:
        if (authentic == 0 && strcmp(noun, "response") == 0)
            cli_error("the response is cut short, or it does not belong to the request in %s "
                      "(another suite: its parts have other lengths)%s",
                      hint, partial);
        else
            cli_error("the %s is cut short: it ended before its %s%s", noun,
                      s->chunked ? "final chunk" : "tag", partial);
        break;
    case TWOWAY_ERR_FORMAT:
        cli_error("the %s is malformed: a chunk too short to hold its tag%s", noun, partial);
        break;
    case TWOWAY_ERR_AUTH:
        if (authentic > 0)
            cli_error("the %s was altered: chunk %llu does not authenticate (the %llu before it "
                      "did)%s",
                      noun, (unsigned long long)authentic + 1, (unsigned long long)authentic,
                      partial);
        else if (strcmp(noun, "request") == 0)
            cli_error("the request does not authenticate: it was sealed to another key with %s, "
                      "with another --media-type, or altered on the way%s",
                      what[0] ? what : "the same key id", partial);
        else
            cli_error("this response does not belong to the request in %s (its keys do not open "
                      "it), or it was altered on the way, or sealed with another --media-type%s",
                      hint, partial);
        break;
    default: cli_error("opening the %s: %s%s", noun, twoway_strerror(rc), partial); break;
    }
}

/* Opens src into out; returns 0 or CLI_EXIT_FAIL (reported). */
static int open_to(opening *op, cli_source *src, const char *out, const char *noun,
                   const char *hint)
{
    cli_sink dst;
    if (cli_sink_open(&dst, out, 0) != 0)
        return CLI_EXIT_FAIL;
    int rc = open_stream(op, src, &dst);
    if (rc != TWOWAY_OK) {
        open_error(op, rc, src, &dst, noun, hint);
        cli_sink_abort(&dst);
        return CLI_EXIT_FAIL;
    }
    return cli_sink_commit(&dst, 0) == 0 ? 0 : CLI_EXIT_FAIL;
}

/* ------------------------------------------------------------ requests */

/* Reads --config i into a new buffer (reported). */
static int read_configs(const char *path, uint8_t **buf, size_t *len)
{
    return cli_read_file(path, "key configuration", 1u << 16, buf, len);
}

/* Picks the configuration and suite of path per --key-id, --kdf, --aead. */
static int pick(const cli_args *a, const char *path, const uint8_t *list, size_t len,
                uint16_t kdf_id, uint16_t aead_id, twoway_key_config *cfg, twoway_hpke_suite *suite)
{
    int rc = twoway_key_configs_select(cfg, suite, list, len, a->key_id, kdf_id, aead_id);
    if (rc == TWOWAY_OK)
        return 0;
    if (rc == TWOWAY_ERR_KEY_MISMATCH)
        cli_error("%s has no key configuration with key id %d", path, a->key_id);
    else if (rc == TWOWAY_ERR_UNSUPPORTED && len > 0 &&
             twoway_key_configs_decode(NULL, 0, &(size_t){0}, list, len) == TWOWAY_ERR_BUFFER)
        cli_error("%s accepts no suite with%s%s%s%s%s", path, kdf_id ? " KDF " : "",
                  kdf_id ? twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KDF, kdf_id) : "",
                  aead_id ? " AEAD " : "",
                  aead_id ? twoway_hpke_alg_name(TWOWAY_HPKE_ALG_AEAD, aead_id) : "",
                  kdf_id || aead_id ? "" : " this tool knows");
    else {
        /* the likely mix-up: the private key file instead of its configuration */
        int is_private = len >= 18 && memmem(list, len, "twoway-private-key", 18) != NULL;
        cli_error("reading the key configuration %s: %s%s", path, twoway_strerror(rc),
                  is_private ? " (this is a private key file: --config wants the key "
                               "configuration, the KEYFILE.pub that keygen wrote)"
                             : "");
    }
    return -1;
}

/* A copy of list[i], or of "<stem>-<i + 1><ext>" when the list is shorter. */
static char *nth_name(const char *const *list, size_t n, size_t i, const char *stem,
                      const char *ext)
{
    char buf[64];
    if (i < n)
        return strdup(list[i]);
    snprintf(buf, sizeof buf, "%s-%u%s", stem, (unsigned)i + 1, ext);
    return strdup(buf);
}

int cli_seal_request(const cli_args *a)
{
    int chunked = a->chunked == 1, status = CLI_EXIT_FAIL, rc = TWOWAY_OK;
    size_t n = a->n_config;
    const char *media = a->media ? a->media : default_media(0, chunked);
    const char *rmedia = a->response_media ? a->response_media : default_media(1, chunked);
    twoway_options opt = msg_opts(chunked, a->max_chunk);
    twoway_sealer *sealer = NULL;
    twoway_hpke_key *pub = NULL;
    uint8_t *list = NULL;
    size_t list_len = 0;
    char *states[CLI_MAX_FILES] = {0}, *encs[CLI_MAX_FILES] = {0};
    twoway_context *ctxs[CLI_MAX_FILES] = {0}; /* one-to-many: each receiver's */
    cli_source src;
    int saved = 0;

    if (n > 1 && ((a->n_state != 0 && a->n_state != n) || (a->n_enc != 0 && a->n_enc != n))) {
        cli_error("one-to-many: give --state and --enc once per --config, or not at all");
        return CLI_EXIT_USAGE;
    }
    if (n == 1 && a->n_enc > 0) {
        cli_error("--enc is for one-to-many requests (several --config)");
        return CLI_EXIT_USAGE;
    }
    if (cli_refuse_terminal(a->out, "a sealed request"))
        return CLI_EXIT_FAIL;
    for (size_t i = 0; i < n && rc == TWOWAY_OK; i++) {
        if (n == 1)
            states[i] = strdup(a->n_state ? a->state[0] : "twoway-client.state");
        else {
            states[i] = nth_name(a->state, a->n_state, i, "twoway-client", ".state");
            encs[i] = nth_name(a->enc, a->n_enc, i, "twoway-request", ".enc");
        }
        if (states[i] == NULL || (n > 1 && encs[i] == NULL)) {
            cli_error("%s", strerror(ENOMEM));
            rc = -1;
        } else if (cli_state_remove(states[i]) != 0) {
            /* a stale state must not outlive a failed request (pipelines) */
            rc = -1;
        }
    }
    if (rc != TWOWAY_OK)
        goto done;
    if (cli_source_open(&src, a->in) != 0)
        goto done;

    twoway_hpke_suite suite;
    twoway_key_config cfg;
    uint16_t kdf_id = a->n_kdf ? a->kdf[0] : 0, aead_id = a->n_aead ? a->aead[0] : 0;
    for (size_t i = 0; i < n; i++) {
        twoway_hpke_suite s;
        free(list);
        list = NULL;
        if (read_configs(a->config[i], &list, &list_len) != 0 ||
            pick(a, a->config[i], list, list_len, kdf_id, aead_id, &cfg, &s) != 0)
            goto close;
        if (i == 0) {
            suite = s;
            /* one-to-many: every receiver takes the first one's suite */
            kdf_id = s.kdf->id;
            aead_id = s.aead->id;
        } else if (s.kem != suite.kem) {
            cli_error("one-to-many: %s uses another KEM than %s (every receiver must accept the "
                      "same suite)",
                      a->config[i], a->config[0]);
            goto close;
        }
        rc = twoway_hpke_key_import_public(s.kem, &pub, cfg.public_key, cfg.public_key_len);
        twoway_context *ctx = NULL;
        if (rc == TWOWAY_OK && n == 1)
            rc = twoway_request_sealer_new(&sealer, &s, cfg.key_id, pub, (const uint8_t *)media,
                                           strlen(media), &opt);
        else if (rc == TWOWAY_OK) {
            uint8_t ek[TWOWAY_HEADER_LEN + TWOWAY_HPKE_MAX_ENC_LEN + TWOWAY_MULTI_KEY_LEN +
                       TWOWAY_HPKE_MAX_TAG_LEN];
            size_t ek_len = sizeof ek;
            if (i == 0)
                rc = twoway_multi_request_sealer_new(&sealer, &suite, (const uint8_t *)media,
                                                     strlen(media), &opt);
            if (rc == TWOWAY_OK)
                rc = twoway_multi_encapsulate(sealer, cfg.key_id, pub, ek, &ek_len, &ctx);
            if (rc == TWOWAY_OK && cli_write_file(encs[i], 0, ek, ek_len) != 0) {
                twoway_context_free(ctx);
                goto close;
            }
        }
        twoway_hpke_key_free(pub);
        pub = NULL;
        if (rc != TWOWAY_OK) {
            cli_error("sealing the request to %s: %s", a->config[i], twoway_strerror(rc));
            twoway_context_free(ctx);
            goto close;
        }
        /* the state goes first (marked incomplete): a response command
         * downstream may need it as soon as the request's first byte is out.
         * On standard output it goes once, at the end. */
        ctxs[i] = ctx;
        rc = cli_is_std(states[i])
                 ? 0
                 : cli_state_save(states[i], n == 1 ? twoway_sealer_context(sealer) : ctx, rmedia,
                                  response_chunked(rmedia, chunked), 0, 0);
        if (rc != 0)
            goto close;
        saved = (int)i + 1;
        if (a->verbose)
            fprintf(stderr,
                    "twoway: seal-request: %s request to %s key id %u (%s, %s, %s)%s%s%s%s\n",
                    framing(chunked), a->config[i], (unsigned)cfg.key_id,
                    twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, s.kem->id),
                    twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KDF, s.kdf->id),
                    twoway_hpke_alg_name(TWOWAY_HPKE_ALG_AEAD, s.aead->id), "; state ", states[i],
                    n > 1 ? "; encapsulated key " : "", n > 1 ? encs[i] : "");
    }
    status = seal_to(sealer, &src, a->out, "request", chunked);
    /* the whole request went out: its state says so */
    for (size_t i = 0; i < n && status == 0; i++)
        if (cli_state_save(states[i], n == 1 ? twoway_sealer_context(sealer) : ctxs[i], rmedia,
                           response_chunked(rmedia, chunked), 1, 0) != 0)
            status = CLI_EXIT_FAIL;
close:
    cli_source_close(&src);
done:
    if (status != 0)
        for (int i = 0; i < saved; i++) {
            cli_state_remove(states[i]);
            if (n > 1)
                unlink(encs[i]);
        }
    for (size_t i = 0; i < n; i++) {
        free(states[i]);
        free(encs[i]);
        twoway_context_free(ctxs[i]);
    }
    twoway_sealer_free(sealer);
    twoway_hpke_key_free(pub);
    free(list);
    return status;
}

typedef struct request_side {
    const cli_args *a;
    const char *state;
    int saved, complete;
} request_side;

static const char *server_rmedia(const request_side *r, int chunked)
{
    return r->a->response_media ? r->a->response_media : default_media(1, chunked);
}

/* open-request: the request authenticated (complete: all of it); its state,
 * before its plaintext. */
static int save_server_state(void *arg, const slot *s, int complete)
{
    request_side *r = arg;
    const char *rmedia = server_rmedia(r, s->chunked);
    if (r->a->verbose) {
        twoway_header h;
        char what[96] = "";
        if (twoway_opener_header(s->o, &h) == TWOWAY_OK)
            describe_header(what, sizeof what, &h);
        fprintf(stderr, "twoway: open-request: %s request to %s; state %s\n",
                s->chunked ? "a chunked" : "an unchunked", what, r->state);
    }
    if (cli_is_std(r->state))
        return 0; /* written once, at the end */
    if (cli_state_save(r->state, twoway_opener_context(s->o), rmedia,
                       response_chunked(rmedia, s->chunked), complete, 1) != 0)
        return -1;
    r->saved = 1;
    r->complete = complete;
    return 0;
}

/* The keys of --key into a new ring; their configurations in cfgs (for
 * messages). Keys are kept in keys[] (the ring borrows them). */
static int load_keys(const cli_args *a, twoway_keyring **ring, twoway_hpke_key **keys,
                     twoway_key_config *cfgs)
{
    int rc = twoway_keyring_new(ring);
    if (rc != TWOWAY_OK) {
        cli_error("%s", twoway_strerror(rc));
        return -1;
    }
    for (size_t i = 0; i < a->n_key; i++) {
        uint8_t *text;
        size_t len;
        if (cli_read_file(a->key[i], "key file", TWOWAY_KEY_FILE_MAX_LEN, &text, &len) != 0)
            return -1;
        int state = len >= 4 && (memcmp(text, "TWS1", 4) == 0 || memcmp(text, "TWC1", 4) == 0);
        rc = twoway_key_file_decode(&cfgs[i], &keys[i], (const char *)text, len);
        cli_free_secret(text, len);
        if (rc != TWOWAY_OK && state) {
            cli_error("%s is a state file, not a private key file (--key wants what keygen wrote)",
                      a->key[i]);
            return -1;
        }
        if (rc != TWOWAY_OK) {
            const char *d = twoway_error_detail();
            int config = len >= 3 && rc == TWOWAY_ERR_FORMAT && strstr(d, "binary") != NULL;
            cli_error("%s: %s%s", cli_is_std(a->key[i]) ? "stdin" : a->key[i],
                      d[0] ? d : twoway_strerror(rc),
                      config ? " (a key configuration? --key wants the private key file of "
                               "keygen)"
                             : "");
            return -1;
        }
        rc = twoway_keyring_add_config(*ring, &cfgs[i], keys[i]);
        if (rc != TWOWAY_OK) {
            cli_error("%s: %s", a->key[i],
                      rc == TWOWAY_ERR_ARG ? "its key id and suites are those of an earlier --key"
                                           : twoway_strerror(rc));
            return -1;
        }
    }
    return 0;
}

/* " (the keys given have key id 1 (x25519: sha256/aes128gcm), ...)" */
static void keys_hint(char *out, size_t len, const twoway_key_config *cfgs, size_t n)
{
    size_t off = (size_t)snprintf(out, len, "; the keys given have");
    for (size_t i = 0; i < n && off < len; i++) {
        off += (size_t)snprintf(out + off, len - off, "%s key id %u (%s:", i ? "," : "",
                                (unsigned)cfgs[i].key_id,
                                twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KEM, cfgs[i].kem_id));
        for (size_t j = 0; j < cfgs[i].n_suites && off < len; j++)
            off += (size_t)snprintf(
                out + off, len - off, "%s%s/%s", j ? "," : " ",
                twoway_hpke_alg_name(TWOWAY_HPKE_ALG_KDF, cfgs[i].suites[j].kdf_id),
                twoway_hpke_alg_name(TWOWAY_HPKE_ALG_AEAD, cfgs[i].suites[j].aead_id));
        if (off < len)
            off += (size_t)snprintf(out + off, len - off, ")");
    }
}

int cli_open_request(const cli_args *a)
{
    int status = CLI_EXIT_FAIL;
    twoway_keyring *ring = NULL;
    twoway_hpke_key *keys[CLI_MAX_FILES] = {0};
    twoway_key_config cfgs[CLI_MAX_FILES];
    uint8_t *ek = NULL;
    size_t ek_len = 0;
    opening op;
    request_side side = {a, a->n_state ? a->state[0] : "twoway-server.state", 0, 0};
    char hint[512];
    cli_source src;
    memset(&op, 0, sizeof op);

    if (cli_state_remove(side.state) != 0)
        return CLI_EXIT_FAIL;
    if (load_keys(a, &ring, keys, cfgs) != 0)
        goto done;
    if (a->n_enc > 0 && cli_read_file(a->enc[0], "encapsulated key", 4096, &ek, &ek_len) != 0)
        goto done;
    /* s[0]: the framing asked for (unchunked, OHTTP's plain form, when none
     * was); s[1]: the other one. Either is accepted only under OHTTP's media
     * types, where each framing has a label of its own: under one label for
     * both, the first chunk of a chunked request would open as a whole
     * unchunked one (a truncation). Otherwise s[1] only diagnoses. */
    op.pick_any = a->chunked < 0 && a->media == NULL;
    int made[2];
    for (int i = 0; i < 2; i++) {
        int chunked = i == 0 ? a->chunked == 1 : a->chunked != 1;
        const char *media = a->media ? a->media : default_media(0, chunked);
        twoway_options opt = msg_opts(chunked, a->max_chunk);
        int rc = ek != NULL
                     ? twoway_multi_request_opener_new(&op.s[i].o, ring, (const uint8_t *)media,
                                                       strlen(media), ek, ek_len, &opt)
                     : twoway_request_opener_new(&op.s[i].o, ring, (const uint8_t *)media,
                                                 strlen(media), &opt);
        op.s[i].chunked = chunked;
        made[i] = rc;
        if (rc != TWOWAY_OK)
            op.s[i].o = NULL;
    }
    if (made[0] != TWOWAY_OK && made[1] == TWOWAY_OK && op.pick_any) {
        /* a one-to-many key sealed under the other framing's label */
        op.s[0] = op.s[1];
        op.s[1].o = NULL;
    } else if (made[0] != TWOWAY_OK && made[1] == TWOWAY_OK) {
        cli_error("the request is %s (%s): give %s", framing(op.s[1].chunked),
                  ek != NULL ? "its encapsulated key says so" : "its media type says so",
                  op.s[1].chunked ? "--chunked" : "--no-chunked");
        goto done;
    } else if (made[0] != TWOWAY_OK) {
        int rc = made[0];
        twoway_header h;
        char what[96] = "";
        if (ek != NULL && twoway_header_parse(&h, ek, ek_len) == TWOWAY_OK)
            describe_header(what, sizeof what, &h);
        keys_hint(hint, sizeof hint, cfgs, a->n_key);
        if (rc == TWOWAY_ERR_KEY_MISMATCH)
            cli_error("no key given opens this request: its encapsulated key %s is for %s%s",
                      a->enc[0], what, hint);
        else if (rc == TWOWAY_ERR_AUTH)
            cli_error("the encapsulated key %s does not authenticate: it is for another key "
                      "with %s, or altered",
                      a->enc[0], what);
        else if (rc == TWOWAY_ERR_ARG)
            cli_error("the media type '%s' is %s OHTTP's: give %s", a->media,
                      framing(op.s[1].chunked), op.s[1].chunked ? "--chunked" : "--no-chunked");
        else
            cli_error("opening the request: %s", twoway_strerror(rc));
        goto done;
    }
    if (a->chunked >= 0)
        snprintf(op.mismatch, sizeof op.mismatch, "%s was given: give %s, or neither option",
                 a->chunked ? "--chunked" : "--no-chunked",
                 a->chunked ? "--no-chunked" : "--chunked");
    else
        snprintf(op.mismatch, sizeof op.mismatch,
                 "under one --media-type for both framings, only the one given is accepted "
                 "(unchunked by default): give %s",
                 op.s[1].chunked ? "--chunked" : "--no-chunked");
    if (ek != NULL && ek_len >= TWOWAY_HEADER_LEN) {
        /* a one-to-many body begins with its nonce */
        const twoway_hpke_aead *aead = twoway_hpke_aead_by_id((uint16_t)(ek[5] << 8 | ek[6]));
        op.prefix_len = aead != NULL ? aead->nonce_len : 0;
    }
    op.on_authentic = save_server_state;
    op.arg = &side;
    keys_hint(hint, sizeof hint, cfgs, a->n_key);
    if (cli_source_open(&src, a->in) != 0)
        goto done;
    status = open_to(&op, &src, a->out, "request", hint);
    cli_source_close(&src);
    if (status == 0 && !side.complete) {
        /* the whole request authenticated: its state says so now */
        const slot *s = &op.s[op.chosen];
        const char *rmedia = server_rmedia(&side, s->chunked);
        if (cli_state_save(side.state, twoway_opener_context(s->o), rmedia,
                           response_chunked(rmedia, s->chunked), 1, 1) != 0)
            status = CLI_EXIT_FAIL;
    }
done:
    if (status != 0 && side.saved)
        cli_state_remove(side.state);
    opening_free(&op);
    twoway_keyring_free(ring);
    for (size_t i = 0; i < CLI_MAX_FILES; i++)
        twoway_hpke_key_free(keys[i]);
    cli_free_secret(ek, ek_len);
    return status;
}

/* ----------------------------------------------------------- responses */

/* What a response command keeps of its state. */
typedef struct response_side {
    cli_state st;
    const char *path;
    int server; /* seal-response: the state is used up */
} response_side;

/* The end of a response command's input: its request must be complete
 * (already when the state was loaded, or by now); checked before the end
 * of the response is sealed or accepted. */
static int confirm_request(void *arg)
{
    response_side *r = arg;
    if (cli_state_confirm(&r->st, r->server) != 0) {
        cli_error("the request of %s was not %s whole, or is no longer the last one: %s "
                  "failed, has not finished, or another request wrote %s meanwhile; %s",
                  cli_is_std(r->path) ? "stdin" : r->path, r->server ? "read" : "sent",
                  r->server ? "open-request" : "seal-request",
                  cli_is_std(r->path) ? "its state" : r->path,
                  r->server ? "no whole response is sealed" : "the response is not accepted");
        return -1;
    }
    if (r->server && !r->st.complete)
        cli_state_remove(r->path); /* open-request wrote it again, complete */
    return 0;
}

/* The state of a response command, read once its input begins. */
static int response_state(const cli_args *a, cli_source *src, response_side *r)
{
    r->server = strcmp(cli_command, "seal-response") == 0;
    r->path = a->n_state ? a->state[0] : r->server ? "twoway-server.state" : "twoway-client.state";
    /* In a pipeline the request command upstream writes the state before
     * its first byte reaches us: wait for our input before reading it. */
    if (cli_source_prefetch(src) != 0 || cli_state_load(&r->st, r->path, r->server) != 0)
        return -1;
    /* a server's state serves one response: it is removed now, so that no
     * later response can be sealed with it */
    if (r->server && cli_state_remove(r->path) != 0)
        return -1;
    src->at_end = confirm_request;
    src->at_end_arg = r;
    size_t len;
    const uint8_t *m = twoway_context_response_media_type(r->st.ctx, &len);
    if (a->media != NULL) {
        if (strlen(a->media) != len || memcmp(a->media, m, len) != 0) {
            cli_error("%s was saved for the response media type '%.*s', not '%s' (give the "
                      "same --response-media-type to the request commands)",
                      r->path, (int)len, (const char *)m, a->media);
            return -1;
        }
    }
    return 0;
}

int cli_seal_response(const cli_args *a)
{
    cli_source src;
    response_side r;
    twoway_sealer *sealer = NULL;
    int status = CLI_EXIT_FAIL;
    memset(&r, 0, sizeof r);
    if (cli_refuse_terminal(a->out, "a sealed response") || cli_source_open(&src, a->in) != 0)
        return CLI_EXIT_FAIL;
    if (response_state(a, &src, &r) != 0)
        goto done;
    int chunked = a->chunked >= 0 ? a->chunked : r.st.chunked;
    size_t mlen;
    const uint8_t *m = twoway_context_response_media_type(r.st.ctx, &mlen);
    twoway_options opt = msg_opts(chunked, a->max_chunk);
    int rc = twoway_response_sealer_new(&sealer, r.st.ctx, m, mlen, &opt);
    if (rc == TWOWAY_ERR_ARG)
        cli_error("the response media type '%.*s' is %s OHTTP's: drop %s", (int)mlen,
                  (const char *)m, framing(!chunked), chunked ? "--chunked" : "--no-chunked");
    else if (rc != TWOWAY_OK)
        cli_error("sealing the response: %s", twoway_strerror(rc));
    else
        status = seal_to(sealer, &src, a->out, "response", chunked);
done:
    twoway_sealer_free(sealer);
    cli_state_free(&r.st);
    cli_source_close(&src);
    return status;
}

int cli_open_response(const cli_args *a)
{
    cli_source src;
    response_side r;
    opening op;
    int status = CLI_EXIT_FAIL;
    memset(&op, 0, sizeof op);
    memset(&r, 0, sizeof r);
    if (cli_source_open(&src, a->in) != 0)
        return CLI_EXIT_FAIL;
    if (response_state(a, &src, &r) != 0)
        goto done;
    size_t mlen;
    const uint8_t *m = twoway_context_response_media_type(r.st.ctx, &mlen);
    int expected = a->chunked >= 0 ? a->chunked : r.st.chunked;
    /* The framing is the state's (or the options'): the other one only
     * diagnoses, since a custom response media type labels both. */
    op.pick_any = 0;
    for (int i = 0; i < 2; i++) {
        int chunked = i == 0 ? expected : !expected;
        twoway_options opt = msg_opts(chunked, a->max_chunk);
        int rc = twoway_response_opener_new(&op.s[i].o, r.st.ctx, m, mlen, &opt);
        op.s[i].chunked = chunked;
        if (rc == TWOWAY_ERR_ARG && i == 0) {
            cli_error("the response media type '%.*s' is %s OHTTP's: drop %s", (int)mlen,
                      (const char *)m, framing(!chunked), chunked ? "--chunked" : "--no-chunked");
            goto done;
        } else if (rc != TWOWAY_OK && i == 0) {
            cli_error("opening the response: %s", twoway_strerror(rc));
            goto done;
        }
        if (rc != TWOWAY_OK)
            op.s[i].o = NULL; /* the media type fixes the framing (OHTTP) */
    }
    if (a->chunked >= 0)
        snprintf(op.mismatch, sizeof op.mismatch, "%s was given: give %s, or neither option",
                 a->chunked ? "--chunked" : "--no-chunked",
                 a->chunked ? "--no-chunked" : "--chunked");
    else
        snprintf(op.mismatch, sizeof op.mismatch,
                 "%s says it would be %s (the sender chose otherwise): give %s",
                 cli_is_std(r.path) ? "the state" : r.path, framing(expected),
                 expected ? "--no-chunked" : "--chunked");
    status = open_to(&op, &src, a->out, "response", cli_is_std(r.path) ? "stdin" : r.path);
done:
    opening_free(&op);
    cli_state_free(&r.st);
    cli_source_close(&src);
    return status;
}
