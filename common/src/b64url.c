/* base64url codec for JOSE segments (see med/b64url.h). */
#include "med/b64url.h"

static const char k_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int sextet_of(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

size_t med_b64url_decoded_max(size_t len)
{
    return len / 4 * 3 + 2;
}

long med_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (len % 4 == 1) return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = sextet_of(in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap) return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, or two strings would decode alike. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return -1;
    return (long)n;
}

size_t med_b64url_encoded_len(size_t len)
{
    return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

long med_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t need = med_b64url_encoded_len(len);
    if (cap < need + 1) return -1;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = k_alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out[n++] = k_alphabet[(acc << (6 - bits)) & 63];
    out[n] = '\0';
    return (long)n;
}
