/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway/bhttp.h — Binary HTTP messages (RFC 9292, message/bhttp): what
 * Oblivious HTTP carries inside its encapsulation.
 *
 * A message is a request (method, scheme, authority, path) or a response
 * (any number of informational 1xx responses, then a final status), a header
 * section, content and a trailer section, in one of two forms:
 *
 *   known-length    each section and the content carry their length first;
 *   indeterminate   field sections end with a zero, content is a sequence of
 *                   length-prefixed chunks ending with a zero: a body of any
 *                   size streams (chunked OHTTP carries this form).
 *
 * Either form may be truncated after its control data or after a whole
 * section (the sections left out are empty), and padded with zero bytes.
 *
 * Decoding is pull-style and keeps constant memory: hand in bytes in pieces
 * of any size and take out events (the request line, a status, one field,
 * a piece of content, the end of a section, the end of the message). Content
 * is never copied: a content event points into the caller's input. Fields
 * are gathered in the decoder's own buffer, whose size is a limit. A decoder
 * rejects, never repairs: invalid syntax is TWOWAY_ERR_FORMAT, a message that
 * ends where it may not TWOWAY_ERR_TRUNCATED, a limit passed
 * TWOWAY_ERR_TOO_BIG; after an error every call returns the same error.
 *
 * What a decoder checks (RFC 9292 §3, with HTTP/2's field rules that it
 * cites): the framing indicator; request or response as the decoder was made
 * for; a method that is a token; scheme, authority and path without control
 * characters, spaces or bytes above 0x7e; a scheme and a path in every
 * request but a CONNECT, which has an authority, no scheme and no path (RFC
 * 9113 §8.3.1, §8.5; an extended CONNECT has all three); a final status of
 * 200-599 and informational ones of 100-199; field names that are tokens
 * (upper-case letters are given back in lower case, as HTTP/2 writes them)
 * and are not :method, :scheme, :authority, :path or :status; other
 * pseudo-fields (":name") only before the section's first regular field and
 * never in a trailer section; field values without NUL, CR or LF and without
 * white space at either end; padding of zeros only. Field semantics (a
 * Content-Length that disagrees with the content, connection-specific fields)
 * are the application's to judge.
 *
 * Encoding writes whole messages (twoway_bhttp_encode) or, to stream, the
 * part before the content (twoway_bhttp_encode_head), each content chunk's
 * prefix (twoway_bhttp_chunk_prefix) and the part after the content
 * (twoway_bhttp_encode_tail). Encoders refuse (TWOWAY_ERR_ARG) what the
 * decoder would refuse, and write field names in lower case.
 *
 * Buffers follow the library's rule: *out_len is the room in out on entry
 * and the bytes written on return; when the room is too small the result is
 * TWOWAY_ERR_BUFFER with *out_len set to the size needed.
 */
#ifndef TWOWAY_BHTTP_H
#define TWOWAY_BHTTP_H

#include <twoway/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- constants */

#define TWOWAY_BHTTP_MEDIA_TYPE "message/bhttp"

/* The form of a message (its framing indicator is 2 * form + response). */
#define TWOWAY_BHTTP_KNOWN_LENGTH 0
#define TWOWAY_BHTTP_INDETERMINATE 1

/* Default limits of a decoder (twoway_bhttp_limits, 0 fields take these). */
#define TWOWAY_BHTTP_DEFAULT_MAX_FIELD_LEN 16384u   /* one name + value */
#define TWOWAY_BHTTP_DEFAULT_MAX_CONTROL_LEN 16384u /* method+scheme+authority+path */
#define TWOWAY_BHTTP_DEFAULT_MAX_FIELDS 256u        /* per section */
#define TWOWAY_BHTTP_DEFAULT_MAX_SECTION_LEN 65536u /* encoded bytes of a section */
#define TWOWAY_BHTTP_DEFAULT_MAX_INFORMATIONAL 16u  /* 1xx responses */
#define TWOWAY_BHTTP_DEFAULT_MAX_PADDING ((uint64_t)1 << 20)
/* The largest value a length can have (a QUIC variable-length integer). */
#define TWOWAY_BHTTP_MAX_VARINT (((uint64_t)1 << 62) - 1)
/* The longest content chunk prefix. */
#define TWOWAY_BHTTP_MAX_PREFIX_LEN 8u

