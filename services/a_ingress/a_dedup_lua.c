/* A.4 scripts. The decision table stays in C (a_dedup_decide): the keys
 * of an expired retry (generation + 1, sha256-based) cannot be derived in
 * Lua, so the claim is a compare-and-set over the bytes the decision was
 * taken on. Equal bytes already stored mean this caller's own write that
 * reached the server before the connection broke (med_redis repeats a
 * command once): that is a claim, not a competitor. Every script is safe
 * to run twice. The alias is written only where it is absent or already
 * this alias, so it never replaces a record a client id owns. */
#include "a_dedup_lua.h"

#define ALIAS_SET_FN                                                            \
    "local function alias_set(val, ttl)\n"                                      \
    "  if not KEYS[2] or not val or val == '' then return end\n"                \
    "  local a = redis.call('GET', KEYS[2])\n"                                  \
    "  if (not a) or a == val then redis.call('SET', KEYS[2], val, 'PX', ttl) end\n" \
    "end\n"

const char A_DEDUP_CLAIM_LUA[] =
    ALIAS_SET_FN
    "local cur = redis.call('GET', KEYS[1])\n"
    "if ARGV[2] ~= '' then\n"
    "  if cur == ARGV[2] then alias_set(ARGV[4], ARGV[3]) return 1 end\n"
    "  if (cur or '') == ARGV[1] then\n"
    "    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n"
    "    alias_set(ARGV[4], ARGV[3])\n"
    "    return 1\n"
    "  end\n"
    "end\n"
    "return cur\n";

const char A_DEDUP_PUT_LUA[] =
    ALIAS_SET_FN
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "alias_set(ARGV[3], ARGV[2])\n"
    "return 1\n";

const char A_DEDUP_DELETE_LUA[] =
    "redis.call('DEL', KEYS[1])\n"
    "if KEYS[2] and ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[1] then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "end\n"
    "return 1\n";
