/* JSON-lines logging: one object per line with ts, level, service, msg and,
 * when known, trace_id, request_id, tenant_id, job_id, error_code.
 * Thread-safe. Never log tokens, keys or raw device ids. */
#ifndef MED_LOG_H
#define MED_LOG_H

#include <stdio.h>

typedef enum med_log_level {
    MED_LOG_DEBUG = 0, MED_LOG_INFO, MED_LOG_WARN, MED_LOG_ERROR
} med_log_level;

typedef struct med_log_ctx {
    const char *trace_id;
    const char *request_id;
    const char *tenant_id;
    const char *job_id;
    const char *error_code;
} med_log_ctx;

/* out defaults to stderr when NULL. */
void med_log_init(const char *service, med_log_level min_level, FILE *out);
med_log_level med_log_level_parse(const char *s); /* unknown -> INFO */
void med_log(med_log_level lvl, const med_log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define MED_LOGD(ctx, ...) med_log(MED_LOG_DEBUG, (ctx), __VA_ARGS__)
#define MED_LOGI(ctx, ...) med_log(MED_LOG_INFO, (ctx), __VA_ARGS__)
#define MED_LOGW(ctx, ...) med_log(MED_LOG_WARN, (ctx), __VA_ARGS__)
#define MED_LOGE(ctx, ...) med_log(MED_LOG_ERROR, (ctx), __VA_ARGS__)

#endif
