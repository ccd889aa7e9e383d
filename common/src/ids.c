/* Identifier generation and hashing (spec 01 section 0). */
#include "med/ids.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/sha.h>

static const char hex_digits[] = "0123456789abcdef";

/* Key IDs are 8 random bytes = 16 hex chars (spec: h16-sized). */
#define MED_ID_RANDOM_BYTES 8

int med_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t done = 0;
    if (n > 0 && !buf) return -1;
    while (done < n) {
        ssize_t got = getrandom(p + done, n - done, 0);
        if (got < 0) {
            /* EINTR only interrupts large requests; retrying is correct. */
            if (errno == EINTR) continue;
            return -1;
        }
        done += (size_t)got;
    }
    return 0;
}

static void bytes_to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

int med_random_hex(char *out, size_t cap, size_t nbytes)
{
    if (!out || cap == 0 || nbytes > (cap - 1) / 2) return -1;
    unsigned char chunk[32];
    size_t done = 0;
    while (done < nbytes) {
        size_t take = nbytes - done < sizeof chunk ? nbytes - done : sizeof chunk;
        if (med_random_bytes(chunk, take) != 0) {
            out[0] = '\0';
            return -1;
        }
        bytes_to_hex(chunk, take, out + 2 * done);
        done += take;
    }
    out[2 * nbytes] = '\0';
    return 0;
}

int med_id_new(char *out, size_t cap, const char *prefix)
{
    if (!out || cap == 0) return -1;
    if (!prefix) prefix = "";
    size_t plen = strlen(prefix);
    if (plen + 2 * MED_ID_RANDOM_BYTES + 1 > cap) {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, prefix, plen);
    return med_random_hex(out + plen, cap - plen, MED_ID_RANDOM_BYTES);
}

void med_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    static const unsigned char empty = 0;
    if (!data) data = &empty; /* len must then be 0: hash of "" */
    if (!SHA256(data, len, digest)) {
        out[0] = '\0';
        return;
    }
    bytes_to_hex(digest, sizeof digest, out);
}

int med_hash_key(char *out, size_t cap, const char *prefix, const char *data, size_t n)
{
    if (!out || cap == 0) return -1;
    out[0] = '\0';
    if (n == 0 || n > 64) return -1;
    if (!prefix) prefix = "";
    if (!data) data = "";
    size_t plen = strlen(prefix);
    if (plen + n + 1 > cap) return -1;
    char digest_hex[65];
    med_sha256_hex(data, strlen(data), digest_hex);
    if (digest_hex[0] == '\0') return -1;
    memcpy(out, prefix, plen);
    memcpy(out + plen, digest_hex, n);
    out[plen + n] = '\0';
    return 0;
}

static int is_ascii_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_key_tail_char(char c)
{
    return is_ascii_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '-';
}

int med_key_format_valid(const char *s)
{
    if (!s || !is_ascii_alpha(s[0])) return 0;
    size_t n = 1;
    for (; s[n]; n++)
        if (!is_key_tail_char(s[n])) return 0;
    return n >= 8;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t med_now_unix_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int64_t med_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

void med_format_utc_ms(int64_t unix_ms, char *out, size_t cap)
{
    if (!out || cap == 0) return;
    /* Floor division so times before 1970 still get a 0..999 ms part. */
    int64_t secs = unix_ms / 1000;
    int64_t ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        out[0] = '\0';
        return;
    }
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
}
