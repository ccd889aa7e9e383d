/* A.4: the one Lua script that reads and claims A's dedup record in a
 * single server-side step (run with med_redis_eval). */
#ifndef A_DEDUP_LUA_H
#define A_DEDUP_LUA_H

/* KEYS[1] = med:<env>:a:dedup:<tenant>:<dedupKey>.
 * ARGV[1] = the stored bytes the caller decided on ("" = no record),
 * ARGV[2] = the record to store ("" = only read), ARGV[3] = TTL in ms.
 * Stores ARGV[2] with PX ARGV[3] and returns 1 only while the key still
 * holds ARGV[1] (absent for ""); otherwise returns what the key holds
 * (nil when absent), on which the caller decides again. */
extern const char A_DEDUP_CLAIM_LUA[];

#endif
