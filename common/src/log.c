/* JSON-lines logger (spec 05 section 5). */
#include "med/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "med/ids.h"

#define LOG_SERVICE_MAX 64
#define LOG_LINE_INLINE 2048
#define LOG_MSG_INLINE 1024

/* Set once at start-up by med_log_init, before threads log. */
static char log_service[LOG_SERVICE_MAX] = "unknown";
static atomic_int log_min_level = MED_LOG_INFO;
static atomic_int log_fd = STDERR_FILENO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* Growable line buffer that starts on the stack; on allocation failure it
 * stops growing and the line is cut rather than lost. */
typedef struct line_buf {
    char *data;
    size_t len;
    size_t cap;
    int heap;
    int oom;
    char inline_data[LOG_LINE_INLINE];
} line_buf;

static void line_init(line_buf *b)
{
    b->data = b->inline_data;
    b->len = 0;
    b->cap = sizeof b->inline_data;
    b->heap = 0;
    b->oom = 0;
}

static void line_free(line_buf *b)
{
    if (b->heap) free(b->data);
}

static int line_reserve(line_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra <= b->cap) return 0;
    size_t ncap = b->cap * 2;
    while (ncap < b->len + extra) ncap *= 2;
    char *n = b->heap ? realloc(b->data, ncap) : malloc(ncap);
    if (!n) {
        b->oom = 1;
        return -1;
    }
    if (!b->heap) memcpy(n, b->data, b->len);
    b->data = n;
    b->cap = ncap;
    b->heap = 1;
    return 0;
}

static void line_put(line_buf *b, const char *s, size_t n)
{
    if (line_reserve(b, n) != 0) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void line_puts(line_buf *b, const char *s)
{
    line_put(b, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 when invalid, so that
 * a stray byte cannot make the whole line unparseable JSON. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    unsigned int cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    return n;
}

static void put_escaped_char(line_buf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '"': line_put(b, "\\\"", 2); return;
    case '\\': line_put(b, "\\\\", 2); return;
    case '\n': line_put(b, "\\n", 2); return;
    case '\r': line_put(b, "\\r", 2); return;
    case '\t': line_put(b, "\\t", 2); return;
    case '\b': line_put(b, "\\b", 2); return;
    case '\f': line_put(b, "\\f", 2); return;
    default: break;
    }
    if (c < 0x20) {
        char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f] };
        line_put(b, u, sizeof u);
    } else {
        line_put(b, (const char *)&c, 1);
    }
}

static void put_json_string(line_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    line_put(b, "\"", 1);
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (n == 0) {
            line_puts(b, "\\ufffd");
            p++;
        } else if (n == 1) {
            put_escaped_char(b, *p++);
        } else {
            line_put(b, (const char *)p, n);
            p += n;
        }
    }
    line_put(b, "\"", 1);
}

static void put_field(line_buf *b, const char *key, const char *value)
{
    if (!value || !value[0]) return;
    line_put(b, ",\"", 2);
    line_puts(b, key);
    line_put(b, "\":", 2);
    put_json_string(b, value);
}

static void put_ctx(line_buf *b, const med_log_ctx *ctx)
{
    if (!ctx) return;
    put_field(b, "trace_id", ctx->trace_id);
    put_field(b, "request_id", ctx->request_id);
    put_field(b, "tenant_id", ctx->tenant_id);
    put_field(b, "job_id", ctx->job_id);
    put_field(b, "error_code", ctx->error_code);
}

static void line_finish(line_buf *b)
{
    line_put(b, "}\n", 2);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* nowhere left to report a logging failure */
        }
        p += w;
        n -= (size_t)w;
    }
}

void med_log_init(const char *service, med_log_level min_level, FILE *out)
{
    const char *name = (service && service[0]) ? service : "unknown";
    size_t n = strnlen(name, LOG_SERVICE_MAX - 1);
    memcpy(log_service, name, n);
    log_service[n] = '\0';
    atomic_store(&log_min_level, (int)min_level);
    int fd = out ? fileno(out) : STDERR_FILENO;
    atomic_store(&log_fd, fd >= 0 ? fd : STDERR_FILENO);
}

med_log_level med_log_level_parse(const char *s)
{
    if (!s) return MED_LOG_INFO;
    if (strcasecmp(s, "debug") == 0) return MED_LOG_DEBUG;
    if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0) return MED_LOG_WARN;
    if (strcasecmp(s, "error") == 0) return MED_LOG_ERROR;
    return MED_LOG_INFO;
}

/* Formats the message; returns a heap string only when it did not fit in
 * the caller's inline buffer. */
static char *format_message(char *inline_buf, size_t cap, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(inline_buf, cap, fmt, copy);
    va_end(copy);
    if (n < 0) {
        inline_buf[0] = '\0';
        return inline_buf;
    }
    if ((size_t)n < cap) return inline_buf;
    char *heap = malloc((size_t)n + 1);
    if (!heap) return inline_buf; /* keep the truncated text */
    vsnprintf(heap, (size_t)n + 1, fmt, ap);
    return heap;
}

static void put_header(line_buf *b, med_log_level lvl)
{
    char ts[32];
    med_format_utc_ms(med_now_unix_ms(), ts, sizeof ts);
    line_puts(b, "{\"ts\":");
    put_json_string(b, ts);
    line_puts(b, ",\"level\":");
    put_json_string(b, level_names[lvl]);
    line_puts(b, ",\"service\":");
    put_json_string(b, log_service);
}

static void build_line(line_buf *b, med_log_level lvl, const char *msg,
                       const med_log_ctx *ctx)
{
    line_init(b);
    put_header(b, lvl);
    line_puts(b, ",\"msg\":");
    put_json_string(b, msg);
    put_ctx(b, ctx);
    line_finish(b);
}

void med_log(med_log_level lvl, const med_log_ctx *ctx, const char *fmt, ...)
{
    if (lvl < MED_LOG_DEBUG || lvl > MED_LOG_ERROR) lvl = MED_LOG_ERROR;
    if ((int)lvl < atomic_load(&log_min_level)) return;
    char msg_inline[LOG_MSG_INLINE];
    va_list ap;
    va_start(ap, fmt);
    char *msg = format_message(msg_inline, sizeof msg_inline, fmt ? fmt : "", ap);
    va_end(ap);
    line_buf b;
    build_line(&b, lvl, msg, ctx);
    if (b.oom) {
        /* A cut line would be invalid JSON; say what happened instead. The
         * inline buffer always holds this short line. */
        line_free(&b);
        build_line(&b, lvl, "log line dropped: out of memory", NULL);
    }
    write_all(atomic_load(&log_fd), b.data, b.len);
    line_free(&b);
    if (msg != msg_inline) free(msg);
}
