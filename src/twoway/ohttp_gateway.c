/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Oblivious Gateway Resource (RFC 9458 §6.?): key configurations at
 * the well-known path (RFC 9540) and a configurable one; encapsulated
 * requests at the well-known path and the gateway path. This file: the
 * gateway's life (start, keys and their rotation, stop), the HTTP
 * dispatch, the outer errors, and the unchunked path (buffered, within
 * max_request_len). The chunked path is ohttp_gateway_stream.c.
 *
 * Outer errors (RFC 9458 §5.3, §6): an unknown key id or algorithms is
 * 400 with the problem type "ohttp-key" in application/problem+json, so
 * that a client fetches fresh keys; any other request that does not open
 * is 400 with no body, whatever the reason (a tag that fails, a truncated
 * message, a wrong length), so that nothing tells an attacker which byte
 * was wrong. Once a request is open, every error is an answer inside the
 * encapsulation: 400 (not Binary HTTP), 403 (target off the allow-list),
 * 502 (origin down), 504 (origin timed out), 500 (application callback).
 */
#define _POSIX_C_SOURCE 200809L

#include "twoway/ohttp_gateway_internal.h"

#include <twoway/keyfile.h>

#include "common/detail.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char KEY_PROBLEM[] =
    "{\"type\":\"https://iana.org/assignments/http-problem-types#ohttp-key\","
    "\"title\":\"key identifier unknown\"}";

const char *twoway_ohttp_error_detail(void)
{
    return util_detail_get();
}

/* ------------------------------------------------------------------ keys */

static int same_key(const gw_key *a, const twoway_key_config *b)
{
    return a->cfg.key_id == b->key_id && a->cfg.kem_id == b->kem_id &&
           a->cfg.public_key_len == b->public_key_len &&
           memcmp(a->cfg.public_key, b->public_key, b->public_key_len) == 0;
}

static void ring_remove_key(twoway_keyring *ring, const gw_key *k)
{
    for (size_t i = 0; i < k->cfg.n_suites; i++) {
        /* an entry not in the ring (never added) is nothing to remove */
        int rc = twoway_keyring_remove(ring, k->cfg.key_id, k->cfg.kem_id, k->cfg.suites[i].kdf_id,
                                       k->cfg.suites[i].aead_id);
        (void)rc;
    }
}

/* Re-publishes the configurations of the current keys. keys_mu held. */
static int publish(twoway_ohttp_gateway *gw)
{
    twoway_key_config *cur = calloc(gw->n_keys ? gw->n_keys : 1, sizeof *cur);
    size_t n = 0, len = 0;
    if (cur == NULL)
        return TWOWAY_ERR_NOMEM;
    for (size_t i = 0; i < gw->n_keys; i++)
        if (gw->keys[i].current)
            cur[n++] = gw->keys[i].cfg;
    int rc = twoway_key_configs_encode(cur, n, NULL, &len);
    uint8_t *out = NULL;
    if (rc == TWOWAY_ERR_BUFFER && (out = malloc(len)) != NULL)
        rc = twoway_key_configs_encode(cur, n, out, &len);
    else if (rc == TWOWAY_ERR_BUFFER)
        rc = TWOWAY_ERR_NOMEM;
    free(cur);
    if (rc != TWOWAY_OK) {
        free(out);
        return rc;
    }
    free(gw->configs);
    gw->configs = out;
    gw->configs_len = len;
    return TWOWAY_OK;
}

/* Drops the keys whose grace ended. keys_mu held. */
static void expire_keys(twoway_ohttp_gateway *gw, time_t now)
{
    size_t w = 0;
    for (size_t i = 0; i < gw->n_keys; i++) {
        gw_key *k = &gw->keys[i];
        if (!k->current && now >= k->expires) {
            ring_remove_key(gw->ring, k);
            twoway_hpke_key_free(k->key);
            continue;
        }
        gw->keys[w++] = *k;
    }
    gw->n_keys = w;
}

