/* base64url without padding (RFC 4648 section 5), as JOSE uses it. */
#ifndef MED_B64URL_H
#define MED_B64URL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to decode len characters (an upper bound). */
size_t med_b64url_decoded_max(size_t len);
/* Decodes len characters into out (cap bytes). Padding '=', the standard
 * alphabet's '+' '/', whitespace and a dangling single character are
 * refused: a JWS segment has exactly one spelling. Returns the decoded
 * length, or -1. */
long med_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);
/* Characters needed to encode len bytes, without the terminator. */
size_t med_b64url_encoded_len(size_t len);
/* Encodes into out (cap includes the terminator). Returns the length, or
 * -1 when cap is too small. */
long med_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
