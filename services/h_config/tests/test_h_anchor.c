/* Version anchors (spec 04 H.6, H.10 case 14) and the append-only proof. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h_anchor.h"
#include "med/ids.h"
#include "med/reason.h"

static const char *const full_values[H_ANCHOR_FIELD_COUNT] = {
    "1.1.0", "rs_7", "pc_12", "g_3", "NA", "ps_2", "cfgres_v1", "gate_v1", "enum_4",
    "map_2", "pol_9", "rp_5", "del_3", "evt_2", "dedup_1", "close_1", "bill_6", "arch_2"};

static h_anchor_input make_input(h_freeze_point fp)
{
    h_anchor_input in = {.request_key = "req_0001abcd", .trace_key = "tr_0001abcd",
                         .freeze_point = fp, .inject_at_ms = 1795429200000,
                         .contract_version = "anchor_v1"};
    memcpy(in.values, full_values, sizeof in.values);
    return in;
}

static h_anchor_snapshot inject(const h_anchor_input *in, const h_anchor_snapshot *prev)
{
    h_anchor_snapshot out;
    med_err err;
    med_err_clear(&err);
    assert_int_equal(h_anchor_inject(in, prev, &out, &err), MED_OK);
    return out;
}

static h_anchor_snapshot ingress_snapshot(void)
{
    h_anchor_input in = make_input(H_FREEZE_INGRESS);
    return inject(&in, NULL);
}

static void assert_decision(const h_anchor_snapshot *s, h_verdict v, const char *code)
{
    assert_int_equal(s->anchor_action, v);
    assert_int_equal(s->n_reason_codes, 1);
    assert_string_equal(s->reason_codes[0], code);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(h_anchor_field_name(*(const int *)a), h_anchor_field_name(*(const int *)b));
}

/* RFC 8785 of a flat object of ASCII strings: keys in byte order, no
 * whitespace. Written out by hand so the check does not trust med_jcs. */
static void expected_hash(const h_anchor_set *set, char out[65])
{
    int order[H_ANCHOR_FIELD_COUNT];
    char buf[4096];
    size_t len = 0;
    for (int i = 0; i < H_ANCHOR_FIELD_COUNT; i++) order[i] = i;
    qsort(order, H_ANCHOR_FIELD_COUNT, sizeof order[0], compare_names);
    len += (size_t)snprintf(buf + len, sizeof buf - len, "{");
    for (int i = 0; i < H_ANCHOR_FIELD_COUNT; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\"%s\":\"%s\"", i ? "," : "",
                                h_anchor_field_name(order[i]), set->value[order[i]]);
    len += (size_t)snprintf(buf + len, sizeof buf - len, "}");
    med_sha256_hex(buf, len, out);
}

static void case14_ingress_all_pass_hash_is_jcs(void **state)
{
    (void)state;
    h_anchor_snapshot s = ingress_snapshot();
    assert_decision(&s, H_ALLOW, MED_R_H_ANCHOR_ALL_PASS);
    char want[65];
    expected_hash(&s.anchor_set, want);
    assert_string_equal(s.anchor_hash, want);
    for (int f = 0; f < H_ANCHOR_FIELD_COUNT; f++)
        assert_string_equal(s.anchor_set.value[f], full_values[f]);
    assert_int_equal(s.current_freeze_point, H_FREEZE_INGRESS);
    assert_int_equal(s.completed_mask, 1u << H_FREEZE_INGRESS);
}

static void case14_schema_change_at_ingress_rejects_pre_route(void **state)
{
    (void)state;
    h_anchor_snapshot prev = ingress_snapshot();
    h_anchor_input in = make_input(H_FREEZE_INGRESS);
    in.values[H_ANCHOR_SCHEMA_VERSION] = "1.2.0";
    h_anchor_snapshot s = inject(&in, &prev);
    assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_SWITCH_DETECTED_PRE_ROUTE);
    assert_memory_equal(&s.anchor_set, &prev.anchor_set, sizeof prev.anchor_set);
    assert_string_equal(s.anchor_hash, prev.anchor_hash);
}

static void case14_schema_change_at_delivery_keeps_old_and_degrades(void **state)
{
    (void)state;
    h_anchor_snapshot prev = ingress_snapshot();
    h_anchor_input in = make_input(H_FREEZE_DELIVERY);
    in.values[H_ANCHOR_SCHEMA_VERSION] = "1.2.0";
    h_anchor_snapshot s = inject(&in, &prev);
    assert_decision(&s, H_DEGRADE, MED_R_H_ANCHOR_SWITCH_DETECTED_POST_ROUTE);
    assert_string_equal(s.anchor_set.value[H_ANCHOR_SCHEMA_VERSION], "1.1.0");
    assert_string_equal(s.anchor_hash, prev.anchor_hash);
    assert_int_equal(s.current_freeze_point, H_FREEZE_DELIVERY);
    assert_int_equal(s.completed_mask, (1u << H_FREEZE_INGRESS) | (1u << H_FREEZE_DELIVERY));
}

static void case14_policy_rule_change_is_mutation_forbidden(void **state)
{
    (void)state;
    h_anchor_snapshot prev = ingress_snapshot();
    h_anchor_input in = make_input(H_FREEZE_ROUTING);
    in.values[H_ANCHOR_POLICY_RULE_VERSION] = "pol_10";
    h_anchor_snapshot s = inject(&in, &prev);
    assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_MUTATION_FORBIDDEN);
    assert_string_equal(s.anchor_set.value[H_ANCHOR_POLICY_RULE_VERSION], "pol_9");
}

