/* XEP-0198 queues and counters; see sm.h. */
#include "core/sm.h"

#include <stdint.h>
#include <string.h>

#include "base/mem.h"

/* An entry is one allocation: the stanza bytes, then the NUL-terminated
 * message id (so data, when present, is the block; else msg_id is). */
void xt_sm_entry_done(const xt_mem *mem, xt_sm_entry *e)
{
    xt_free(mem, e->data ? e->data : e->msg_id);
    e->data = e->msg_id = NULL;
}

void xt_sm_queue_free(const xt_mem *mem, xt_sm_queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        xt_sm_entry_done(mem, &q->v[q->head + i]);
    xt_free(mem, q->v);
    memset(q, 0, sizeof *q);
}

int xt_sm_queue_push(const xt_mem *mem, xt_sm_queue *q, const char *data, size_t len,
                     const char *msg_id)
{
    if (q->head + q->n == q->cap) {
        if (q->head > q->n) {
            /* More than half is dead space before the head: slide down
             * (amortized O(1) per entry) rather than grow. */
            memmove(q->v, q->v + q->head, q->n * sizeof *q->v);
            q->head = 0;
        } else {
            size_t ncap = q->cap ? q->cap * 2 : 4;
            xt_sm_entry *nv = xt_realloc(mem, q->v, ncap * sizeof *nv);
            if (!nv)
                return XT_ENOMEM;
            q->v = nv;
            q->cap = ncap;
        }
    }
    xt_sm_entry e = {0};
    size_t dlen = data ? len : 0, ilen = msg_id ? strlen(msg_id) + 1 : 0;
    if (data || msg_id) {
        if (dlen > SIZE_MAX - ilen - 1)
            return XT_ENOMEM;
        char *block = xt_malloc(mem, dlen + ilen ? dlen + ilen : 1);
        if (!block)
            return XT_ENOMEM;
        if (data) {
            memcpy(block, data, dlen);
            e.data = block;
            e.len = dlen;
        }
        if (msg_id) {
            memcpy(block + dlen, msg_id, ilen);
            e.msg_id = block + dlen;
        }
    }
    q->v[q->head + q->n++] = e;
    return 0;
}

void xt_sm_queue_trim(const xt_mem *mem, xt_sm_queue *q)
{
    if (q->n)
        return;
    xt_free(mem, q->v);
    q->v = NULL;
    q->head = q->cap = 0;
}

int xt_sm_queue_pop(xt_sm_queue *q, xt_sm_entry *out)
{
    if (!q->n)
        return 0;
    *out = q->v[q->head++];
    if (--q->n == 0)
        q->head = 0;
    return 1;
}

xt_sm_entry *xt_sm_queue_at(xt_sm_queue *q, size_t i)
{
    return i < q->n ? &q->v[q->head + i] : NULL;
}

int xt_sm_queue_has(const xt_sm_queue *q, const char *msg_id)
{
    for (size_t i = 0; i < q->n; i++) {
        const char *m = q->v[q->head + i].msg_id;
        if (m && strcmp(m, msg_id) == 0)
            return 1;
    }
    return 0;
}

int xt_sm_parse_h(const char *s, uint32_t *out)
{
    if (!s || !*s || strlen(s) > 10)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}
