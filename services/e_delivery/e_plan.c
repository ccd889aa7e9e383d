#include "e_plan.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "med/reason.h"

void e_plan_ttl(int64_t compose_request_at_ms, int64_t render_ttl_ms, e_ttl *out, e_warnings *w)
{
    out->render_ttl_ms = render_ttl_ms;
    if (render_ttl_ms <= 0) {
        char orig[24];
        snprintf(orig, sizeof orig, "%" PRId64, render_ttl_ms);
        e_warn(w, MED_R_E_TTL_CORRECTED_DEFAULT, "renderPlanLite.ttl.renderTtlMs", "correct", orig, "5000");
        out->render_ttl_ms = E_DEFAULT_RENDER_TTL_MS;
    }
    out->expire_at_ms = compose_request_at_ms + out->render_ttl_ms;
}

void e_url_host(const char *url, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p) return;
    p += 3;
    size_t n = strcspn(p, "/:?#");
    const char *at = memchr(p, '@', n); /* drop userinfo */
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void native_params(const e_input *in, const e_ui *ui, e_container *out)
{
    out->slot_id = in->placement->placement_key;
    out->template_id = ui->template_id ? ui->template_id : "default_native_template";
    out->max_card_count = ui->max_card_count >= 1 && ui->max_card_count < in->max_render_count
                              ? ui->max_card_count
                              : in->max_render_count;
}

void e_plan_container(e_mode mode, const e_input *in, const e_ui *ui, e_container *out)
{
    memset(out, 0, sizeof *out);
    out->mode = mode;
    const Mediation__V1__RenderAssetsLite *ra = in->winner ? in->winner->render_assets : NULL;
    switch (mode) {
    case E_MODE_NATIVE:
        native_params(in, ui, out);
        break;
    case E_MODE_WEBVIEW:
        out->url = ra ? ra->webview_url : NULL;
        e_url_host(out->url, out->host, sizeof out->host);
        break;
    case E_MODE_MRAID:
        out->html_snippet_ref = ra ? ra->html_snippet_ref : NULL;
        out->mraid_version = ra && !e_blank(ra->mraid_version) ? ra->mraid_version : "3.0";
        break;
    case E_MODE_VIDEO:
        out->vast_tag_url = ra ? ra->vast_tag_url : NULL;
        out->video_width = ra && ra->video_slot_spec && ra->video_slot_spec->width > 0 ? ra->video_slot_spec->width : 320;
        out->video_height = ra && ra->video_slot_spec && ra->video_slot_spec->height > 0 ? ra->video_slot_spec->height : 180;
        break;
    default:
        break;
    }
}

int e_plan_tracking_ok(const char *response_reference, const char *trace_key)
{
    return !e_blank(response_reference) && !e_blank(trace_key) && strcmp(trace_key, E_NA) != 0;
}
