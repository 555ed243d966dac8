/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secureio/identity.h — long-term Ed25519 identities in OpenSSH's formats.
 *
 * A private identity is what `ssh-keygen -t ed25519 -N ''` writes (the
 * openssh-key-v1 file, unencrypted); a public key is the
 * `ssh-ed25519 AAAA… comment` line of a .pub or authorized_keys file. Both
 * are read and written. A peer is authorized by a pinned public key or by a
 * key list (an authorized_keys-style file). What is accepted, refused and
 * written: secureio_identity_load(3), and IDENTITY.md in the package's
 * documentation folder (share/doc/secureio/docs). The file functions say which
 * file failed and why in secureio_error_detail().
 *
 * Threads: an identity is immutable once made and may be used by several
 * threads at once (signing included). A key list may be read
 * (secureio_keylist_contains, _count; an engine's peer checks) by several
 * threads at once, but an addition (_add, _parse, _load) must not run
 * beside any other use of the same list.
 */
#ifndef SECUREIO_IDENTITY_H
#define SECUREIO_IDENTITY_H

#include <secureio/secureio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SECUREIO_PUBLIC_KEY_LEN 32u /* an Ed25519 public key */
#define SECUREIO_SEED_LEN 32u       /* an Ed25519 private key (its seed) */
#define SECUREIO_SIGNATURE_LEN 64u
/* Largest private key file we read, and largest comment we keep. */
#define SECUREIO_MAX_KEY_FILE_LEN 65536u
#define SECUREIO_MAX_COMMENT_LEN 1024u

/* ------------------------------------------------------------ private */

typedef struct secureio_identity secureio_identity;

/* A fresh random identity. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_identity_generate(secureio_identity **out);
/* The identity of a 32-byte Ed25519 seed. */
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_identity_from_seed(secureio_identity **out, const uint8_t seed[SECUREIO_SEED_LEN]);

/*
 * Parses an OpenSSH private key file's text (-----BEGIN OPENSSH PRIVATE
 * KEY-----). SECUREIO_ERR_ENCRYPTED_KEY if it is protected by a passphrase,
 * SECUREIO_ERR_UNSUPPORTED for a key that is not Ed25519 (or another PEM
 * armor), SECUREIO_ERR_FORMAT for anything malformed (including a public
 * half that does not match the private one, check integers that differ,
 * wrong padding, a comment over SECUREIO_MAX_COMMENT_LEN or holding a NUL),
 * SECUREIO_ERR_LIMIT when len > SECUREIO_MAX_KEY_FILE_LEN.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_identity_decode(secureio_identity **out,
                                                              const char *text, size_t len);
/* The file's text as ssh-keygen writes it (70-column base64, trailing
 * newline; no NUL is added), with a random check integer. comment: NULL for
 * the identity's own; SECUREIO_ERR_ARG if over SECUREIO_MAX_COMMENT_LEN.
 * *out_len: room on entry, bytes written on return (the size needed on
 * SECUREIO_ERR_BUFFER; out may be NULL to ask). The text holds the private
 * key: wipe it when done. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_identity_encode(const secureio_identity *id,
                                                              const char *comment, char *out,
                                                              size_t *out_len);

/* Paths: in every function of this header that takes one, a leading "~/"
 * is the user's home folder ($HOME, else the password database), as in
 * ssh's configuration; "~user/" is not expanded. */

/* Reads a private key file (at most SECUREIO_MAX_KEY_FILE_LEN bytes, else
 * SECUREIO_ERR_LIMIT); SECUREIO_ERR_IO with errno set when it cannot be
 * read; SECUREIO_ERR_PERMISSIONS when the file is ours and its group or
 * others may read or write it (ssh refuses such a key too: chmod 600);
 * then as secureio_identity_decode(). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_identity_load(secureio_identity **out,
                                                            const char *path);
/*
 * Writes the private key to path (mode 0600) and the public key line to
 * path.pub (0644), whatever the umask. Each file is written to a temporary
 * file in the same directory, flushed and renamed into place: never a
 * half-written file. comment: NULL for the identity's own;
 * SECUREIO_ERR_ARG if it holds a line break or is over
 * SECUREIO_MAX_COMMENT_LEN. SECUREIO_ERR_IO (errno set) on a file error.
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_identity_save(const secureio_identity *id,
                                                            const char *path, const char *comment);
/* Loads path, or generates an identity (with comment, which may be NULL)
 * and saves it there when the file does not exist (*created, if not NULL,
 * says which); a missing folder that would hold it is made (one level,
 * mode 0700: ~/.ssh on a fresh account). Any other failure to load is
 * returned: an existing file is never replaced, and of two processes
 * creating it at once, both end up with the same key. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_identity_load_or_create(secureio_identity **out,
                                                                      const char *path,
                                                                      const char *comment,
                                                                      int *created);

SECUREIO_API void secureio_identity_public_key(const secureio_identity *id,
                                               uint8_t pk[SECUREIO_PUBLIC_KEY_LEN]);
/* The comment read from the file ("" when none). */
SECUREIO_API const char *secureio_identity_comment(const secureio_identity *id);
/* An Ed25519 signature of msg. */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_identity_sign(const secureio_identity *id,
                                                            uint8_t sig[SECUREIO_SIGNATURE_LEN],
                                                            const uint8_t *msg, size_t msg_len);
/* Wipes the private key. NULL is allowed. */
SECUREIO_API void secureio_identity_free(secureio_identity *id);

/* 0 if sig is pk's valid signature of msg, else SECUREIO_ERR_AUTH. */
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_signature_verify(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN],
                          const uint8_t sig[SECUREIO_SIGNATURE_LEN], const uint8_t *msg,
                          size_t msg_len);

