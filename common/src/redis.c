/* Redis access (see redis.h). hiredis leaves a context unusable after any
 * I/O error, so a failed command drops the context; the next command (or
 * the retry inside this one) connects afresh. */
#include "med/redis.h"
#include "med/log.h"
#include "med/reason.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define REDIS_DEFAULT_TIMEOUT_MS 1000
#define REDIS_MAX_SCRIPTS 8

/* KEYS[1] is deleted only while it still holds ARGV[1]: GET and DEL run as
 * one step on the server, so a lock that expired and was taken by someone
 * else is never released by its former owner. */
static const char REDIS_DEL_IF_EQUAL_LUA[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) else return 0 end";

struct med_redis {
    char *host;
    int port;
    struct timeval timeout;
    redisContext *ctx; /* NULL after an I/O error until the next connect */
    int down;          /* last command failed: log the outage once */
    /* Scripts this handle loaded (med_redis_eval): text -> SHA1. Kept
     * across reconnects: the server's cache outlives a connection, and a
     * server that lost it answers NOSCRIPT. */
    struct {
        const char *lua;
        char sha[41];
    } scripts[REDIS_MAX_SCRIPTS];
    size_t n_scripts;
};

static med_rc redis_unavailable(const char *what, const char *detail, med_err *err)
{
    return med_err_set(err, MED_ERR_UNAVAILABLE, MED_R_INFRA_REDIS_UNAVAILABLE, "",
                       "redis %s: %s", what, detail ? detail : "unknown error");
}

static void redis_drop(med_redis *r)
{
    if (r->ctx) redisFree(r->ctx);
    r->ctx = NULL;
}

static med_rc redis_reconnect(med_redis *r, med_err *err)
{
    redis_drop(r);
    redisContext *c = redisConnectWithTimeout(r->host, r->port, r->timeout);
    if (!c) return redis_unavailable("connect", "out of memory", err);
    if (c->err) {
        med_rc rc = redis_unavailable("connect", c->errstr, err);
        redisFree(c);
        return rc;
    }
    /* Without a socket timeout a hung server would block the caller for
     * good; keepalive notices a peer that vanished without a FIN. */
    if (redisSetTimeout(c, r->timeout) != REDIS_OK || redisEnableKeepAlive(c) != REDIS_OK) {
        med_rc rc = redis_unavailable("socket options", c->errstr, err);
        redisFree(c);
        return rc;
    }
    r->ctx = c;
    return MED_OK;
}

med_rc med_redis_connect(const char *host, int port, int timeout_ms,
                         med_redis **out, med_err *err)
{
    if (!host || !out || port <= 0 || port > 65535)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_REDIS_UNAVAILABLE, "",
                           "bad redis address");
    *out = NULL;
    med_redis *r = calloc(1, sizeof *r);
    if (!r || !(r->host = strdup(host))) {
        free(r);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "med_redis");
    }
    if (timeout_ms <= 0) timeout_ms = REDIS_DEFAULT_TIMEOUT_MS;
    r->port = port;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    med_rc rc = redis_reconnect(r, err);
    if (rc != MED_OK) {
        med_redis_close(r);
        return rc;
    }
    *out = r;
    return MED_OK;
}

void med_redis_close(med_redis *r)
{
    if (!r) return;
    redis_drop(r);
    free(r->host);
    free(r);
}

