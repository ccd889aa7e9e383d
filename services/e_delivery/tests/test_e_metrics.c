/* The reason class of med_deliveries_total: business vs system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "e_metrics.h"
#include "med/metric_names.h"

static void served_and_no_fill_are_business(void **state)
{
    (void)state;
    assert_string_equal(e_metrics_reason_class("served", "e_render_candidate_selected", NULL),
                        MED_MV_CLASS_BUSINESS);
    assert_string_equal(e_metrics_reason_class("no_fill", "e_nf_policy_blocked", "c_consent_scope_blocked"),
                        MED_MV_CLASS_BUSINESS);
}

static void errors_are_system_unless_an_upstream_refusal(void **state)
{
    (void)state;
    assert_string_equal(e_metrics_reason_class("error", "e_er_invalid_compose_input", NULL),
                        MED_MV_CLASS_SYSTEM);
    assert_string_equal(e_metrics_reason_class("error", "e_er_upstream_error", NULL),
                        MED_MV_CLASS_SYSTEM);
    assert_string_equal(e_metrics_reason_class("error", "e_er_upstream_error", "d_er_timeout"),
                        MED_MV_CLASS_SYSTEM);
    assert_string_equal(e_metrics_reason_class("error", "e_er_upstream_error",
                                               "b_reject_required_block_missing"),
                        MED_MV_CLASS_BUSINESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(served_and_no_fill_are_business),
        cmocka_unit_test(errors_are_system_unless_an_upstream_refusal),
    };
    return cmocka_run_group_tests_name("e_metrics", tests, NULL, NULL);
}
