/* A.4: the Lua scripts that read, claim, complete and free A's dedup
 * record in single server-side steps (run with med_redis_eval). */
#ifndef A_DEDUP_LUA_H
#define A_DEDUP_LUA_H

/* KEYS[1] = med:<env>:a:dedup:<tenant>:<dedupKey>.
 * ARGV[1] = the stored bytes the caller decided on ("" = no record),
 * ARGV[2] = the record to store ("" = only read), ARGV[3] = TTL in ms.
 * Stores ARGV[2] with PX ARGV[3] and returns 1 only while the key still
 * holds ARGV[1] (absent for ""); otherwise returns what the key holds
 * (nil when absent), on which the caller decides again.
 * Optional KEYS[2] = the alias key (cli:<appId>:<generated id>) with
 * ARGV[4] = the alias bytes: stored with the record, in the same step,
 * unless the alias key holds something else (see A_DEDUP_PUT_LUA). */
extern const char A_DEDUP_CLAIM_LUA[];

/* The completed record: SET KEYS[1] = ARGV[1] PX ARGV[2]; optional
 * KEYS[2] = ARGV[3] (the alias) with the same TTL, unless the alias key
 * holds other bytes (a client that chose that id itself owns it). */
extern const char A_DEDUP_PUT_LUA[];

/* A reject frees the record: DEL KEYS[1]; optional KEYS[2] is deleted
 * only while it holds ARGV[1] (this record's alias). */
extern const char A_DEDUP_DELETE_LUA[];

#endif