/* Server-side errors that mean "not now" rather than "wrong command". */
static int redis_error_is_transient(const char *msg)
{
    static const char *const prefixes[] = {
        "LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "OOM",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(msg, prefixes[i], strlen(prefixes[i])) == 0) return 1;
    return 0;
}

static med_rc redis_reply_check(redisReply *reply, med_err *err)
{
    if (reply->type != REDIS_REPLY_ERROR) return MED_OK;
    const char *msg = reply->str ? reply->str : "";
    if (redis_error_is_transient(msg)) return redis_unavailable("busy", msg, err);
    return med_err_set(err, MED_ERR_IO, MED_R_INFRA_REDIS_ERROR, "", "redis error: %s", msg);
}

static void redis_note_state(med_redis *r, med_rc rc)
{
    int down = rc == MED_ERR_UNAVAILABLE;
    if (down && !r->down) MED_LOGW(NULL, "redis %s:%d unavailable", r->host, r->port);
    if (!down && r->down) MED_LOGI(NULL, "redis %s:%d reachable again", r->host, r->port);
    r->down = down;
}

static redisReply *redis_try(med_redis *r, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    redisReply *reply = redisvCommand(r->ctx, fmt, copy);
    va_end(copy);
    return reply;
}

/* Runs one command: on an I/O error (typically a connection that died
 * while idle, e.g. after a Redis restart) it reconnects and tries once
 * more. A write may thus reach the server twice; every command used here
 * is safe to repeat or, for SET NX, errs towards "not acquired". On success
 * *out is a non-error reply the caller frees. */
static med_rc redis_command(med_redis *r, redisReply **out, med_err *err, const char *fmt, ...)
{
    *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *reply = r->ctx ? redis_try(r, fmt, ap) : NULL;
    med_rc rc = MED_OK;
    if (!reply) {
        rc = redis_reconnect(r, err);
        if (rc == MED_OK) {
            reply = redis_try(r, fmt, ap);
            if (!reply) {
                rc = redis_unavailable("command", r->ctx->errstr, err);
                redis_drop(r);
            }
        }
    }
    va_end(ap);
    redis_note_state(r, rc);
    if (rc == MED_OK) rc = redis_reply_check(reply, err);
    if (rc != MED_OK) {
        if (reply) freeReplyObject(reply);
        return rc;
    }
    *out = reply;
    return MED_OK;
}

static med_rc redis_unexpected(redisReply *reply, const char *cmd, med_err *err)
{
    int type = reply->type;
    freeReplyObject(reply);
    return med_err_set(err, MED_ERR_IO, MED_R_INFRA_REDIS_ERROR, "",
                       "redis %s: unexpected reply type %d", cmd, type);
}

/* out_ok: the caller's output pointers are all non-NULL. */
static med_rc redis_check_args(const med_redis *r, const char *key, const void *val,
                               size_t len, int out_ok, med_err *err)
{
    if (!r || !key || (!val && len) || !out_ok)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_REDIS_ERROR, "", "bad arguments");
    return MED_OK;
}

med_rc med_redis_ping(med_redis *r, med_err *err)
{
    if (!r) return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_REDIS_ERROR, "", "no handle");
    redisReply *reply;
    med_rc rc = redis_command(r, &reply, err, "PING");
    if (rc != MED_OK) return rc;
    if (reply->type != REDIS_REPLY_STATUS) return redis_unexpected(reply, "PING", err);
    freeReplyObject(reply);
    return MED_OK;
}

med_rc med_redis_get(med_redis *r, const char *key, uint8_t **val, size_t *len,
                     med_err *err)
{
    med_rc rc = redis_check_args(r, key, NULL, 0, val && len, err);
    if (rc != MED_OK) return rc;
    *val = NULL;
    *len = 0;
    redisReply *reply;
    rc = redis_command(r, &reply, err, "GET %s", key);
    if (rc != MED_OK) return rc;
    if (reply->type == REDIS_REPLY_NIL) {
        freeReplyObject(reply);
        return med_err_set(err, MED_ERR_NOT_FOUND, MED_R_INFRA_KEY_NOT_FOUND, "", "no such key");
    }
    if (reply->type != REDIS_REPLY_STRING) return redis_unexpected(reply, "GET", err);
    /* One spare byte so text values can be used as C strings. */
    uint8_t *copy = malloc(reply->len + 1);
    if (!copy) {
        freeReplyObject(reply);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "redis value");
    }
    memcpy(copy, reply->str, reply->len);
    copy[reply->len] = '\0';
    *val = copy;
    *len = reply->len;
    freeReplyObject(reply);
    return MED_OK;
}

