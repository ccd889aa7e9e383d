#include "d_native.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_asset(d_native *n, const char *kind, const char *value)
{
    if (!value || !*value || n->n_assets == D_NATIVE_MAX_ASSETS) return;
    char *s = NULL;
    if (asprintf(&s, "%s:%s", kind, value) >= 0) n->assets[n->n_assets++] = s;
}

static void set_destination(d_native *n, const char *url)
{
    if (url && *url && !n->destination) n->destination = strdup(url);
}

/* OpenRTB Native response: {"native":{"assets":[...],"link":{"url"}}} or
 * the same object without the "native" wrapper. */
static void parse_openrtb(const json_t *nat, d_native *n)
{
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(nat, "assets"), i, a)
    {
        add_asset(n, "title", json_string_value(json_object_get(json_object_get(a, "title"), "text")));
        add_asset(n, "img", json_string_value(json_object_get(json_object_get(a, "img"), "url")));
        add_asset(n, "data", json_string_value(json_object_get(json_object_get(a, "data"), "value")));
    }
    set_destination(n, json_string_value(json_object_get(json_object_get(nat, "link"), "url")));
}

static void parse_flat(const json_t *o, d_native *n)
{
    add_asset(n, "title", json_string_value(json_object_get(o, "title")));
    add_asset(n, "img", json_string_value(json_object_get(o, "imageUrl")));
    set_destination(n, json_string_value(json_object_get(o, "clickUrl")));
}

int d_native_parse(const char *adm, d_native *out)
{
    memset(out, 0, sizeof *out);
    if (!adm) return -1;
    while (*adm == ' ' || *adm == '\n' || *adm == '\t' || *adm == '\r') adm++;
    if (*adm != '{') return -1;
    json_error_t je;
    json_t *root = json_loads(adm, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    const json_t *nat = json_object_get(root, "native");
    if (json_is_object(nat)) parse_openrtb(nat, out);
    else if (json_is_array(json_object_get(root, "assets"))) parse_openrtb(root, out);
    else parse_flat(root, out);
    json_decref(root);
    return out->n_assets > 0 ? 0 : -1;
}

void d_native_free(d_native *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n_assets; i++) free(n->assets[i]);
    free(n->destination);
    memset(n, 0, sizeof *n);
}