/* ------------------------------------------------------------- messages */

typedef struct twoway_bhttp_field {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
} twoway_bhttp_field;

/* One informational (1xx) response of a response message. */
typedef struct twoway_bhttp_informational {
    uint16_t status; /* 100-199 */
    const twoway_bhttp_field *fields;
    size_t n_fields;
} twoway_bhttp_informational;

#define TWOWAY_BHTTP_MESSAGE_VERSION 1u

/*
 * A message to encode. Strings are (pointer, length) pairs that need not be
 * NUL-terminated; NULL with length 0 is an empty one.
 */
typedef struct twoway_bhttp_message {
    uint32_t version; /* TWOWAY_BHTTP_MESSAGE_VERSION */
    int response;     /* 0: request, 1: response */
    /* request control data (method must not be empty) */
    const uint8_t *method;
    size_t method_len;
    const uint8_t *scheme;
    size_t scheme_len;
    const uint8_t *authority;
    size_t authority_len;
    const uint8_t *path;
    size_t path_len;
    /* response control data */
    uint16_t status; /* 200-599 */
    const twoway_bhttp_informational *informational;
    size_t n_informational;
    /* both */
    const twoway_bhttp_field *headers;
    size_t n_headers;
    const uint8_t *content; /* twoway_bhttp_encode only; see encode_head */
    size_t content_len;
    const twoway_bhttp_field *trailers;
    size_t n_trailers;
    /* Leave out the empty sections at the end (trailer; then content; then
     * header section), as RFC 9292 §3.8 allows. */
    int truncate;
    size_t padding; /* zero bytes written at the end */
} twoway_bhttp_message;

/* ----------------------------------------------------------------- encoder */

/* The whole message m in the given form. Errors: TWOWAY_ERR_ARG (a field,
 * method, status or string the decoder would refuse; a wrong version),
 * TWOWAY_ERR_BUFFER, TWOWAY_ERR_TOO_BIG (the size does not fit a size_t;
 * the same three for encode_head and encode_tail). */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_bhttp_encode(const twoway_bhttp_message *m, int form,
                                                     uint8_t *out, size_t *out_len);

/*
 * Streaming: what comes before the content — framing indicator,
 * informational responses, control data and header section — and then,
 * in the known-length form, the content's length prefix (m->content_len:
 * the caller then writes exactly that many bytes of content itself). In
 * the indeterminate form the caller then writes chunks: a prefix from
 * twoway_bhttp_chunk_prefix() followed by that many bytes. m->content,
 * m->truncate and m->padding are not used here.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_bhttp_encode_head(const twoway_bhttp_message *m, int form,
                                                          uint8_t *out, size_t *out_len);

/* The prefix of an indeterminate-length content chunk of len bytes (len >= 1:
 * a zero length would end the content) into out[TWOWAY_BHTTP_MAX_PREFIX_LEN];
 * returns its length, or 0 when len is 0 or above TWOWAY_BHTTP_MAX_VARINT. */
TWOWAY_API size_t twoway_bhttp_chunk_prefix(uint64_t len, uint8_t out[TWOWAY_BHTTP_MAX_PREFIX_LEN]);

/* Streaming: what comes after the content — in the indeterminate form the
 * content terminator — then the trailer section (m->trailers) and
 * m->padding zero bytes. m->truncate leaves out an empty trailer section. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_bhttp_encode_tail(const twoway_bhttp_message *m, int form,
                                                          uint8_t *out, size_t *out_len);

/* ----------------------------------------------------------------- decoder */

#define TWOWAY_BHTTP_LIMITS_VERSION 1u

/* Limits of a decoder; zero fields take the defaults above. */
typedef struct twoway_bhttp_limits {
    uint32_t version;         /* TWOWAY_BHTTP_LIMITS_VERSION */
    size_t max_field_len;     /* name + value of one field line */
    size_t max_control_len;   /* the four strings of a request's control data */
    size_t max_fields;        /* field lines in one section */
    uint64_t max_section_len; /* encoded bytes of one field section */
    size_t max_informational; /* informational responses */
    uint64_t max_content_len; /* content; 0: no limit */
    uint64_t max_padding;     /* zero bytes after the message */
} twoway_bhttp_limits;