static int load_keys(twoway_ohttp_gateway *gw)
{
    size_t nf = gw->opt.n_key_files;
    gw_key *fresh = calloc(nf, sizeof *fresh);
    int rc = TWOWAY_OK;
    if (fresh == NULL)
        return TWOWAY_ERR_NOMEM;
    for (size_t i = 0; i < nf && rc == TWOWAY_OK; i++) {
        rc = twoway_key_file_load(&fresh[i].cfg, &fresh[i].key, gw->key_files[i]);
        if (rc != TWOWAY_OK)
            util_detail("%s: %s%s%s", gw->key_files[i], twoway_strerror(rc),
                        twoway_error_detail()[0] ? ": " : "", twoway_error_detail());
        for (size_t j = 0; j < i && rc == TWOWAY_OK; j++)
            if (fresh[j].cfg.key_id == fresh[i].cfg.key_id && !same_key(&fresh[j], &fresh[i].cfg)) {
                util_detail("%s: key id %u is also another key's", gw->key_files[i],
                            fresh[i].cfg.key_id);
                rc = TWOWAY_ERR_ARG;
            }
    }
    if (rc != TWOWAY_OK) {
        for (size_t i = 0; i < nf; i++)
            twoway_hpke_key_free(fresh[i].key);
        free(fresh);
        return rc;
    }
    time_t now = time(NULL);
    pthread_mutex_lock(&gw->keys_mu);
    gw_key *all = calloc(gw->n_keys + nf, sizeof *all);
    int *in_files = calloc(gw->n_keys + 1, sizeof *in_files);
    int *id_taken = calloc(gw->n_keys + 1, sizeof *id_taken);
    if (all == NULL || in_files == NULL || id_taken == NULL) {
        pthread_mutex_unlock(&gw->keys_mu);
        free(all);
        free(in_files);
        free(id_taken);
        for (size_t i = 0; i < nf; i++)
            twoway_hpke_key_free(fresh[i].key);
        free(fresh);
        return TWOWAY_ERR_NOMEM;
    }
    /* what becomes of each old key: still in the files (the loaded copy is
     * not needed), or its id taken by a new key (it goes now: the ring
     * tells entries apart by id), or else into its grace period */
    for (size_t i = 0; i < gw->n_keys; i++)
        for (size_t j = 0; j < nf; j++) {
            if (fresh[j].key != NULL && same_key(&gw->keys[i], &fresh[j].cfg)) {
                in_files[i] = 1;
                twoway_hpke_key_free(fresh[j].key);
                fresh[j].key = NULL;
            } else if (fresh[j].cfg.key_id == gw->keys[i].cfg.key_id) {
                id_taken[i] = 1;
            }
        }
    for (size_t i = 0; i < gw->n_keys; i++)
        if (id_taken[i] && !in_files[i])
            ring_remove_key(gw->ring, &gw->keys[i]);
    /* the new keys, all or none */
    size_t j;
    for (j = 0; j < nf && rc == TWOWAY_OK; j++) {
        if (fresh[j].key == NULL)
            continue;
        rc = twoway_keyring_add_config(gw->ring, &fresh[j].cfg, fresh[j].key);
        if (rc != TWOWAY_OK)
            util_detail("%s: cannot serve this key: %s", gw->key_files[j], twoway_strerror(rc));
    }
    if (rc != TWOWAY_OK) {
        /* undo: take the new keys out, put the displaced old ones back */
        for (size_t k = 0; k + 1 < j; k++)
            if (fresh[k].key != NULL)
                ring_remove_key(gw->ring, &fresh[k]);
        for (size_t i = 0; i < gw->n_keys; i++)
            if (id_taken[i] && !in_files[i]) {
                int r2 = twoway_keyring_add_config(gw->ring, &gw->keys[i].cfg, gw->keys[i].key);
                (void)r2;
            }
        pthread_mutex_unlock(&gw->keys_mu);
        for (size_t k = 0; k < nf; k++)
            twoway_hpke_key_free(fresh[k].key);
        free(fresh);
        free(all);
        free(in_files);
        free(id_taken);
        return rc;
    }
    size_t n = 0;
    for (size_t i = 0; i < gw->n_keys; i++) {
        gw_key k = gw->keys[i];
        if (id_taken[i] && !in_files[i]) {
            twoway_hpke_key_free(k.key);
            continue;
        }
        if (in_files[i]) {
            k.current = 1;
        } else if (k.current) {
            k.current = 0;
            k.expires = now + (time_t)gw->opt.grace_seconds;
        }
        all[n++] = k;
    }
    for (j = 0; j < nf; j++)
        if (fresh[j].key != NULL) {
            all[n] = fresh[j];
            all[n].current = 1;
            n++;
        }
    free(fresh);
    free(in_files);
    free(id_taken);
    free(gw->keys);
    gw->keys = all;
    gw->n_keys = n;
    expire_keys(gw, now);
    rc = publish(gw);
    pthread_mutex_unlock(&gw->keys_mu);
    return rc;
}