med_rc med_redis_set(med_redis *r, const char *key, const void *val, size_t len,
                     int64_t ttl_ms, med_err *err)
{
    med_rc rc = redis_check_args(r, key, val, len, 1, err);
    if (rc != MED_OK) return rc;
    redisReply *reply;
    if (ttl_ms > 0)
        rc = redis_command(r, &reply, err, "SET %s %b PX %lld", key, val, len, (long long)ttl_ms);
    else
        rc = redis_command(r, &reply, err, "SET %s %b", key, val, len);
    if (rc != MED_OK) return rc;
    if (reply->type != REDIS_REPLY_STATUS) return redis_unexpected(reply, "SET", err);
    freeReplyObject(reply);
    return MED_OK;
}

med_rc med_redis_set_nx(med_redis *r, const char *key, const void *val, size_t len,
                        int64_t ttl_ms, int *acquired, med_err *err)
{
    med_rc rc = redis_check_args(r, key, val, len, acquired != NULL, err);
    if (rc != MED_OK) return rc;
    *acquired = 0;
    redisReply *reply;
    if (ttl_ms > 0)
        rc = redis_command(r, &reply, err, "SET %s %b NX PX %lld", key, val, len,
                           (long long)ttl_ms);
    else
        rc = redis_command(r, &reply, err, "SET %s %b NX", key, val, len);
    if (rc != MED_OK) return rc;
    /* OK when set, nil when the key already existed. */
    if (reply->type != REDIS_REPLY_STATUS && reply->type != REDIS_REPLY_NIL)
        return redis_unexpected(reply, "SET NX", err);
    *acquired = reply->type == REDIS_REPLY_STATUS;
    freeReplyObject(reply);
    return MED_OK;
}

static med_rc redis_integer(redisReply *reply, const char *cmd, long long *out, med_err *err)
{
    if (reply->type != REDIS_REPLY_INTEGER) return redis_unexpected(reply, cmd, err);
    *out = reply->integer;
    freeReplyObject(reply);
    return MED_OK;
}

med_rc med_redis_del_if_equal(med_redis *r, const char *key, const void *val,
                              size_t len, int *deleted, med_err *err)
{
    med_rc rc = redis_check_args(r, key, val, len, deleted != NULL, err);
    if (rc != MED_OK) return rc;
    *deleted = 0;
    redisReply *reply;
    rc = redis_command(r, &reply, err, "EVAL %s 1 %s %b", REDIS_DEL_IF_EQUAL_LUA, key, val, len);
    if (rc != MED_OK) return rc;
    long long n = 0;
    rc = redis_integer(reply, "EVAL", &n, err);
    if (rc == MED_OK) *deleted = n > 0;
    return rc;
}

med_rc med_redis_del(med_redis *r, const char *key, med_err *err)
{
    med_rc rc = redis_check_args(r, key, NULL, 0, 1, err);
    if (rc != MED_OK) return rc;
    redisReply *reply;
    rc = redis_command(r, &reply, err, "DEL %s", key);
    if (rc != MED_OK) return rc;
    long long n = 0;
    return redis_integer(reply, "DEL", &n, err);
}

/* ---- Lua scripts (med_redis_eval) ---- */

/* redis_command for an argv vector; an error reply is returned as a reply
 * (the caller tells NOSCRIPT from other errors). */
static med_rc redis_command_argv(med_redis *r, int argc, const char **argv,
                                 const size_t *argvlen, redisReply **out, med_err *err)
{
    *out = NULL;
    redisReply *reply = r->ctx ? redisCommandArgv(r->ctx, argc, argv, argvlen) : NULL;
    med_rc rc = MED_OK;
    if (!reply) {
        rc = redis_reconnect(r, err);
        if (rc == MED_OK) {
            reply = redisCommandArgv(r->ctx, argc, argv, argvlen);
            if (!reply) {
                rc = redis_unavailable("command", r->ctx->errstr, err);
                redis_drop(r);
            }
        }
    }
    redis_note_state(r, rc);
    *out = reply;
    return rc;
}

void med_redis_reply_clear(med_redis_reply *reply)
{
    if (!reply) return;
    free(reply->bytes);
    memset(reply, 0, sizeof *reply);
}

