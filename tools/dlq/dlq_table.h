/* tools/dlq: dead letters that exist only in dead_letter_records (no
 * MED_DLQ message): F's outbox sweeper (an f_outbox row whose archive
 * publish exhausted its window) and G's archive quarantine (an invalid
 * archive record). The operator's id of one is "t<dead_letter_records.id>",
 * which never collides with a MED_DLQ sequence (a plain number). What a
 * re-drive of each kind does is decided here. Pure. */
#ifndef DLQ_TABLE_H
#define DLQ_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "mediation/v1/dlq.pb-c.h"

#define DLQ_TABLE_ID_PREFIX 't'
#define DLQ_TABLE_MARK      "dead_letter_records"   /* Med-Redrive-Of: dead_letter_records/t<id> */

/* An operator's id: a MED_DLQ sequence, or a table-only dead letter. */
typedef struct dlq_id {
    uint64_t n;
    int table;   /* 1: "t<n>", dead_letter_records.id */
} dlq_id;

/* "123" or "t123" (n > 0). 0 on success, -1 otherwise. */
int dlq_id_parse(const char *s, dlq_id *out);
/* "123" / "t123"; the output is always NUL-terminated. */
void dlq_id_format(dlq_id id, char *out, size_t cap);

typedef enum dlq_table_kind {
    DLQ_TABLE_UNKNOWN = 0,   /* no re-drive rule: shown, never re-driven */
    DLQ_TABLE_F_OUTBOX,      /* F's sweeper: msg_id is the f_outbox key */
    DLQ_TABLE_G_QUARANTINE,  /* G: an invalid archive record, its payload kept */
} dlq_table_kind;

/* stream "" = NULL in the row. */
dlq_table_kind dlq_table_kind_of(const char *stage, const char *stream,
                                 const char *failed_subject);
const char *dlq_table_kind_name(dlq_table_kind k);

/* One table-only dead letter as read (strings owned by the struct). */
typedef struct dlq_table_item {
    long long id;
    char tenant[128], stage[32], failed_subject[256], stream[64], consumer[128];
    long long stream_seq;
    char msg_id[320], reason_code[96], last_error[512];
    int num_delivered;
    int64_t dead_at_ms;
    char status[16], redriven_at[40], redriven_by[64], note[512];
    char trace_key[160], request_key[160], opportunity_key[160];
    uint8_t *payload;   /* malloc'd, may be NULL */
    size_t payload_len;
} dlq_table_item;

void dlq_table_item_free(dlq_table_item *it);
dlq_table_kind dlq_table_item_kind(const dlq_table_item *it);

typedef enum dlq_table_plan {
    DLQ_TPLAN_REARM_OUTBOX = 0,   /* re-arm the f_outbox row; F republishes */
    DLQ_TPLAN_REPUBLISH,          /* publish the stored payload under a new msg id */
    DLQ_TPLAN_REFUSE_DONE,        /* re-driven before, no --force */
    DLQ_TPLAN_REFUSE_DISCARDED,   /* discarded, no --force */
    DLQ_TPLAN_REFUSE_INVALID,     /* G quarantine without --force: would quarantine again */
    DLQ_TPLAN_UNSUPPORTED,        /* unknown writer: nothing safe to do */
} dlq_table_plan;

/* What a re-drive of a table-only dead letter of kind k with status does. */
dlq_table_plan dlq_table_plan_of(dlq_table_kind k, const char *status, int force);
/* The refusals exit 3; UNSUPPORTED is a failure (exit 1). */
int dlq_table_plan_refused(dlq_table_plan p);

/* Nats-Msg-Id of a republished quarantine row: "<msg_id>.redrive.t<id>"
 * ("redrive.<stage>.t<id>" without one); a forced repeat adds ".<now_ms>".
 * 0 on success, -1 if it does not fit. */
int dlq_table_msg_id(const dlq_table_item *it, int repeat, int64_t now_ms, char *out,
                     size_t cap);

/* F's outbox payload (FOutboxRecords) as readable lines
 * "  <recordType> <recordKey> [<status>]\n" after a "records: N" line;
 * malloc'd (caller frees), NULL if it does not decode. */
char *dlq_outbox_records_text(const uint8_t *pb, size_t len);

/* The MED_DLQ copy F publishes of the same outbox dead letter (stage f,
 * failed subject med.g.archive.v1, not from a stream): its payload is an
 * FOutboxRecords, not an ArchiveRecord, so republishing it would feed G
 * bytes it cannot read; it is re-driven through its table row. */
int dlq_is_f_outbox_letter(const Mediation__V1__DeadLetter *dl);

#endif
