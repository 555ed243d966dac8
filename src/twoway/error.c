/* SPDX-License-Identifier: Apache-2.0 */
#include <twoway/common.h>

#include "build_info.h"
#include "common/detail.h"

const char *twoway_strerror(int err)
{
    switch (err) {
    case TWOWAY_OK: return "success";
    case TWOWAY_ERR_ARG: return "invalid argument or inconsistent options";
    case TWOWAY_ERR_UNSUPPORTED: return "unknown or unsupported algorithm";
    case TWOWAY_ERR_KEY: return "invalid key";
    case TWOWAY_ERR_AUTH:
        return "authentication failed: the message was altered or the key is wrong";
    case TWOWAY_ERR_LIMIT: return "message limit reached: the sequence number is exhausted";
    case TWOWAY_ERR_BUFFER: return "output buffer too small";
    case TWOWAY_ERR_NOMEM: return "out of memory";
    case TWOWAY_ERR_CRYPTO: return "the cryptographic provider failed";
    case TWOWAY_ERR_DH:
        return "Diffie-Hellman produced the all-zero value (small-order public key)";
    case TWOWAY_ERR_DERIVE: return "key derivation found no valid private key";
    case TWOWAY_ERR_STATE: return "operation not allowed in this state";
    case TWOWAY_ERR_HEADER:
        return "malformed request header: too short, or an unknown algorithm identifier";
    case TWOWAY_ERR_KEY_MISMATCH: return "no key matches that key id and those algorithms";
    case TWOWAY_ERR_TRUNCATED: return "the message is truncated: it ended before it was complete";
    case TWOWAY_ERR_TOO_BIG: return "a chunk or message is larger than the configured limit";
    case TWOWAY_ERR_FORMAT: return "malformed encoding";
    case TWOWAY_ERR_IO: return "reading or writing failed (a read callback, a file)";
    case TWOWAY_ERR_EMPTY_CHUNK:
        return "a non-final chunk carries no data (chunked OHTTP forbids it: the sender is broken)";
    default: return "unknown error";
    }
}

const char *twoway_version(void)
{
    return SECUREIO_VERSION_STRING;
}

const char *twoway_error_detail(void)
{
    return util_detail_get();
}
