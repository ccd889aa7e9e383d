#include "c_constraints.h"

#include <stdlib.h>
#include <string.h>
#include "med/reason.h"

int c_strlist_has(const c_strlist *l, const char *s)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (strcmp(l->v[i], s) == 0) return 1;
    return 0;
}

static med_rc nomem(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_C_POLICY_ENGINE_ERROR, NULL,
                       "out of memory building constraintsLite");
}

med_rc c_strlist_from(char *const *src, size_t n, const c_strlist *exclude, c_strlist *out,
                      med_err *err)
{
    out->v = NULL;
    out->n = 0;
    if (n == 0) return MED_OK;
    out->v = calloc(n < C_LIST_MAX ? n : C_LIST_MAX, sizeof *out->v);
    if (!out->v) return nomem(err);
    for (size_t i = 0; i < n && out->n < C_LIST_MAX; i++) {
        const char *s = src[i];
        if (!s || !s[0] || c_strlist_has(out, s) || c_strlist_has(exclude, s)) continue;
        out->v[out->n++] = s;
    }
    return MED_OK;
}

med_rc c_constraints_add_reason(c_constraints *c, const char *code, med_err *err)
{
    if (!code || !code[0] || c_strlist_has(&c->reason_codes, code)) return MED_OK;
    const char **v = realloc(c->reason_codes.v, (c->reason_codes.n + 1) * sizeof *v);
    if (!v) return nomem(err);
    v[c->reason_codes.n++] = code;
    c->reason_codes.v = v;
    return MED_OK;
}

static int render_mode_known(const char *m)
{
    return strcmp(m, "webview") == 0 || strcmp(m, "video_vast_container") == 0;
}

static med_rc build_render(const Mediation__V1__RenderConstraints *rc, c_constraints *out,
                           c_warnings *w, med_err *err)
{
    if (!rc) return MED_OK;
    med_rc r = c_strlist_from(rc->disallow_render_modes, rc->n_disallow_render_modes, NULL,
                              &out->disallow_render_modes, err);
    if (r != MED_OK) return r;
    size_t kept = 0;
    for (size_t i = 0; i < out->disallow_render_modes.n; i++) {
        const char *m = out->disallow_render_modes.v[i];
        if (render_mode_known(m))
            out->disallow_render_modes.v[kept++] = m;
        else
            c_warnings_add(w, MED_R_C_OPTIONAL_MISSING_IGNORED,
                           "constraintsLite.renderConstraints.disallowRenderModes", "drop", m);
    }
    out->disallow_render_modes.n = kept;
    return MED_OK;
}

static med_rc build_sources(const Mediation__V1__SourceConstraints *sc, c_constraints *out,
                            med_err *err)
{
    out->source_selection_mode = C_MODE_ALL_EXCEPT_BLOCKED;
    if (!sc) return MED_OK;
    if (sc->source_selection_mode && sc->source_selection_mode[0])
        out->source_selection_mode = sc->source_selection_mode;
    med_rc r = c_strlist_from(sc->blocked_source_ids, sc->n_blocked_source_ids, NULL,
                              &out->blocked_source_ids, err);
    if (r != MED_OK) return r;
    /* Blocked wins: shared ids leave the allowlist; the mode stays even if
     * the allowlist ends up empty (C.4). */
    return c_strlist_from(sc->allowed_source_ids, sc->n_allowed_source_ids,
                          &out->blocked_source_ids, &out->allowed_source_ids, err);
}

static const char *constraint_set_version(const Mediation__V1__PolicySnapshotLite *snap,
                                          const Mediation__V1__ConstraintsLite *base)
{
    if (base && base->constraint_set_version && base->constraint_set_version[0])
        return base->constraint_set_version;
    /* The base does not name its version: the snapshot's version pins it. */
    return snap->policy_snapshot_version;
}

med_rc c_constraints_build(const Mediation__V1__PolicySnapshotLite *snap, c_constraints *out,
                           c_warnings *w, med_err *err)
{
    memset(out, 0, sizeof *out);
    out->constraint_set_version = C_NA;
    out->source_selection_mode = C_MODE_ALL_EXCEPT_BLOCKED;
    if (!snap) return MED_OK;
    const Mediation__V1__ConstraintsLite *base =
        snap->policy_constraints_lite ? snap->policy_constraints_lite->constraints_lite : NULL;
    out->constraint_set_version = constraint_set_version(snap, base);
    if (!base) return MED_OK;
    med_rc r = MED_OK;
    if (base->category_constraints) {
        const Mediation__V1__CategoryConstraints *cc = base->category_constraints;
        r = c_strlist_from(cc->bcat, cc->n_bcat, NULL, &out->bcat, err);
        if (r == MED_OK) r = c_strlist_from(cc->badv, cc->n_badv, NULL, &out->badv, err);
    }
    if (r == MED_OK && base->personalization_constraints)
        out->non_personalized_only = base->personalization_constraints->non_personalized_only;
    if (r == MED_OK) r = build_render(base->render_constraints, out, w, err);
    if (r == MED_OK) r = build_sources(base->source_constraints, out, err);
    for (size_t i = 0; r == MED_OK && i < base->n_constraint_reason_codes; i++)
        r = c_constraints_add_reason(out, base->constraint_reason_codes[i], err);
    if (r != MED_OK) c_constraints_free(out);
    return r;
}
