/* Flat msgpack maps for Redis values (see mpack.h). Decoding reads bytes
 * that came back from Redis, so it treats them as untrusted: every length is
 * checked before msgpack-c sees the buffer. */
#include "med/mpack.h"
#include "med/reason.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

typedef struct mmap_entry {
    char *key;
    med_mval val; /* STR/BIN point at an owned, NUL-terminated copy */
} mmap_entry;

struct med_mmap {
    /* Entries are allocated one by one so the pointers med_mmap_get hands
     * out survive later insertions (the array of pointers may move). */
    mmap_entry **entries;
    size_t n;
    size_t cap;
};

/* ---- map ---------------------------------------------------------------- */

med_mmap *med_mmap_new(void)
{
    return calloc(1, sizeof(med_mmap));
}

static void mval_release(med_mval *v)
{
    if (v->type == MED_MVAL_STR || v->type == MED_MVAL_BIN) free((void *)v->u.s.ptr);
    memset(v, 0, sizeof *v);
}

void med_mmap_free(med_mmap *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        mval_release(&m->entries[i]->val);
        free(m->entries[i]->key);
        free(m->entries[i]);
    }
    free(m->entries);
    free(m);
}

static mmap_entry *mmap_find(const med_mmap *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->entries[i]->key, key) == 0) return m->entries[i];
    return NULL;
}

static mmap_entry *mmap_append(med_mmap *m, const char *key)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        mmap_entry **grown = realloc(m->entries, cap * sizeof *grown);
        if (!grown) return NULL;
        m->entries = grown;
        m->cap = cap;
    }
    mmap_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->key = strdup(key);
    if (!e->key) {
        free(e);
        return NULL;
    }
    e->val.type = MED_MVAL_NIL;
    m->entries[m->n++] = e;
    return e;
}

/* Stores v under key. For STR/BIN, v->u.s.ptr must already be an owned
 * allocation: it is adopted, or freed when the key cannot be stored. The old
 * value is released only once the new one is in place, so a failed set
 * leaves the map as it was. */
static int mmap_put(med_mmap *m, const char *key, med_mval v)
{
    int owns = v.type == MED_MVAL_STR || v.type == MED_MVAL_BIN;
    mmap_entry *e = NULL;
    if (m && key) {
        e = mmap_find(m, key);
        if (!e) e = mmap_append(m, key);
    }
    if (!e) {
        if (owns) free((void *)v.u.s.ptr);
        return -1;
    }
    mval_release(&e->val);
    e->val = v;
    return 0;
}

static int mmap_put_bytes(med_mmap *m, const char *key, med_mval_type type,
                          const void *val, size_t len)
{
    if (!val && len) return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    if (len) memcpy(copy, val, len);
    copy[len] = '\0';
    med_mval v = { .type = type, .u.s = { copy, len } };
    return mmap_put(m, key, v);
}

int med_mmap_set_str(med_mmap *m, const char *key, const char *val)
{
    if (!val) return -1;
    return mmap_put_bytes(m, key, MED_MVAL_STR, val, strlen(val));
}

int med_mmap_set_bin(med_mmap *m, const char *key, const void *val, size_t len)
{
    return mmap_put_bytes(m, key, MED_MVAL_BIN, val, len);
}

int med_mmap_set_int(med_mmap *m, const char *key, int64_t val)
{
    return mmap_put(m, key, (med_mval){ .type = MED_MVAL_INT, .u.i = val });
}

int med_mmap_set_double(med_mmap *m, const char *key, double val)
{
    return mmap_put(m, key, (med_mval){ .type = MED_MVAL_DOUBLE, .u.d = val });
}

int med_mmap_set_bool(med_mmap *m, const char *key, int val)
{
    return mmap_put(m, key, (med_mval){ .type = MED_MVAL_BOOL, .u.b = val ? 1 : 0 });
}

int med_mmap_set_nil(med_mmap *m, const char *key)
{
    return mmap_put(m, key, (med_mval){ .type = MED_MVAL_NIL });
}

