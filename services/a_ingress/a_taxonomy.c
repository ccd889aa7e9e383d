/* A.3 taxonomy table and placement override. */
#include "a_taxonomy.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "a_types.h"
#include "med/reason.h"

typedef struct trigger_row {
    const char *type;
    const char *outcome;
    const char *hit_type;
    const char *code;
    const char *action;
    const char *decision_action;
} trigger_row;

#define UNKNOWN_TRIGGER "unknown_trigger_type"

static const trigger_row rows[] = {
    {"answer_end", A_OUT_ELIGIBLE, "workflow_hit", MED_R_A_TRG_MAP_ANSWER_END_ELIGIBLE,
     A_ACT_CREATE, A_ERR_ALLOW},
    {"intent_spike", A_OUT_ELIGIBLE, "explicit_hit", MED_R_A_TRG_MAP_INTENT_SPIKE_ELIGIBLE,
     A_ACT_CREATE, A_ERR_ALLOW},
    {"session_resume", A_OUT_ELIGIBLE, "scheduled_hit", MED_R_A_TRG_MAP_SESSION_RESUME_ELIGIBLE,
     A_ACT_CREATE, A_ERR_ALLOW},
    {"tool_result_ready", A_OUT_ELIGIBLE, "contextual_hit",
     MED_R_A_TRG_MAP_TOOL_RESULT_READY_ELIGIBLE, A_ACT_CREATE, A_ERR_ALLOW},
    {"workflow_checkpoint", A_OUT_ELIGIBLE, "workflow_hit",
     MED_R_A_TRG_MAP_WORKFLOW_CHECKPOINT_ELIGIBLE, A_ACT_CREATE, A_ERR_ALLOW},
    {"manual_refresh", A_OUT_INELIGIBLE, "no_hit", MED_R_A_TRG_MAP_MANUAL_REFRESH_INELIGIBLE,
     A_ACT_NO_OP, A_ERR_ALLOW},
    {"policy_forced_trigger", A_OUT_ELIGIBLE, "policy_forced_hit",
     MED_R_A_TRG_MAP_POLICY_FORCED_ELIGIBLE, A_ACT_CREATE, A_ERR_ALLOW},
    {"blocked_by_policy", A_OUT_BLOCKED, "no_hit", MED_R_A_TRG_MAP_BLOCKED_BY_POLICY, A_ACT_NO_OP,
     "block"},
};

static const trigger_row unknown_row = {UNKNOWN_TRIGGER, A_OUT_INELIGIBLE, "no_hit",
                                        MED_R_A_TRG_MAP_UNKNOWN_TRIGGER_REJECT, A_ACT_REJECT,
                                        A_ERR_REJECT};

void a_trigger_type_normalize(const char *raw, char *out, size_t cap)
{
    size_t n = 0;
    if (!cap) return;
    const char *p = raw ? raw : "";
    const char *end = p + strlen(p);
    while (p < end && isspace((unsigned char)*p)) p++;
    while (end > p && isspace((unsigned char)end[-1])) end--;
    for (; p < end && n + 1 < cap; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (c == ' ' || c == '-' || c == '_') {
            /* A run of separators (and an existing '_') becomes one '_'. */
            if (n > 0 && out[n - 1] == '_') continue;
            c = '_';
        }
        out[n++] = c;
    }
    out[n] = '\0';
}

static const trigger_row *find_row(const char *type)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].type, type) == 0) return &rows[i];
    return NULL;
}

static double clamp_band(int has_score, double score)
{
    if (!has_score || score != score) return 0.5;
    return score < 0.0 ? 0.0 : score > 1.0 ? 1.0 : score;
}

static void fill(a_sensing *out, const trigger_row *row)
{
    out->trigger_decision = row->outcome;
    out->decision_outcome = row->outcome;
    out->hit_type = row->hit_type;
    out->mapping_code = row->code;
    out->trigger_action = row->action;
    out->decision_action = row->decision_action;
}

static int type_allowed(const json_t *placement_doc, const char *type)
{
    const json_t *allowed = json_object_get(placement_doc, "allowedTriggerTypes");
    if (!json_is_array(allowed) || json_array_size(allowed) == 0) return 1;
    size_t i;
    const json_t *v;
    json_array_foreach(allowed, i, v) {
        char canon[A_TRIGGER_TYPE_MAX];
        if (!json_is_string(v)) continue;
        a_trigger_type_normalize(json_string_value(v), canon, sizeof canon);
        if (strcmp(canon, type) == 0) return 1;
    }
    return 0;
}

static void override_blocked(a_sensing *out)
{
    out->decision_outcome = A_OUT_BLOCKED;
    out->hit_type = "no_hit";
    out->mapping_code = MED_R_A_TRG_MAP_OVERRIDDEN_BY_POLICY;
    out->trigger_action = A_ACT_NO_OP;
    out->decision_action = "block";
}

med_rc a_taxonomy_map(const char *raw_trigger_type, const json_t *placement_doc, int has_score,
                      double score, a_sensing *out, med_err *err)
{
    memset(out, 0, sizeof *out);
    a_trigger_type_normalize(raw_trigger_type, out->trigger_type, sizeof out->trigger_type);
    out->confidence_band = clamp_band(has_score, score);
    const trigger_row *row = find_row(out->trigger_type);
    if (!row) {
        /* The literal "unknown_trigger_type" is not a member either. */
        snprintf(out->trigger_type, sizeof out->trigger_type, "%s", UNKNOWN_TRIGGER);
        fill(out, &unknown_row);
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_TRIGGER_TYPE,
                           "triggerContext.triggerType", "triggerType is not in the taxonomy");
    }
    fill(out, row);
    if (strcmp(row->outcome, A_OUT_ELIGIBLE) != 0 || !placement_doc) return MED_OK;
    /* Only a type that would create is held to the placement's list: the
     * no-op rows end in A whatever the placement allows. */
    if (!type_allowed(placement_doc, out->trigger_type)) {
        out->trigger_action = A_ACT_REJECT;
        out->decision_action = A_ERR_REJECT;
        out->decision_outcome = A_OUT_INELIGIBLE;
        return med_err_set(err, MED_ERR_INVALID, MED_R_A_TRG_INVALID_TRIGGER_TYPE,
                           "triggerContext.triggerType",
                           "triggerType is not allowed on this placement");
    }
    if (json_is_false(json_object_get(placement_doc, "enabled"))) override_blocked(out);
    return MED_OK;
}