int twoway_ohttp_gateway_reload(twoway_ohttp_gateway *gw)
{
    util_detail_clear();
    if (gw == NULL)
        return TWOWAY_ERR_ARG;
    return load_keys(gw);
}

/* ---------------------------------------------------------- per request */

enum req_kind { RK_BUFFERED = 1, RK_STREAM, RK_FAILED, RK_DONE };

typedef struct gw_req {
    enum req_kind kind;
    int chunked;
    int error; /* RK_FAILED: why the stream did not open */
    uint8_t *body;
    size_t len, cap;
    int too_big;
    gw_stream *stream;
} gw_req;

int gw_open_error(const twoway_opener *o, int rc)
{
    twoway_header hdr;
    /* a message that ended before its header is truncated, not a key
     * problem: the opener says the header is unknown only once it read one */
    if (rc == TWOWAY_ERR_HEADER && o != NULL && twoway_opener_header(o, &hdr) != TWOWAY_OK)
        return TWOWAY_ERR_TRUNCATED;
    return rc;
}

enum MHD_Result gw_reply_open_error(twoway_ohttp_gateway *gw, struct MHD_Connection *c, int err)
{
    if (err == TWOWAY_ERR_KEY_MISMATCH || err == TWOWAY_ERR_HEADER) {
        GW_STAT(gw, st_key_errors);
        return tw_server_reply(c, MHD_HTTP_BAD_REQUEST, "application/problem+json", KEY_PROBLEM,
                               sizeof KEY_PROBLEM - 1);
    }
    GW_STAT(gw, st_open_errors);
    if (err == TWOWAY_ERR_NOMEM)
        return tw_server_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
    return tw_server_reply(c, MHD_HTTP_BAD_REQUEST, NULL, NULL, 0);
}

/* Opens a whole request, answers it, seals the answer. */
static enum MHD_Result serve_buffered(twoway_ohttp_gateway *gw, struct MHD_Connection *c, gw_req *q)
{
    twoway_opener *o = NULL;
    twoway_bhttp_decoder *d = NULL;
    twoway_ohttp_response r;
    gw_target t;
    uint8_t *pt = NULL, *content = NULL, *sealed = NULL;
    size_t pt_len = 0, content_len = 0, sealed_len = 0;
    enum MHD_Result ret;
    int rc;
    const char *mt = q->chunked ? TWOWAY_OHTTP_CHUNKED_REQUEST : TWOWAY_OHTTP_REQUEST;
    twoway_options opt = TWOWAY_OPTIONS_INIT;
    opt.chunked = q->chunked;
    opt.max_chunk_len = 65536;
    opt.max_message_len = gw->opt.max_request_len;

    gw_target_init(&t);
    gw_response_init(&r, gw->opt.max_response_len);
    rc = twoway_request_opener_new(&o, gw->ring, (const uint8_t *)mt, strlen(mt), &opt);
    if (rc == TWOWAY_OK) {
        pt_len = twoway_opener_max_output(o, q->len);
        pt = malloc(pt_len ? pt_len : 1);
        rc = pt == NULL ? TWOWAY_ERR_NOMEM : twoway_opener_final(o, pt, &pt_len, q->body, q->len);
    }
    rc = gw_open_error(o, rc);
    if (rc != TWOWAY_OK) {
        ret = gw_reply_open_error(gw, c, rc);
        goto out;
    }
    GW_STAT(gw, st_opened);

