/* SPDX-License-Identifier: Apache-2.0 */
/*
 * twoway — HPKE (RFC 9180) request/response messaging. The umbrella header.
 */
#ifndef TWOWAY_TWOWAY_H
#define TWOWAY_TWOWAY_H

#include <twoway/bhttp.h>
#include <twoway/common.h>
#include <twoway/frame.h>
#include <twoway/hpke.h>
#include <twoway/keyfile.h>
#include <twoway/keyring.h>
#include <twoway/message.h>

#endif /* TWOWAY_TWOWAY_H */