const med_mval *med_mmap_get(const med_mmap *m, const char *key)
{
    if (!m || !key) return NULL;
    mmap_entry *e = mmap_find(m, key);
    return e ? &e->val : NULL;
}

size_t med_mmap_size(const med_mmap *m)
{
    return m ? m->n : 0;
}

/* ---- encode ------------------------------------------------------------- */

static int mpack_pack_value(msgpack_packer *pk, const med_mval *v)
{
    switch (v->type) {
    case MED_MVAL_NIL: return msgpack_pack_nil(pk);
    case MED_MVAL_INT: return msgpack_pack_int64(pk, v->u.i);
    case MED_MVAL_DOUBLE: return msgpack_pack_double(pk, v->u.d);
    case MED_MVAL_BOOL: return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case MED_MVAL_STR:
        if (msgpack_pack_str(pk, v->u.s.len) != 0) return -1;
        return msgpack_pack_str_body(pk, v->u.s.ptr, v->u.s.len);
    case MED_MVAL_BIN:
        if (msgpack_pack_bin(pk, v->u.s.len) != 0) return -1;
        return msgpack_pack_bin_body(pk, v->u.s.ptr, v->u.s.len);
    }
    return -1;
}

/* Insertion order, and msgpack-c always picks the shortest integer form, so
 * equal maps built the same way encode to identical bytes. */
static int mpack_pack_map(msgpack_packer *pk, const med_mmap *m)
{
    if (msgpack_pack_map(pk, m->n) != 0) return -1;
    for (size_t i = 0; i < m->n; i++) {
        const mmap_entry *e = m->entries[i];
        size_t klen = strlen(e->key);
        if (msgpack_pack_str(pk, klen) != 0 || msgpack_pack_str_body(pk, e->key, klen) != 0 ||
            mpack_pack_value(pk, &e->val) != 0)
            return -1;
    }
    return 0;
}

med_rc med_mmap_encode(const med_mmap *m, uint8_t **out, size_t *len, med_err *err)
{
    if (!m || !out || !len)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "", "null argument");
    *out = NULL;
    *len = 0;
    if (m->n > MED_MMAP_MAX_ENTRIES)
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_ENCODE_FAILED, "",
                           "map has %zu keys, limit %d", m->n, MED_MMAP_MAX_ENTRIES);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    if (mpack_pack_map(&pk, m) != 0) {
        msgpack_sbuffer_destroy(&sbuf);
        return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "msgpack buffer");
    }
    *len = sbuf.size;
    *out = (uint8_t *)msgpack_sbuffer_release(&sbuf);
    return MED_OK;
}

/* ---- decode: shape check ------------------------------------------------ */

static uint32_t mpack_be(const uint8_t *p, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | p[i];
    return v;
}

/* Total size of the scalar at p (header + payload) or 0 when it is a
 * container, an extension, the reserved byte 0xc1 or runs past the end. */
static size_t mpack_scalar_size(const uint8_t *p, size_t avail)
{
    uint8_t b = p[0];
    size_t hdr = 1, body = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        body = 0;
    } else if (b >= 0xa0 && b <= 0xbf) {
        body = b & 0x1f;
    } else {
        switch (b) {
        case 0xcc: case 0xd0: body = 1; break;
        case 0xcd: case 0xd1: body = 2; break;
        case 0xce: case 0xd2: case 0xca: body = 4; break;
        case 0xcf: case 0xd3: case 0xcb: body = 8; break;
        case 0xc4: case 0xd9: hdr = 2; break;
        case 0xc5: case 0xda: hdr = 3; break;
        case 0xc6: case 0xdb: hdr = 5; break;
        default: return 0;
        }
        if (hdr > 1) {
            if (avail < hdr) return 0;
            body = mpack_be(p + 1, (int)hdr - 1);
        }
    }
    if (avail < hdr || avail - hdr < body) return 0;
    return hdr + body;
}

/* msgpack-c allocates a container's element array from its header count
 * before reading any element, so a few garbage bytes could ask for
 * gigabytes. Only buffers that are exactly one flat map of scalars, with
 * every length inside the buffer, get past this check. */
