/* Prometheus metrics registry (text exposition format 0.0.4). */
#include "med/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum metric_kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metric_kind;

struct med_counter {
    atomic_uint_fast64_t value;
};

/* Doubles live as their bit pattern in an atomic integer: C11 has no
 * portable lock-free atomic double arithmetic. */
struct med_gauge {
    _Atomic uint64_t bits;
};

struct med_histogram {
    size_t nbounds;
    double *bounds;                /* strictly increasing upper bounds */
    atomic_uint_fast64_t *buckets; /* nbounds + 1 (last is +Inf), not cumulative */
    _Atomic uint64_t sum_bits;
};

typedef struct metric_series {
    struct metric_series *next;
    char *labels;
    union {
        struct med_counter counter;
        struct med_gauge gauge;
        struct med_histogram histogram;
    } u;
} metric_series;

typedef struct metric_family {
    struct metric_family *next;
    char *name;
    char *help;
    metric_kind kind;
    metric_series *series;      /* registration order */
    metric_series **series_tail;
} metric_family;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static metric_family *families;
static metric_family **families_tail = &families;

static const double default_latency_buckets[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static uint64_t double_to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bits_to_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void atomic_double_add(_Atomic uint64_t *bits, double delta)
{
    uint64_t old = atomic_load(bits);
    while (!atomic_compare_exchange_weak(bits, &old, double_to_bits(bits_to_double(old) + delta)))
        ;
}

/* ---- validation ---- */

static int name_char_ok(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') return 1;
    return !first && c >= '0' && c <= '9';
}

static int metric_name_valid(const char *name)
{
    if (!name || !name[0]) return 0;
    for (size_t i = 0; name[i]; i++)
        if (!name_char_ok(name[i], i == 0)) return 0;
    return 1;
}

/* Labels come pre-formatted; a newline would corrupt the exposition. */
static int labels_valid(const char *labels)
{
    return strchr(labels, '\n') == NULL;
}

static int bounds_valid(const double *b, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(b[i])) return 0;
        if (i > 0 && !(b[i] > b[i - 1])) return 0;
    }
    return 1;
}

/* ---- registry ---- */

static metric_family *family_find(const char *name)
{
    for (metric_family *f = families; f; f = f->next)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

static metric_family *family_create(const char *name, const char *help, metric_kind kind)
{
    metric_family *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        free(f);
        return NULL;
    }
    f->kind = kind;
    f->series_tail = &f->series;
    *families_tail = f;
    families_tail = &f->next;
    return f;
}

static metric_family *family_get(const char *name, const char *help, metric_kind kind)
{
    metric_family *f = family_find(name);
    if (f) return f->kind == kind ? f : NULL; /* one name, one type */
    return family_create(name, help, kind);
}

static metric_series *series_find(metric_family *f, const char *labels)
{
    for (metric_series *s = f->series; s; s = s->next)
        if (strcmp(s->labels, labels) == 0) return s;
    return NULL;
}

static int histogram_init(struct med_histogram *h, const double *bounds, size_t n)
{
    h->bounds = malloc(n * sizeof *h->bounds);
    h->buckets = calloc(n + 1, sizeof *h->buckets);
    if (!h->bounds || !h->buckets) {
        free(h->bounds);
        free(h->buckets);
        return -1;
    }
    memcpy(h->bounds, bounds, n * sizeof *bounds);
    for (size_t i = 0; i <= n; i++) atomic_init(&h->buckets[i], 0);
    h->nbounds = n;
    atomic_init(&h->sum_bits, double_to_bits(0.0));
    return 0;
}

static metric_series *series_create(metric_family *f, const char *labels,
                                    const double *bounds, size_t nbounds)
{
    metric_series *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->labels = strdup(labels);
    int ok = s->labels != NULL;
    if (ok && f->kind == KIND_COUNTER) atomic_init(&s->u.counter.value, 0);
    if (ok && f->kind == KIND_GAUGE) atomic_init(&s->u.gauge.bits, double_to_bits(0.0));
    if (ok && f->kind == KIND_HISTOGRAM) ok = histogram_init(&s->u.histogram, bounds, nbounds) == 0;
    if (!ok) {
        free(s->labels);
        free(s);
        return NULL;
    }
    *f->series_tail = s;
    f->series_tail = &s->next;
    return s;
}

static metric_series *series_get(const char *name, const char *help, const char *labels,
                                 metric_kind kind, const double *bounds, size_t nbounds)
{
    if (!metric_name_valid(name)) return NULL;
    if (!labels) labels = "";
    if (!labels_valid(labels)) return NULL;
    pthread_mutex_lock(&registry_lock);
    metric_series *s = NULL;
    metric_family *f = family_get(name, help, kind);
    if (f) {
        s = series_find(f, labels);
        if (!s) s = series_create(f, labels, bounds, nbounds);
    }
    pthread_mutex_unlock(&registry_lock);
    return s;
}

med_counter *med_counter_get(const char *name, const char *help, const char *labels)
{
    metric_series *s = series_get(name, help, labels, KIND_COUNTER, NULL, 0);
    return s ? &s->u.counter : NULL;
}

