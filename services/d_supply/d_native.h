/* The display parts of a native creative (OpenRTB Native 1.2 response
 * markup, or the house source's flat {title, imageUrl, clickUrl}), as the
 * asset references and destination E's native_card mode needs (E.6). Pure. */
#ifndef D_NATIVE_H
#define D_NATIVE_H

#include <stddef.h>

#define D_NATIVE_MAX_ASSETS 8

typedef struct d_native {
    char *assets[D_NATIVE_MAX_ASSETS];  /* "title:<text>" | "img:<url>" | "data:<value>", malloc'd */
    size_t n_assets;
    char *destination;                  /* link.url / clickUrl, malloc'd, NULL = none */
} d_native;

/* 0 when adm is native markup with at least one asset; -1 otherwise (HTML,
 * VAST, garbage: not native). out is always safe to free. */
int d_native_parse(const char *adm, d_native *out);
void d_native_free(d_native *n);

#endif
