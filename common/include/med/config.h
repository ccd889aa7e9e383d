/* Run-mode aware configuration (spec 05 section 2).
 *
 * Every key has a default per APP_ENV (dev|ci|prod) and can be overridden
 * from the environment. The key list lives in one table in config.c;
 * .env.example at the repository root lists the same keys (a unit test keeps
 * them in sync). In prod a dangerous combination refuses to load, naming
 * the offending key in err->field. */
#ifndef MED_CONFIG_H
#define MED_CONFIG_H

#include <stdint.h>
#include "med/err.h"

typedef enum med_env { MED_ENV_DEV = 0, MED_ENV_CI, MED_ENV_PROD } med_env;

typedef struct med_config med_config; /* opaque, immutable after load */

/* Source of raw values; returns NULL when the key is unset. */
typedef const char *(*med_config_lookup_fn)(const char *key, void *ud);

/* Loads from getenv(). On failure returns NULL-filled *out and an error
 * (CFG_INVALID_VALUE or CFG_PROD_UNSAFE, field = key). Caller frees *out
 * with med_config_free. */
med_rc med_config_load(const char *service_name, med_config **out, med_err *err);
/* Same, from any lookup function (tests). */
med_rc med_config_load_from(const char *service_name, med_config_lookup_fn fn,
                            void *ud, med_config **out, med_err *err);
void med_config_free(med_config *cfg);

med_env med_config_env(const med_config *cfg);
const char *med_config_env_name(med_env env);
const char *med_config_service(const med_config *cfg);
/* Accessors abort nothing: an unknown key returns "" / 0 / false and logs
 * nothing; keys are compile-time constants checked by unit tests. */
const char *med_config_str(const med_config *cfg, const char *key);
int64_t med_config_int(const med_config *cfg, const char *key);
int med_config_bool(const med_config *cfg, const char *key);

/* Number of known keys, and the i-th key name (for .env.example checks). */
int med_config_key_count(void);
const char *med_config_key_name(int i);
/* The i-th key's one-line description and its default in env (NULL when i
 * or env is out of range); .env.example and docs/config.md mirror these. */
const char *med_config_key_description(int i);
const char *med_config_key_default(int i, med_env env);

#endif
