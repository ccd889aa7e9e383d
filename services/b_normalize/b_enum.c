#include "b_enum.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "med/reason.h"

typedef struct enum_alias {
    const char *from;
    const char *to;
} enum_alias;

typedef struct enum_slot {
    const char *name;
    int gating;
    const char *unknown;
    const char *canon[8];
    const enum_alias *aliases;
} enum_slot;

static const enum_alias decision_aliases[] = {
    { "eligible", "opportunity_eligible" },
    { "ineligible", "opportunity_ineligible" },
    { "blocked_by_policy", "opportunity_blocked_by_policy" },
    { "policy_blocked", "opportunity_blocked_by_policy" },
    { NULL, NULL },
};

static const enum_alias hit_aliases[] = {
    { "explicit_intent", "explicit_hit" }, { "intent_hit", "explicit_hit" },
    { "workflow", "workflow_hit" },        { "contextual", "contextual_hit" },
    { "scheduled", "scheduled_hit" },      { "policy_forced", "policy_forced_hit" },
    { NULL, NULL },
};

static const enum_alias placement_aliases[] = {
    { "in_message", "chat_inline" },       { "chat_inline_v1", "chat_inline" },
    { "chat_from_answer_v1", "chat_inline" },
    { "tool_output", "tool_result" },      { "function_result", "tool_result" },
    { "workflow_step", "workflow_checkpoint" },
    { "agent_transfer", "agent_handoff" },
    { NULL, NULL },
};

/* chat_inline_<suffix> aliases of B.4, matched by suffix. */
static const char *const chat_inline_suffixes[] = {
    "slot", "message", "card", "unit", "banner", "surface", "placement", "widget",
    "module", "panel", "block", "row", "entry", "feed", "embed", "component", "area",
    "zone", "view", "container", "segment", "layout", "message_slot", NULL,
};

static const enum_alias actor_aliases[] = {
    { "end_user", "human" },           { "human_user", "human" },
    { "assistant_agent", "agent" },    { "auto_agent", "agent" },
    { "orchestrator_chain", "agent_chain" }, { "backend_system", "system" },
    { NULL, NULL },
};

static const enum_alias channel_aliases[] = {
    { "sdk_http", "sdk_server" },  { "rest", "sdk_server" },
    { "sdk_mobile", "sdk_client" }, { "client_sdk", "sdk_client" },
    { "web_hook", "webhook" },      { "job_batch", "batch" },
    { NULL, NULL },
};

static const enum_alias no_aliases[] = { { NULL, NULL } };

#define DECISIONS { "opportunity_eligible", "opportunity_ineligible", \
                    "opportunity_blocked_by_policy", NULL }

static const enum_slot slots[] = {
    { "triggerDecision", 1, "unknown_trigger_decision", DECISIONS, decision_aliases },
    { "decisionOutcome", 1, "unknown_decision_outcome", DECISIONS, decision_aliases },
    { "hitType", 1, "unknown_hit_type",
      { "explicit_hit", "workflow_hit", "contextual_hit", "scheduled_hit",
        "policy_forced_hit", "no_hit", NULL }, hit_aliases },
    { "placementType", 0, "unknown_placement_type",
      { "chat_inline", "tool_result", "workflow_checkpoint", "agent_handoff", NULL },
      placement_aliases },
    { "actorType", 0, "unknown_actor_type", { "human", "agent", "agent_chain", "system", NULL },
      actor_aliases },
    { "channelType", 0, "unknown_channel_type",
      { "sdk_server", "sdk_client", "webhook", "batch", NULL }, channel_aliases },
    { "sessionState", 0, "unknown_session_state", { "active", "resumed", "idle", "ended", NULL },
      no_aliases },
    { "consentScope", 0, "unknown_consent_scope",
      { "consent_granted", "consent_limited", "consent_denied", NULL }, no_aliases },
};

static const enum_slot *slot_named(const char *name)
{
    for (size_t i = 0; name && i < sizeof slots / sizeof slots[0]; i++)
        if (strcmp(slots[i].name, name) == 0) return &slots[i];
    return NULL;
}

void b_enum_token(const char *raw, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0) return;
    while (raw && isspace((unsigned char)*raw)) raw++;
    size_t len = raw ? strlen(raw) : 0;
    while (len && isspace((unsigned char)raw[len - 1])) len--;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)raw[i];
        int sep = c == ' ' || c == '-' || c == '_' || c == '\t';
        if (sep) {
            if (n > 0 && out[n - 1] == '_') continue; /* runs and "__" collapse */
            out[n++] = '_';
        } else {
            out[n++] = (char)tolower(c);
        }
    }
    out[n] = '\0';
}

static int is_canonical(const enum_slot *s, const char *tok)
{
    for (int i = 0; s->canon[i]; i++)
        if (strcmp(s->canon[i], tok) == 0) return 1;
    return 0;
}

static const char *builtin_alias(const enum_slot *s, const char *tok)
{
    for (int i = 0; s->aliases[i].from; i++)
        if (strcmp(s->aliases[i].from, tok) == 0) return s->aliases[i].to;
    if (s->aliases == placement_aliases && strncmp(tok, "chat_inline_", 12) == 0)
        for (int i = 0; chat_inline_suffixes[i]; i++)
            if (strcmp(tok + 12, chat_inline_suffixes[i]) == 0) return "chat_inline";
    return NULL;
}

static const char *doc_alias(const enum_slot *s, const json_t *doc_aliases, const char *tok)
{
    const json_t *m = doc_aliases ? json_object_get(doc_aliases, s->name) : NULL;
    const char *k;
    const json_t *v;
    if (!json_is_object(m)) return NULL;
    json_object_foreach((json_t *)m, k, v) {
        char ktok[64], vtok[64];
        b_enum_token(k, ktok, sizeof ktok);
        b_enum_token(json_string_value(v), vtok, sizeof vtok);
        if (json_is_string(v) && strcmp(ktok, tok) == 0 && is_canonical(s, vtok))
            return json_string_value(v);
    }
    return NULL;
}

med_rc b_enum_normalize(const char *slot, const char *raw, const json_t *doc_aliases,
                        b_enum_result *out, med_err *err)
{
    const enum_slot *s = slot_named(slot);
    if (!s)
        return med_err_set(err, MED_ERR_INVALID, MED_R_B_INVALID_STRUCTURE, slot,
                           "no enum dictionary for slot %s", slot ? slot : "(null)");
    char tok[64];
    b_enum_token(raw, tok, sizeof tok);
    const char *alias = NULL;
    if (raw && is_canonical(s, tok)) {
        snprintf(out->value, sizeof out->value, "%s", tok);
        out->mapping_action = B_MAP_EXACT;
    } else if (raw && ((alias = doc_alias(s, doc_aliases, tok)) ||
                       (alias = builtin_alias(s, tok)))) {
        b_enum_token(alias, out->value, sizeof out->value);
        out->mapping_action = B_MAP_ALIAS;
    } else {
        snprintf(out->value, sizeof out->value, "%s", s->unknown);
        out->mapping_action = B_MAP_UNKNOWN;
    }
    return MED_OK;
}

int b_enum_is_gating(const char *slot)
{
    const enum_slot *s = slot_named(slot);
    return s && s->gating;
}

int b_enum_is_unknown(const char *value)
{
    return value && strncmp(value, "unknown_", 8) == 0;
}

const char *b_enum_unknown_of(const char *slot)
{
    const enum_slot *s = slot_named(slot);
    return s ? s->unknown : NULL;
}
