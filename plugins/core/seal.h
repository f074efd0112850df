/* seal.h - the access code sealed for storage (appointment_contacts.code_box).
 *
 * Contract: pure (libsodium primitives only; no RNG, no clock: the nonce is
 * an argument, the caller draws it with randombytes_buf and has called
 * sodium_init). Key = BLAKE2b-256 (crypto_generichash) keyed with the
 * 32-byte code_secret over the context string CONSULT_SEAL_CONTEXT, so the
 * sealing key is independent of the code-hash key. Box = nonce (24) ||
 * crypto_secretbox_easy(plain) (16-byte MAC + plain). The plain text is a
 * short printable ASCII string (the code as shown, "ABCD-EFGH-JKMN"),
 * 1..CONSULT_SEAL_PLAIN_MAX bytes. Unseal authenticates first: a forged,
 * truncated or foreign box (other secret) gives CONSULT_ERR_INVALID_FIELD
 * and an empty output. Key material on the stack is wiped.
 * Errors: CONSULT_ERR_MISSING_FIELD (NULL argument), CONSULT_ERR_TOO_LONG
 * (plain over the maximum), CONSULT_ERR_INVALID_FIELD (empty or
 * non-printable plain, bad box), CONSULT_ERR_INTERNAL (libsodium failed).
 */
#ifndef CONSULT_SEAL_H
#define CONSULT_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include "errors.h"

#define CONSULT_SEAL_CONTEXT    "consult seal v1"
#define CONSULT_SEAL_SECRET_LEN 32 /* = CONSULT_CODE_KEY_LEN */
#define CONSULT_SEAL_NONCE_LEN  24 /* crypto_secretbox_NONCEBYTES */
#define CONSULT_SEAL_MAC_LEN    16 /* crypto_secretbox_MACBYTES */
#define CONSULT_SEAL_PLAIN_MAX  64
#define CONSULT_SEAL_OVERHEAD   (CONSULT_SEAL_NONCE_LEN + CONSULT_SEAL_MAC_LEN)
#define CONSULT_SEAL_BOX_MAX    (CONSULT_SEAL_OVERHEAD + CONSULT_SEAL_PLAIN_MAX)

/* Seals `plain` (NUL-terminated) into box[CONSULT_SEAL_BOX_MAX];
 * *box_len = CONSULT_SEAL_OVERHEAD + strlen(plain). */
consult_err consult_seal(const uint8_t secret[CONSULT_SEAL_SECRET_LEN], const uint8_t nonce[CONSULT_SEAL_NONCE_LEN],
        const char *plain, uint8_t box[CONSULT_SEAL_BOX_MAX], size_t *box_len);

/* Opens a box of box_len bytes into out (NUL-terminated). */
consult_err consult_unseal(const uint8_t secret[CONSULT_SEAL_SECRET_LEN], const uint8_t *box, size_t box_len,
        char out[CONSULT_SEAL_PLAIN_MAX + 1]);

#endif