    /* the Binary HTTP request */
    content = malloc(pt_len ? pt_len : 1);
    rc = content == NULL ? TWOWAY_ERR_NOMEM : twoway_bhttp_decoder_new(&d, 0, NULL);
    size_t off = 0;
    int ended = 0;
    while (rc == TWOWAY_OK && !ended) {
        twoway_bhttp_event ev;
        size_t used;
        rc = twoway_bhttp_decode(d, pt + off, pt_len - off, 1, &used, &ev);
        if (rc != TWOWAY_OK)
            break;
        off += used;
        switch (ev.type) {
        case TWOWAY_BHTTP_REQUEST: rc = gw_target_request(&t, &ev); break;
        case TWOWAY_BHTTP_FIELD:
            if (ev.section == TWOWAY_BHTTP_SECTION_HEADER)
                rc = gw_target_field(&t, &ev);
            break; /* trailers are not forwarded */
        case TWOWAY_BHTTP_CONTENT:
            memcpy(content + content_len, ev.data, ev.data_len);
            content_len += ev.data_len;
            break;
        case TWOWAY_BHTTP_END: ended = 1; break;
        default: break;
        }
    }
    if (rc == TWOWAY_ERR_NOMEM) {
        (void)gw_response_error(&r, 500, "gateway error\n");
    } else if (rc != TWOWAY_OK) {
        GW_STAT(gw, st_open_errors);
        (void)gw_response_error(&r, 400, "not a valid Binary HTTP request\n");
    } else if (gw->opt.handler != NULL) {
        gw_call_handler(gw, &t, content, content_len, q->chunked, &r);
    } else {
        char url[8192];
        unsigned status;
        if (gw_target_url(gw, &t, url, sizeof url, &status) != 0) {
            if (status == 403)
                GW_STAT(gw, st_refused);
            (void)gw_response_error(&r, status,
                                    status == 403 ? "target not allowed\n" : "bad target\n");
        } else {
            gw_forward_buffered(gw, &t, url, content, content_len, &r);
        }
    }
    rc = gw_response_seal(&r, twoway_opener_context(o), q->chunked, &sealed, &sealed_len);
    if (rc != TWOWAY_OK) {
        ret = tw_server_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
        goto out;
    }
    ret = tw_server_reply(c, MHD_HTTP_OK,
                          q->chunked ? TWOWAY_OHTTP_CHUNKED_RES_MEDIA_TYPE
                                     : TWOWAY_OHTTP_RES_MEDIA_TYPE,
                          sealed, sealed_len);
out:
    if (pt != NULL)
        util_wipe(pt, pt_len);
    free(pt);
    if (content != NULL)
        util_wipe(content, content_len);
    free(content);
    free(sealed);
    twoway_bhttp_decoder_free(d);
    twoway_opener_free(o);
    gw_target_free(&t);
    gw_response_free(&r);
    return ret;
}

static int path_is(const char *url, const char *path)
{
    size_t n = strlen(path);
    return strncmp(url, path, n) == 0 && (url[n] == 0 || url[n] == '?');
}

static enum MHD_Result serve_keys(twoway_ohttp_gateway *gw, struct MHD_Connection *c)
{
    pthread_mutex_lock(&gw->keys_mu);
    expire_keys(gw, time(NULL));
    struct MHD_Response *r =
        MHD_create_response_from_buffer(gw->configs_len, gw->configs, MHD_RESPMEM_MUST_COPY);
    pthread_mutex_unlock(&gw->keys_mu);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, TWOWAY_OHTTP_KEYS_MEDIA_TYPE);
    /* keys change at a rotation: caches keep them for a short while only */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=60");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    twoway_ohttp_gateway *gw = cls;
    gw_req *q = *con_cls;
    (void)version;
    if (q == NULL) {
        int is_gateway =
            path_is(url, TWOWAY_OHTTP_WELL_KNOWN_PATH) || path_is(url, gw->gateway_path);
        int is_keys = path_is(url, TWOWAY_OHTTP_WELL_KNOWN_PATH) || path_is(url, gw->keys_path) ||
                      path_is(url, gw->gateway_path);
        if (strcmp(method, "GET") == 0 && is_keys)
            return serve_keys(gw, c);
        if (!is_gateway && !is_keys)
            return tw_server_reply(c, MHD_HTTP_NOT_FOUND, NULL, NULL, 0);
        if (strcmp(method, "POST") != 0 || !is_gateway) {
            return tw_server_reply_allow(c, is_gateway ? "GET, POST" : "GET");
        }
        int chunked;
        if (tw_server_media_is(c, TWOWAY_OHTTP_REQ_MEDIA_TYPE))
            chunked = 0;
        else if (tw_server_media_is(c, TWOWAY_OHTTP_CHUNKED_REQ_MEDIA_TYPE))
            chunked = 1;
        else
            return tw_server_reply(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL, NULL, 0);
        GW_STAT(gw, st_requests);
        pthread_mutex_lock(&gw->keys_mu);
        expire_keys(gw, time(NULL)); /* keys past their grace open nothing */
        pthread_mutex_unlock(&gw->keys_mu);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (!chunked && cl != NULL && strtoull(cl, NULL, 10) > gw->opt.max_request_len)
            return tw_server_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL, 0);
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return MHD_NO;
        q->chunked = chunked;
        /* chunked requests stream, unless the application answers them */
        if (chunked && gw->opt.handler == NULL) {
            q->kind = RK_STREAM;
            if (gw_stream_new(&q->stream, gw) != TWOWAY_OK) {
                free(q);
                return MHD_NO;
            }
        } else {
            q->kind = RK_BUFFERED;
        }
        *con_cls = q;
        return MHD_YES;
    }
    if (q->kind == RK_DONE) {
        *upload_data_size = 0; /* an answer is queued: the rest is dropped */
        return MHD_YES;
    }
    if (q->kind == RK_FAILED) {
        /* libmicrohttpd takes no answer while the upload goes on: the rest
         * of the body is dropped, and the error answered at its end */
        if (*upload_data_size > 0) {
            *upload_data_size = 0;
            return MHD_YES;
        }
        q->kind = RK_DONE;
        return gw_reply_open_error(gw, c, q->error);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->kind == RK_STREAM) {
            int rc = gw_stream_push(q->stream, (const uint8_t *)upload_data, n);
            if (rc != TWOWAY_OK) {
                q->kind = RK_FAILED;
                q->error = rc;
            }
            return MHD_YES;
        }
        if (q->too_big || n > gw->opt.max_request_len - q->len) {
            q->too_big = 1;
            return MHD_YES;
        }
        if (tw_array_grow((void **)&q->body, &q->cap, q->len + n, 1) != 0)
            return MHD_NO;
        memcpy(q->body + q->len, upload_data, n);
        q->len += n;
        return MHD_YES;
    }
    /* the whole request is in */
    enum MHD_Result ret;
    if (q->kind == RK_STREAM)
        ret = gw_stream_finish(q->stream, c);
    else if (q->too_big)
        ret = tw_server_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL, 0);
    else
        ret = serve_buffered(gw, c, q);
    q->kind = RK_DONE;
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    gw_req *q = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (q == NULL)
        return;
    gw_stream_free(q->stream);
    free(q->body);
    free(q);
    *con_cls = NULL;
}

