/* SemVer as the version gate reads it (spec 04 H.5): MAJOR.MINOR.PATCH in
 * decimal, optional "-prerelease", no "+build".
 *
 * Leading zeros ("01.2.3") are invalid, as in SemVer 2.0.0: with them two
 * spellings of one version would compare equal yet hash differently in
 * anchors. Parts are compared as digit strings (length, then bytes), so a
 * part of any size is valid and never overflows. */
#ifndef H_SEMVER_H
#define H_SEMVER_H

#include <stddef.h>
#include "med/err.h"

/* A parsed version. The pointers borrow from the parsed string, which must
 * outlive the struct. */
typedef struct h_semver {
    const char *part[3];  /* major, minor, patch digits */
    size_t part_len[3];
    const char *pre;      /* prerelease bytes after '-', NULL when none */
    size_t pre_len;
} h_semver;

/* MED_ERR_INVALID + h_gate_invalid_version_format when s is not a version
 * (NULL included). */
med_rc h_semver_parse(const char *s, h_semver *out, med_err *err);
/* <0, 0, >0 like strcmp. */
int h_semver_compare(const h_semver *a, const h_semver *b);
/* Parses both and sets *cmp; invalid input as h_semver_parse. */
med_rc h_semver_compare_str(const char *a, const char *b, int *cmp, med_err *err);

#endif