static bool strict_field(int f)
{
    return f == H_ANCHOR_SCHEMA_VERSION || f == H_ANCHOR_ROUTING_STRATEGY_VERSION ||
           f == H_ANCHOR_PLACEMENT_CONFIG_VERSION ||
           f == H_ANCHOR_CONFIG_RESOLUTION_CONTRACT_VERSION ||
           f == H_ANCHOR_VERSION_GATE_CONTRACT_VERSION;
}

static void overwrite_attempt_refused_for_every_non_strict_field(void **state)
{
    (void)state;
    const h_anchor_snapshot stored = ingress_snapshot();
    h_anchor_snapshot before = stored;
    int checked = 0;
    for (int f = 0; f < H_ANCHOR_FIELD_COUNT; f++) {
        if (strict_field(f)) continue;
        for (int fp = H_FREEZE_INGRESS; fp < H_FREEZE_COUNT; fp++) {
            h_anchor_input in = make_input((h_freeze_point)fp);
            in.values[f] = "overwritten_x";
            h_anchor_snapshot s = inject(&in, &stored);
            assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_MUTATION_FORBIDDEN);
            assert_memory_equal(&s.anchor_set, &stored.anchor_set, sizeof stored.anchor_set);
            assert_string_equal(s.anchor_hash, stored.anchor_hash);
        }
        checked++;
    }
    assert_int_equal(checked, 13);
    assert_memory_equal(&stored, &before, sizeof stored);
}

static void forwarding_without_values_keeps_set(void **state)
{
    (void)state;
    h_anchor_snapshot prev = ingress_snapshot();
    h_anchor_input in = make_input(H_FREEZE_ROUTING);
    memset(in.values, 0, sizeof in.values);
    h_anchor_snapshot s = inject(&in, &prev);
    assert_decision(&s, H_ALLOW, MED_R_H_ANCHOR_ALL_PASS);
    assert_string_equal(s.anchor_hash, prev.anchor_hash);
}

static void tampered_previous_is_hash_mismatch(void **state)
{
    (void)state;
    h_anchor_snapshot prev = ingress_snapshot();
    strcpy(prev.anchor_set.value[H_ANCHOR_BILLING_RULE_VERSION], "bill_7");
    h_anchor_input in = make_input(H_FREEZE_ROUTING);
    in.values[H_ANCHOR_BILLING_RULE_VERSION] = "bill_7";
    h_anchor_snapshot s = inject(&in, &prev);
    assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_SNAPSHOT_HASH_MISMATCH);
    /* the tampered set is not given a matching hash */
    assert_string_equal(s.anchor_hash, prev.anchor_hash);
}

static void earlier_freeze_point_is_mutation_forbidden(void **state)
{
    (void)state;
    h_anchor_snapshot first = ingress_snapshot();
    h_anchor_input later = make_input(H_FREEZE_DELIVERY);
    h_anchor_snapshot prev = inject(&later, &first);
    h_anchor_input in = make_input(H_FREEZE_ROUTING);
    h_anchor_snapshot s = inject(&in, &prev);
    assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_MUTATION_FORBIDDEN);
}

static void missing_inputs_and_fields(void **state)
{
    (void)state;
    h_anchor_input in = make_input(H_FREEZE_INGRESS);
    in.values[H_ANCHOR_ENUM_DICT_VERSION] = NULL;
    h_anchor_snapshot s = inject(&in, NULL);
    assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_MISSING_REQUIRED);
    in = make_input(H_FREEZE_INGRESS);
    in.trace_key = "";
    s = inject(&in, NULL);
    assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_MISSING_REQUIRED);
    /* a later freeze point without the forwarded snapshot */
    in = make_input(H_FREEZE_ROUTING);
    s = inject(&in, NULL);
    assert_decision(&s, H_REJECT, MED_R_H_ANCHOR_MISSING_REQUIRED);
}

static void snapshot_renders_as_json(void **state)
{
    (void)state;
    h_anchor_snapshot s = ingress_snapshot();
    json_t *j = h_anchor_snapshot_to_json(&s);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "anchorHash")), s.anchor_hash);
    assert_int_equal(json_object_size(json_object_get(j, "anchorSet")), 18);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "anchorSet"), "appConfigVersionOrNA")),
        "NA");
    json_t *fs = json_object_get(j, "freezeState");
    assert_string_equal(json_string_value(json_object_get(fs, "currentFreezePoint")),
                        "freeze_point_ingress");
    assert_string_equal(json_string_value(json_object_get(fs, "anchorAction")), "allow");
    assert_int_equal(json_array_size(json_object_get(fs, "completedFreezePoints")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "reasonCodes"), 0)),
                        MED_R_H_ANCHOR_ALL_PASS);
    assert_string_equal(json_string_value(json_object_get(j, "injectedAt")),
                        "2026-11-23T10:20:00.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "versionAnchorContractVersion")),
                        "anchor_v1");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case14_ingress_all_pass_hash_is_jcs),
        cmocka_unit_test(case14_schema_change_at_ingress_rejects_pre_route),
        cmocka_unit_test(case14_schema_change_at_delivery_keeps_old_and_degrades),
        cmocka_unit_test(case14_policy_rule_change_is_mutation_forbidden),
        cmocka_unit_test(overwrite_attempt_refused_for_every_non_strict_field),
        cmocka_unit_test(forwarding_without_values_keeps_set),
        cmocka_unit_test(tampered_previous_is_hash_mismatch),
        cmocka_unit_test(earlier_freeze_point_is_mutation_forbidden),
        cmocka_unit_test(missing_inputs_and_fields),
        cmocka_unit_test(snapshot_renders_as_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