/* ------------------------------------------------------------ lifetime */

static char **dup_list(const char *const *v, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i] == NULL || (out[i] = tw_strdup(v[i])) == NULL) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    return out;
}

static void free_list(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void gateway_free(twoway_ohttp_gateway *gw)
{
    if (gw->daemon != NULL)
        MHD_stop_daemon(gw->daemon);
    for (size_t i = 0; i < gw->n_keys; i++) {
        ring_remove_key(gw->ring, &gw->keys[i]);
        twoway_hpke_key_free(gw->keys[i].key);
    }
    twoway_keyring_free(gw->ring);
    free(gw->keys);
    free(gw->configs);
    free_list(gw->key_files, gw->opt.n_key_files);
    free_list(gw->origins, gw->opt.n_allowed_origins);
    free(gw->listen);
    free(gw->gateway_path);
    free(gw->keys_path);
    free(gw->ca_file);
    pthread_mutex_destroy(&gw->keys_mu);
    free(gw);
}

int twoway_ohttp_gateway_start(twoway_ohttp_gateway **out, const twoway_ohttp_gateway_options *opt)
{
    util_detail_clear();
    if (out == NULL)
        return TWOWAY_ERR_ARG;
    *out = NULL;
    if (opt == NULL || opt->version != TWOWAY_OHTTP_GATEWAY_OPTIONS_VERSION ||
        opt->n_key_files == 0 || opt->key_files == NULL ||
        (opt->n_allowed_origins > 0 && opt->allowed_origins == NULL)) {
        util_detail("options: a version, key files and (for forwarding) origins are needed");
        return TWOWAY_ERR_ARG;
    }
    if (opt->handler == NULL && opt->n_allowed_origins == 0) {
        util_detail("no allowed origin and no handler: every request would be refused");
        return TWOWAY_ERR_ARG;
    }
    if (tw_curl_init() != 0) {
        util_detail("libcurl failed to initialise");
        return TWOWAY_ERR_IO;
    }
    twoway_ohttp_gateway *gw = calloc(1, sizeof *gw);
    if (gw == NULL)
        return TWOWAY_ERR_NOMEM;
    if (pthread_mutex_init(&gw->keys_mu, NULL) != 0) {
        free(gw);
        return TWOWAY_ERR_NOMEM;
    }
    gw->opt = *opt;
    gw->opt.n_key_files = 0; /* until copied */
    gw->opt.n_allowed_origins = 0;
    int rc = TWOWAY_ERR_NOMEM;
    if ((gw->key_files = dup_list(opt->key_files, opt->n_key_files)) == NULL)
        goto fail;
    gw->opt.n_key_files = opt->n_key_files;
    if ((gw->origins = dup_list(opt->allowed_origins, opt->n_allowed_origins)) == NULL)
        goto fail;
    gw->opt.n_allowed_origins = opt->n_allowed_origins;
    if ((gw->listen = tw_strdup(opt->listen ? opt->listen : "127.0.0.1:0")) == NULL ||
        (gw->gateway_path = tw_strdup(
             opt->gateway_path ? opt->gateway_path : TWOWAY_OHTTP_DEFAULT_GATEWAY_PATH)) == NULL ||
        (gw->keys_path =
             tw_strdup(opt->keys_path ? opt->keys_path : TWOWAY_OHTTP_DEFAULT_KEYS_PATH)) == NULL)
        goto fail;
    if (opt->ca_file != NULL && (gw->ca_file = tw_strdup(opt->ca_file)) == NULL)
        goto fail;
    if (gw->gateway_path[0] != '/' || gw->keys_path[0] != '/') {
        util_detail("paths start with '/'");
        rc = TWOWAY_ERR_ARG;
        goto fail;
    }
#define DEF(f, v)                                                                                  \
    if (gw->opt.f == 0)                                                                            \
    gw->opt.f = (v)
    DEF(max_request_len, TWOWAY_OHTTP_DEFAULT_MAX_REQUEST_LEN);
    DEF(max_response_len, TWOWAY_OHTTP_DEFAULT_MAX_RESPONSE_LEN);
    DEF(timeout_ms, TWOWAY_OHTTP_DEFAULT_TIMEOUT_MS);
    DEF(connect_timeout_ms, TWOWAY_OHTTP_DEFAULT_CONNECT_TIMEOUT_MS);
    DEF(max_connections, TWOWAY_OHTTP_DEFAULT_MAX_CONNECTIONS);
    DEF(grace_seconds, TWOWAY_OHTTP_DEFAULT_GRACE_SECONDS);
#undef DEF
    if ((rc = twoway_keyring_new(&gw->ring)) != TWOWAY_OK)
        goto fail;
    if ((rc = load_keys(gw)) != TWOWAY_OK)
        goto fail;
    tw_server_config sc = {gw->listen, gw->opt.max_connections, 60, on_request, gw, on_completed,
                           gw};
    if ((rc = tw_server_start(&gw->daemon, &gw->port, &sc)) != TWOWAY_OK)
        goto fail;
    *out = gw;
    return TWOWAY_OK;
fail:
    gateway_free(gw);
    return rc;
}

unsigned twoway_ohttp_gateway_port(const twoway_ohttp_gateway *gw)
{
    return gw == NULL ? 0 : gw->port;
}

void twoway_ohttp_gateway_stats_get(const twoway_ohttp_gateway *gw, twoway_ohttp_gateway_stats *st)
{
    memset(st, 0, sizeof *st);
    if (gw == NULL)
        return;
    st->requests = __atomic_load_n(&gw->st_requests, __ATOMIC_RELAXED);
    st->opened = __atomic_load_n(&gw->st_opened, __ATOMIC_RELAXED);
    st->key_errors = __atomic_load_n(&gw->st_key_errors, __ATOMIC_RELAXED);
    st->open_errors = __atomic_load_n(&gw->st_open_errors, __ATOMIC_RELAXED);
    st->forwarded = __atomic_load_n(&gw->st_forwarded, __ATOMIC_RELAXED);
    st->origin_errors = __atomic_load_n(&gw->st_origin_errors, __ATOMIC_RELAXED);
    st->refused = __atomic_load_n(&gw->st_refused, __ATOMIC_RELAXED);
    pthread_mutex_t *mu = (pthread_mutex_t *)(uintptr_t)&gw->keys_mu;
    pthread_mutex_lock(mu);
    st->keys = gw->n_keys;
    pthread_mutex_unlock(mu);
}

void twoway_ohttp_gateway_stop(twoway_ohttp_gateway *gw)
{
    if (gw != NULL)
        gateway_free(gw);
}