void med_counter_add(med_counter *c, uint64_t n)
{
    if (c) atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

med_gauge *med_gauge_get(const char *name, const char *help, const char *labels)
{
    metric_series *s = series_get(name, help, labels, KIND_GAUGE, NULL, 0);
    return s ? &s->u.gauge : NULL;
}

void med_gauge_set(med_gauge *g, double v)
{
    if (g) atomic_store(&g->bits, double_to_bits(v));
}

void med_gauge_add(med_gauge *g, double delta)
{
    if (g) atomic_double_add(&g->bits, delta);
}

med_histogram *med_histogram_get(const char *name, const char *help, const char *labels,
                                 const double *buckets, size_t nbuckets)
{
    if (!buckets) {
        buckets = default_latency_buckets;
        nbuckets = sizeof default_latency_buckets / sizeof default_latency_buckets[0];
    }
    if (!bounds_valid(buckets, nbuckets)) return NULL;
    metric_series *s = series_get(name, help, labels, KIND_HISTOGRAM, buckets, nbuckets);
    return s ? &s->u.histogram : NULL;
}

/* Index of the first bucket whose bound is >= value (nbounds = +Inf). */
static size_t bucket_index(const struct med_histogram *h, double value)
{
    size_t lo = 0, hi = h->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (value <= h->bounds[mid]) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

void med_histogram_observe(med_histogram *h, double value)
{
    if (!h || isnan(value)) return;
    atomic_fetch_add_explicit(&h->buckets[bucket_index(h, value)], 1, memory_order_relaxed);
    atomic_double_add(&h->sum_bits, value);
}

/* ---- rendering ---- */

typedef struct render_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} render_buf;

static void buf_printf(render_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(render_buf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap * 2;
        while (ncap < b->len + (size_t)n + 1) ncap *= 2;
        char *d = realloc(b->data, ncap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = ncap;
    }
}

/* Shortest text that reads back as the same double. */
static void format_double(double v, char out[32])
{
    if (isnan(v)) { strcpy(out, "NaN"); return; }
    if (isinf(v)) { strcpy(out, v > 0 ? "+Inf" : "-Inf"); return; }
    snprintf(out, 32, "%.15g", v);
    if (strtod(out, NULL) != v) snprintf(out, 32, "%.17g", v);
}

static void render_help_text(render_buf *b, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\') buf_printf(b, "\\\\");
        else if (*p == '\n') buf_printf(b, "\\n");
        else buf_printf(b, "%c", *p);
    }
}

static const char *kind_name(metric_kind k)
{
    return k == KIND_COUNTER ? "counter" : k == KIND_GAUGE ? "gauge" : "histogram";
}

/* `{labels}` or nothing. */
static void render_labels(render_buf *b, const char *labels)
{
    if (labels[0]) buf_printf(b, "{%s}", labels);
}

static void render_histogram(render_buf *b, const char *name, const metric_series *s)
{
    const struct med_histogram *h = &s->u.histogram;
    const char *sep = s->labels[0] ? "," : "";
    char num[32];
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < h->nbounds) format_double(h->bounds[i], num);
        else strcpy(num, "+Inf");
        buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, s->labels, sep, num,
                   cumulative);
    }
    format_double(bits_to_double(atomic_load(&h->sum_bits)), num);
    buf_printf(b, "%s_sum", name);
    render_labels(b, s->labels);
    buf_printf(b, " %s\n", num);
    /* _count from the same bucket snapshot keeps it equal to +Inf. */
    buf_printf(b, "%s_count", name);
    render_labels(b, s->labels);
    buf_printf(b, " %" PRIu64 "\n", cumulative);
}

static void render_series(render_buf *b, const metric_family *f, const metric_series *s)
{
    char num[32];
    if (f->kind == KIND_HISTOGRAM) {
        render_histogram(b, f->name, s);
        return;
    }
    buf_printf(b, "%s", f->name);
    render_labels(b, s->labels);
    if (f->kind == KIND_COUNTER) {
        buf_printf(b, " %" PRIu64 "\n",
                   (uint64_t)atomic_load_explicit(&s->u.counter.value, memory_order_relaxed));
    } else {
        format_double(bits_to_double(atomic_load(&s->u.gauge.bits)), num);
        buf_printf(b, " %s\n", num);
    }
}

static void render_family(render_buf *b, const metric_family *f)
{
    buf_printf(b, "# HELP %s ", f->name);
    render_help_text(b, f->help);
    buf_printf(b, "\n# TYPE %s %s\n", f->name, kind_name(f->kind));
    for (const metric_series *s = f->series; s; s = s->next) render_series(b, f, s);
}

int med_metrics_render(char **out, size_t *len)
{
    if (!out) return -1;
    *out = NULL;
    render_buf b = { .data = malloc(4096), .len = 0, .cap = 4096, .failed = 0 };
    if (!b.data) return -1;
    b.data[0] = '\0';
    pthread_mutex_lock(&registry_lock);
    for (const metric_family *f = families; f; f = f->next) render_family(&b, f);
    pthread_mutex_unlock(&registry_lock);
    if (b.failed) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    if (len) *len = b.len;
    return 0;
}

static void series_free(metric_kind kind, metric_series *s)
{
    if (kind == KIND_HISTOGRAM) {
        free(s->u.histogram.bounds);
        free(s->u.histogram.buckets);
    }
    free(s->labels);
    free(s);
}

void med_metrics_reset(void)
{
    pthread_mutex_lock(&registry_lock);
    metric_family *f = families;
    while (f) {
        metric_family *next_f = f->next;
        metric_series *s = f->series;
        while (s) {
            metric_series *next_s = s->next;
            series_free(f->kind, s);
            s = next_s;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = next_f;
    }
    families = NULL;
    families_tail = &families;
    pthread_mutex_unlock(&registry_lock);
}
