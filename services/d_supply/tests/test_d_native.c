/* Native markup -> asset references and destination (E.6 native_card). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "d_native.h"

static void openrtb_native_response_gives_assets_and_link(void **state)
{
    (void)state;
    d_native n;
    const char *adm = "{\"native\":{\"assets\":[{\"id\":1,\"title\":{\"text\":\"Hi\"}},"
                      "{\"id\":2,\"img\":{\"url\":\"https://c.example/a.png\"}}],"
                      "\"link\":{\"url\":\"https://adv.example/\"}}}";
    assert_int_equal(d_native_parse(adm, &n), 0);
    assert_int_equal(n.n_assets, 2);
    assert_string_equal(n.assets[0], "title:Hi");
    assert_string_equal(n.assets[1], "img:https://c.example/a.png");
    assert_string_equal(n.destination, "https://adv.example/");
    d_native_free(&n);
}

static void house_flat_markup_gives_assets_and_click_url(void **state)
{
    (void)state;
    d_native n;
    const char *adm = "{\"clickUrl\":\"https://example.com/demo\",\"imageUrl\":"
                      "\"https://example.com/demo.png\",\"title\":\"Try\"}";
    assert_int_equal(d_native_parse(adm, &n), 0);
    assert_int_equal(n.n_assets, 2);
    assert_string_equal(n.destination, "https://example.com/demo");
    d_native_free(&n);
}

static void html_vast_and_garbage_are_not_native(void **state)
{
    (void)state;
    d_native n;
    assert_int_equal(d_native_parse("<div>ad</div>", &n), -1);
    d_native_free(&n);
    assert_int_equal(d_native_parse("<VAST version=\"4.0\"></VAST>", &n), -1);
    d_native_free(&n);
    assert_int_equal(d_native_parse("{not json", &n), -1);
    d_native_free(&n);
    assert_int_equal(d_native_parse("{\"native\":{\"assets\":[]}}", &n), -1);
    d_native_free(&n);
    assert_int_equal(d_native_parse(NULL, &n), -1);
    d_native_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openrtb_native_response_gives_assets_and_link),
        cmocka_unit_test(house_flat_markup_gives_assets_and_click_url),
        cmocka_unit_test(html_vast_and_garbage_are_not_native),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
