/* A.4 claim script. The decision table stays in C (a_dedup_decide): the
 * keys of an expired retry (generation + 1, sha256-based) cannot be
 * derived in Lua, so the script is a compare-and-set over the bytes the
 * decision was taken on. Equal bytes already stored mean this caller's own
 * write that reached the server before the connection broke (med_redis
 * repeats a command once): that is a claim, not a competitor. */
#include "a_dedup_lua.h"

const char A_DEDUP_CLAIM_LUA[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if ARGV[2] ~= '' then\n"
    "  if cur == ARGV[2] then return 1 end\n"
    "  if (cur or '') == ARGV[1] then\n"
    "    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n"
    "    return 1\n"
    "  end\n"
    "end\n"
    "return cur\n";
