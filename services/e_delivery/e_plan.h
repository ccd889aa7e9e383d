/* E.7 renderPlanLite parts that E computes: TTL, container parameters per
 * mode, the tracking-hook contract. The protobuf assembly is e_pb.c. */
#ifndef E_PLAN_H
#define E_PLAN_H

#include "e_input.h"
#include "e_ui.h"

typedef struct e_ttl {
    int64_t render_ttl_ms;
    int64_t expire_at_ms;
} e_ttl;

/* renderTtlMs must be > 0, else 5000 + warning e_ttl_corrected_default. */
void e_plan_ttl(int64_t compose_request_at_ms, int64_t render_ttl_ms, e_ttl *out, e_warnings *w);

#define E_HOST_MAX 256
typedef struct e_container {
    e_mode mode;                 /* E_MODE_NONE: containerParams {} */
    const char *slot_id;         /* native_card */
    const char *template_id;
    int max_card_count;
    const char *url;             /* webview */
    char host[E_HOST_MAX];
    const char *html_snippet_ref;/* mraid_container */
    const char *mraid_version;
    const char *vast_tag_url;    /* video_vast_container */
    int video_width, video_height;
} e_container;

void e_plan_container(e_mode mode, const e_input *in, const e_ui *ui, e_container *out);

/* Host part of an absolute URL ("" when none). */
void e_url_host(const char *url, char *out, size_t cap);

/* The four hooks carry responseReference and traceKey (E.7). */
int e_plan_tracking_ok(const char *response_reference, const char *trace_key);

#endif
