/* SPDX-License-Identifier: Apache-2.0 */
#include <secureio/engine.h>
#include <secureio/secureio.h>

#include "build_info.h"
#include "common/detail.h"

const char *secureio_strerror(int err)
{
    switch (err) {
    case SECUREIO_OK: return "success";
    case SECUREIO_ERR_ARG: return "invalid argument";
    case SECUREIO_ERR_NOMEM: return "out of memory";
    case SECUREIO_ERR_CRYPTO: return "a cryptographic primitive failed";
    case SECUREIO_ERR_BUFFER: return "output buffer too small";
    case SECUREIO_ERR_FORMAT: return "malformed input";
    case SECUREIO_ERR_ENCRYPTED_KEY:
        return "the private key is encrypted with a passphrase (not supported: remove it with "
               "ssh-keygen -p)";
    case SECUREIO_ERR_IO: return "reading or writing a file failed";
    case SECUREIO_ERR_AUTH: return "authentication failed: forged, altered or replayed data";
    case SECUREIO_ERR_PEER: return "the peer's identity is not authorized";
    case SECUREIO_ERR_STATE: return "operation not allowed in this state";
    case SECUREIO_ERR_LIMIT: return "a counter or size limit was reached";
    case SECUREIO_ERR_TIMEOUT:
        return "timed out: the handshake did not complete, or the peer fell silent";
    case SECUREIO_ERR_UNSUPPORTED: return "unsupported key type, version or option";
    case SECUREIO_ERR_CLOSED: return "the session is closed";
    case SECUREIO_ERR_AGAIN: return "would block: the send queue is full";
    case SECUREIO_ERR_KEY_EXPIRED:
        return "the session's keys expired: no rekey completed within their lifetime";
    case SECUREIO_ERR_PERMISSIONS:
        return "the private key file is readable by others (it must be mode 600, as ssh requires)";
    case SECUREIO_ERR_TRANSPORT:
        return "the connection ended or failed without the peer's authenticated close";
    default: return "unknown error";
    }
}

const char *secureio_drop_reason_str(int reason)
{
    switch (reason) {
    case SECUREIO_DROP_MALFORMED: return "malformed packet";
    case SECUREIO_DROP_AUTH: return "failed authentication";
    case SECUREIO_DROP_REPLAY: return "replayed or too old";
    case SECUREIO_DROP_STALE: return "handshake packet for no handshake in progress";
    case SECUREIO_DROP_PEER: return "identity not authorized";
    case SECUREIO_DROP_RATE: return "over the handshake rate limit";
    case SECUREIO_DROP_NO_KEY: return "no key for its epoch";
    case SECUREIO_DROP_OPTIONS: return "options disagree (PSK or version)";
    case SECUREIO_DROP_NOT_FOR_US:
        return "not for this engine (no proof of our key, another index)";
    case SECUREIO_DROP_FRAGMENT:
        return "a message over the size limits, or a fragment that breaks its message";
    default: return "unknown reason";
    }
}

const char *secureio_version(void)
{
    return SECUREIO_VERSION_STRING;
}

const char *secureio_error_detail(void)
{
    return util_detail_get();
}