/* ------------------------------------------------------------- public */

/*
 * Parses one public key line: "ssh-ed25519 AAAA… [comment]" (leading and
 * trailing blanks allowed, a trailing newline allowed). The base64 blob must
 * decode to string "ssh-ed25519" || string pk(32), nothing more.
 * Blanks between the fields may be several spaces or tabs; the comment is
 * the rest of the line (inner blanks kept). SECUREIO_ERR_UNSUPPORTED for
 * another key type name, SECUREIO_ERR_FORMAT for anything else wrong (a
 * second line, a NUL, bad base64, another type inside the blob). comment
 * (may be NULL) gets at most comment_len - 1 bytes and a NUL ("" on error).
 */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_public_key_parse(uint8_t pk[SECUREIO_PUBLIC_KEY_LEN],
                                                               const char *line, size_t len,
                                                               char *comment, size_t comment_len);
/* "ssh-ed25519 AAAA… comment\n" (no comment part when comment is NULL or
 * empty; no NUL added). *out_len as for secureio_identity_encode().
 * SECUREIO_ERR_ARG for a comment with a line break or over
 * SECUREIO_MAX_COMMENT_LEN. */
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_public_key_format(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN], const char *comment,
                           char *out, size_t *out_len);
/* Reads the first key line of a .pub file: the first line that is neither
 * blank nor a '#' comment (SECUREIO_ERR_FORMAT if there is none). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_public_key_load(uint8_t pk[SECUREIO_PUBLIC_KEY_LEN],
                                                              const char *path);
/* SHA256:… fingerprint as ssh-keygen -lf prints it (43 base64 chars). */
#define SECUREIO_FINGERPRINT_LEN 51u /* "SHA256:" + 43 + NUL, rounded */
SECUREIO_API void secureio_public_key_fingerprint(const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN],
                                                  char out[SECUREIO_FINGERPRINT_LEN]);

/* ------------------------------------------------------------ key lists */

/* A set of authorized public keys. */
typedef struct secureio_keylist secureio_keylist;

SECUREIO_API SECUREIO_MUST_CHECK int secureio_keylist_new(secureio_keylist **out);
/* Adding a key already present is not an error. */
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_keylist_add(secureio_keylist *list, const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN]);
/*
 * authorized_keys text: one key per line; blank lines and '#' comments
 * skipped; lines of other key types (ssh-rsa, …) skipped. An options prefix
 * before "ssh-ed25519" is read as sshd reads it: options that only govern
 * ssh features (no-pty, restrict, permitopen="…", …) have no effect; a line
 * with cert-authority, principals=, from=, expiry-time=, command= or an
 * option sshd does not know authorizes nothing (it is skipped: the library
 * cannot honour the restriction). IDENTITY.md lists them all. A malformed
 * ssh-ed25519 line rejects the whole text (SECUREIO_ERR_FORMAT; *bad_line,
 * if not NULL, gets its 1-based number, else 0) and leaves the list as it
 * was. Lines that are not keys are skipped, as sshd does.
 */
SECUREIO_API SECUREIO_MUST_CHECK int
secureio_keylist_parse(secureio_keylist *list, const char *text, size_t len, size_t *bad_line);
/* At most 16 * SECUREIO_MAX_KEY_FILE_LEN bytes (else SECUREIO_ERR_LIMIT). */
SECUREIO_API SECUREIO_MUST_CHECK int secureio_keylist_load(secureio_keylist *list, const char *path,
                                                           size_t *bad_line);
/* 1 if pk is in the list, else 0. Compares pk with every entry in
 * constant time: the time depends only on the list's size. */
SECUREIO_API int secureio_keylist_contains(const secureio_keylist *list,
                                           const uint8_t pk[SECUREIO_PUBLIC_KEY_LEN]);
SECUREIO_API size_t secureio_keylist_count(const secureio_keylist *list);
SECUREIO_API void secureio_keylist_free(secureio_keylist *list);

#ifdef __cplusplus
}
#endif

#endif /* SECUREIO_IDENTITY_H */