static int mpack_is_flat_map(const uint8_t *buf, size_t len)
{
    if (len < 1) return 0;
    size_t hdr, n;
    if (buf[0] >= 0x80 && buf[0] <= 0x8f) {
        hdr = 1;
        n = buf[0] & 0x0f;
    } else if (buf[0] == 0xde || buf[0] == 0xdf) {
        hdr = buf[0] == 0xde ? 3 : 5;
        if (len < hdr) return 0;
        n = mpack_be(buf + 1, (int)hdr - 1);
    } else {
        return 0;
    }
    if (n > MED_MMAP_MAX_ENTRIES || n * 2 > len - hdr) return 0;
    size_t off = hdr;
    for (size_t i = 0; i < n * 2; i++) {
        if (off >= len) return 0;
        size_t sz = mpack_scalar_size(buf + off, len - off);
        if (sz == 0) return 0;
        off += sz;
    }
    return off == len;
}

/* ---- decode: conversion ------------------------------------------------- */

static med_rc mpack_bad(med_err *err, const char *what)
{
    return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, "", "%s", what);
}

static med_rc mpack_oom(med_err *err)
{
    return med_err_set(err, MED_ERR_NOMEM, MED_R_INFRA_NOMEM, "", "msgpack decode");
}

static med_rc mpack_store(med_mmap *m, const char *key, const msgpack_object *o, med_err *err)
{
    int rc;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: rc = med_mmap_set_nil(m, key); break;
    case MSGPACK_OBJECT_BOOLEAN: rc = med_mmap_set_bool(m, key, o->via.boolean); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) return mpack_bad(err, "integer above int64");
        rc = med_mmap_set_int(m, key, (int64_t)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: rc = med_mmap_set_int(m, key, o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: rc = med_mmap_set_double(m, key, o->via.f64); break;
    case MSGPACK_OBJECT_STR:
        rc = mmap_put_bytes(m, key, MED_MVAL_STR, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        rc = mmap_put_bytes(m, key, MED_MVAL_BIN, o->via.bin.ptr, o->via.bin.size);
        break;
    default: return mpack_bad(err, "nested or extension value");
    }
    return rc == 0 ? MED_OK : mpack_oom(err);
}

static med_rc mpack_fill_one(med_mmap *m, const msgpack_object_kv *kv, med_err *err)
{
    const msgpack_object *k = &kv->key;
    if (k->type != MSGPACK_OBJECT_STR || memchr(k->via.str.ptr, '\0', k->via.str.size))
        return mpack_bad(err, "key is not a string");
    char *key = strndup(k->via.str.ptr, k->via.str.size);
    if (!key) return mpack_oom(err);
    /* Our encoder never writes a key twice; a repeat means the bytes are
     * not ours, and picking either value would be a guess. */
    med_rc rc = med_mmap_get(m, key) ? mpack_bad(err, "duplicate key")
                                     : mpack_store(m, key, &kv->val, err);
    free(key);
    return rc;
}

static med_rc mpack_fill(med_mmap *m, const msgpack_object *root, med_err *err)
{
    if (root->type != MSGPACK_OBJECT_MAP) return mpack_bad(err, "not a map");
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        med_rc rc = mpack_fill_one(m, &root->via.map.ptr[i], err);
        if (rc != MED_OK) return rc;
    }
    return MED_OK;
}

med_rc med_mmap_decode(const uint8_t *buf, size_t len, med_mmap **out, med_err *err)
{
    if (!out) return mpack_bad(err, "null out");
    *out = NULL;
    if (!buf || !mpack_is_flat_map(buf, len))
        return med_err_set(err, MED_ERR_INVALID, MED_R_INFRA_DECODE_FAILED, "",
                           "not a flat msgpack map of scalars (%zu bytes)", len);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&up, (const char *)buf, len, &off);
    med_rc rc;
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR) {
        rc = mpack_oom(err);
    } else if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        rc = mpack_bad(err, "msgpack unpack failed");
    } else {
        med_mmap *m = med_mmap_new();
        rc = m ? mpack_fill(m, &up.data, err) : mpack_oom(err);
        if (rc == MED_OK) *out = m;
        else med_mmap_free(m);
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}
