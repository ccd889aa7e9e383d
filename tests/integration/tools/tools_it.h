/* Shared plumbing of the tools integration tests: run a built tool and
 * capture its output, make test streams, read back what a stream holds. */
#ifndef TOOLS_IT_H
#define TOOLS_IT_H

#include <stddef.h>
#include <stdint.h>
#include <nats/nats.h>

/* Test-only streams, so the platform's streams (and the stages' durable
 * consumers) never see the tests' messages. */
#define TI_SRC_STREAM    "IT_TOOLS_SRC"
#define TI_SRC_SUBJECTS  "it.tools.src.>"
#define TI_SHADOW_STREAM "IT_TOOLS_SHADOW"
#define TI_SHADOW_SUBJECTS "it.tools.shadow.>"

/* Runs $MED_BUILD_ROOT/<rel_path> with args (NULL-terminated, without
 * argv[0]); stdout into out (NUL-terminated, truncated at cap), stderr to
 * the test's stderr. Returns the exit status, -1 if it did not exit. */
int ti_run(const char *rel_path, const char *const *args, char *out, size_t cap);

/* Creates the stream if it does not exist (file storage, 2 min duplicate
 * window like the platform's). */
void ti_ensure_stream(jsCtx *js, const char *name, const char *subjects);

/* Every message the stream holds on subject, oldest first (at most max);
 * each owned by the caller (natsMsg_Destroy). Returns how many. */
int ti_read_subject(jsCtx *js, const char *stream, const char *subject, natsMsg **out, int max);
void ti_free_msgs(natsMsg **m, int n);

/* n random hex chars + NUL. */
void ti_rand_hex(char *out, int n);
/* Header value or "" (never NULL). */
const char *ti_header(natsMsg *m, const char *name);

#endif
