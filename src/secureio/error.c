#include <secureio/secureio.h>

#include "build_info.h"

const char *secureio_strerror(int err)
{
    switch (err) {
    case SECUREIO_OK: return "success";
    case SECUREIO_ERR_ARG: return "invalid argument";
    case SECUREIO_ERR_NOMEM: return "out of memory";
    case SECUREIO_ERR_CRYPTO: return "a cryptographic primitive failed";
    case SECUREIO_ERR_BUFFER: return "output buffer too small";
    default: return "unknown error";
    }
}

const char *secureio_version(void)
{
    return SECUREIO_VERSION_STRING;
}