/* The SHA1 this handle knows for lua, loading it on first use. */
static med_rc redis_script_sha(med_redis *r, const char *lua, const char **sha, med_err *err)
{
    for (size_t i = 0; i < r->n_scripts; i++)
        if (r->scripts[i].lua == lua || strcmp(r->scripts[i].lua, lua) == 0) {
            *sha = r->scripts[i].sha;
            return MED_OK;
        }
    *sha = NULL;
    redisReply *reply;
    med_rc rc = redis_command(r, &reply, err, "SCRIPT LOAD %s", lua);
    if (rc != MED_OK) return rc;
    if (reply->type != REDIS_REPLY_STRING || reply->len != 40)
        return redis_unexpected(reply, "SCRIPT LOAD", err);
    /* A full table only costs the EVALSHA: every call then runs EVAL. */
    if (r->n_scripts < REDIS_MAX_SCRIPTS) {
        r->scripts[r->n_scripts].lua = lua;
        memcpy(r->scripts[r->n_scripts].sha, reply->str, 40);
        r->scripts[r->n_scripts].sha[40] = '\0';
        *sha = r->scripts[r->n_scripts++].sha;
    }
    freeReplyObject(reply);
    return MED_OK;
}

static int redis_is_noscript(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR && reply->str &&
           strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

static med_rc redis_reply_to_value(redisReply *reply, med_redis_reply *out, med_err *err)
{
    switch (reply->type) {
    case REDIS_REPLY_NIL: out->kind = MED_REDIS_REPLY_NIL; break;
    case REDIS_REPLY_INTEGER:
        out->kind = MED_REDIS_REPLY_INT;
        out->integer = reply->integer;
        break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        out->bytes = malloc(reply->len + 1);
        if (!out->bytes) {
            freeReplyObject(reply);
            return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "redis script reply");
        }
        memcpy(out->bytes, reply->str, reply->len);
        out->bytes[reply->len] = '\0';
        out->len = reply->len;
        out->kind = MED_REDIS_REPLY_BYTES;
        break;
    default: return redis_unexpected(reply, "EVALSHA", err);
    }
    freeReplyObject(reply);
    return MED_OK;
}

med_rc med_redis_eval(med_redis *r, const char *lua, size_t nkeys, const char *const *keys,
                      size_t nargs, const void *const *args, const size_t *arg_lens,
                      med_redis_reply *out, med_err *err)
{
    if (!r || !lua || !out || (nkeys && !keys) || (nargs && (!args || !arg_lens)) ||
        nkeys + nargs > 64)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_REDIS_ERROR, "", "bad arguments");
    memset(out, 0, sizeof *out);
    const char *sha = NULL;
    med_rc rc = redis_script_sha(r, lua, &sha, err);
    if (rc != MED_OK) return rc;
    const char *argv[3 + 64];
    size_t lens[3 + 64];
    char numkeys[24];
    snprintf(numkeys, sizeof numkeys, "%zu", nkeys);
    argv[1] = sha ? sha : lua;
    argv[2] = numkeys;
    for (size_t i = 0; i < nkeys; i++) argv[3 + i] = keys[i];
    for (size_t i = 0; i < nargs; i++) argv[3 + nkeys + i] = args[i];
    for (size_t i = 1; i < 3 + nkeys; i++) lens[i] = strlen(argv[i]);
    for (size_t i = 0; i < nargs; i++) lens[3 + nkeys + i] = arg_lens[i];
    int argc = (int)(3 + nkeys + nargs);
    redisReply *reply = NULL;
    argv[0] = sha ? "EVALSHA" : "EVAL";
    lens[0] = strlen(argv[0]);
    rc = redis_command_argv(r, argc, argv, lens, &reply, err);
    if (rc == MED_OK && sha && redis_is_noscript(reply)) {
        freeReplyObject(reply);
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = lua;
        lens[1] = strlen(lua);
        rc = redis_command_argv(r, argc, argv, lens, &reply, err);
    }
    if (rc == MED_OK) rc = redis_reply_check(reply, err);
    if (rc != MED_OK) {
        if (reply) freeReplyObject(reply);
        return rc;
    }
    return redis_reply_to_value(reply, out, err);
}
