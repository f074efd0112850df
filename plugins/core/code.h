/* code.h - patient access codes: generation, normalisation, keyed hash,
 * constant-time comparison and the validity window.
 *
 * Contract: pure functions. Randomness and time come in as arguments.
 * A code is 12 symbols of Crockford base32 (60 bits), shown as
 * XXXX-XXXX-XXXX. Normalisation accepts lower case, spaces and dashes and
 * maps O->0, I/L->1; U is not in the alphabet. Only the keyed hash
 * HMAC-SHA256(key, practice_id as 8 big-endian bytes || normalised code)
 * is ever stored.
 */
#ifndef CONSULT_CODE_H
#define CONSULT_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSULT_CODE_SYMBOLS  12
#define CONSULT_CODE_RANDOM   8                              /* bytes of randomness consumed */
#define CONSULT_CODE_NORM_LEN (CONSULT_CODE_SYMBOLS + 1)     /* "ABCD..."+NUL */
#define CONSULT_CODE_SHOW_LEN (CONSULT_CODE_SYMBOLS + 2 + 1) /* "ABCD-EFGH-JKMN"+NUL */
#define CONSULT_CODE_HASH_LEN 32
#define CONSULT_CODE_KEY_LEN  32

/* Make a code from CONSULT_CODE_RANDOM random bytes (60 bits used).
 * Writes the display form (with dashes) to out. */
void consult_code_generate(const uint8_t random[CONSULT_CODE_RANDOM], char out[CONSULT_CODE_SHOW_LEN]);

/* Normalise user input to the 12-symbol canonical form. Returns false
 * (out untouched) if the input cannot be a code (wrong length or symbol). */
bool consult_code_normalise(const char *input, char out[CONSULT_CODE_NORM_LEN]);

/* Keyed hash of a normalised code for one practice. */
void consult_code_hash(const uint8_t key[CONSULT_CODE_KEY_LEN], int64_t practice_id,
        const char norm[CONSULT_CODE_NORM_LEN], uint8_t out[CONSULT_CODE_HASH_LEN]);

/* Validity window of an appointment: [starts_at - before_s, starts_at + after_s]. */
typedef enum { CONSULT_WINDOW_TOO_EARLY = -1, CONSULT_WINDOW_OPEN = 0, CONSULT_WINDOW_EXPIRED = 1 } consult_window;
consult_window consult_code_window(int64_t now, int64_t valid_from, int64_t valid_until);

#endif