#define TWOWAY_BHTTP_LIMITS_INIT                                                                   \
    {                                                                                              \
        TWOWAY_BHTTP_LIMITS_VERSION, 0, 0, 0, 0, 0, 0, 0                                           \
    }

typedef enum twoway_bhttp_event_type {
    TWOWAY_BHTTP_NEED_MORE = 0,     /* all input is used; hand in more */
    TWOWAY_BHTTP_REQUEST = 1,       /* request control data: ev->method ... ev->path */
    TWOWAY_BHTTP_INFORMATIONAL = 2, /* an informational status (ev->status); its fields follow */
    TWOWAY_BHTTP_STATUS = 3,        /* the final status (ev->status) */
    TWOWAY_BHTTP_FIELD = 4,         /* one field line of ev->section */
    TWOWAY_BHTTP_SECTION_END = 5,   /* ev->section is complete */
    TWOWAY_BHTTP_CONTENT = 6,       /* ev->data[ev->data_len] of content (may be split anywhere) */
    TWOWAY_BHTTP_END = 7            /* the message is complete and valid */
} twoway_bhttp_event_type;

/* Which field section a FIELD or SECTION_END belongs to. The content ends
 * with SECTION_END of TWOWAY_BHTTP_SECTION_CONTENT. */
enum {
    TWOWAY_BHTTP_SECTION_INFORMATIONAL = 1,
    TWOWAY_BHTTP_SECTION_HEADER = 2,
    TWOWAY_BHTTP_SECTION_CONTENT = 3,
    TWOWAY_BHTTP_SECTION_TRAILER = 4
};

/*
 * One event. Its pointers are valid until the next call on the decoder and,
 * for content, as long as the input they point into.
 */
typedef struct twoway_bhttp_event {
    twoway_bhttp_event_type type;
    int section;
    int form; /* TWOWAY_BHTTP_KNOWN_LENGTH or _INDETERMINATE, from REQUEST/STATUS on */
    uint16_t status;
    const uint8_t *method, *scheme, *authority, *path;
    size_t method_len, scheme_len, authority_len, path_len;
    const uint8_t *name, *value; /* FIELD: name in lower case */
    size_t name_len, value_len;
    const uint8_t *data; /* CONTENT */
    size_t data_len;
} twoway_bhttp_event;

typedef struct twoway_bhttp_decoder twoway_bhttp_decoder;

/* A decoder of one request (response 0) or one response (response 1).
 * limits may be NULL (the defaults). TWOWAY_ERR_ARG for another response
 * value or a wrong limits version, TWOWAY_ERR_NOMEM. It allocates
 * once, here: max_field_len or max_control_len bytes, the larger. */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_bhttp_decoder_new(twoway_bhttp_decoder **out, int response,
                                                          const twoway_bhttp_limits *limits);

/*
 * Reads from in[in_len] until it has an event, and says in *consumed how many
 * bytes it used (always all of them with TWOWAY_BHTTP_NEED_MORE; call again
 * with the rest otherwise). last = 1 says that in ends the message: then the
 * sections a truncated message leaves out are reported (each as an empty
 * SECTION_END) and the last event is TWOWAY_BHTTP_END, which further calls
 * repeat. Once a left-out part was read so, the end stands: bytes handed in
 * afterwards (whatever last says) are padding. Bytes after the message other
 * than zeros are TWOWAY_ERR_FORMAT; an end at a place where the message may
 * not end is TWOWAY_ERR_TRUNCATED.
 */
TWOWAY_API TWOWAY_MUST_CHECK int twoway_bhttp_decode(twoway_bhttp_decoder *d, const uint8_t *in,
                                                     size_t in_len, int last, size_t *consumed,
                                                     twoway_bhttp_event *ev);

/* Content bytes seen so far. */
TWOWAY_API uint64_t twoway_bhttp_decoder_content_len(const twoway_bhttp_decoder *d);

/* Makes the decoder new again, for another message (limits kept). */
TWOWAY_API void twoway_bhttp_decoder_reset(twoway_bhttp_decoder *d);
TWOWAY_API void twoway_bhttp_decoder_free(twoway_bhttp_decoder *d);

#ifdef __cplusplus
}
#endif

#endif /* TWOWAY_BHTTP_H */
