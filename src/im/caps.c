/*
 * XEP-0115 Entity Capabilities: the verification string and its hash
 * (§5.1, OpenSSL EVP), our <c/> in every presence, and others' caps:
 * an unknown ver is queried (disco#info at NODE#VER, §6.2) and believed
 * only when the answer hashes to it (§5.4), then kept per ver so the
 * thousand contacts running the same client cost one query.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "core/base64.h"
#include "im/conn_int.h"

#define XT_NS_DATA "jabber:x:data"

/* --- the verification string (§5.1) ------------------------------------ */

/* A growable array of owned strings. */
typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void strv_free(const xt_mem *mem, strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        xt_free(mem, s->v[i]);
    xt_free(mem, s->v);
    memset(s, 0, sizeof *s);
}

/* Takes b's text as a new entry (b is cleared). */
static int strv_take(const xt_mem *mem, strv *s, xt_buf *b)
{
    if (XT_GROW(mem, s->v, s->cap, s->n + 1, 8))
        return XT_ENOMEM;
    const char *t = xt_buf_cstr(b);
    char *copy = t ? xt_strdup(mem, t) : NULL;
    if (!copy)
        return XT_ENOMEM;
    s->v[s->n++] = copy;
    xt_buf_clear(b);
    return 0;
}

static int cmp_octets(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts; 1 when two entries are equal (§5.4 3.3/3.4 duplicates). */
static int strv_sort_dup(strv *s)
{
    if (s->n > 1) /* qsort's base must not be NULL, even for 0 items (C11 7.22.5) */
        qsort(s->v, s->n, sizeof *s->v, cmp_octets);
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->v[i - 1], s->v[i]) == 0)
            return 1;
    return 0;
}

static int put(xt_buf *b, const char *s)
{
    return xt_buf_append_str(b, s ? s : "");
}

/* The FORM_TYPE of a data form: 0 and *out (NULL = the form is ignored,
 * §5.4 3.6: no FORM_TYPE, or not hidden), or XT_EPROTO (several values,
 * §5.4 3.5). */
static int form_type(const xt_stanza *x, const char **out)
{
    *out = NULL;
    for (const xt_stanza *f = xt_stanza_first_child(x); f; f = xt_stanza_next_sibling(f)) {
        const char *var = xt_stanza_attr(f, "var");
        if (strcmp(xt_stanza_name(f), "field") != 0 || !var || strcmp(var, "FORM_TYPE") != 0)
            continue;
        const char *type = xt_stanza_attr(f, "type");
        if (!type || strcmp(type, "hidden") != 0)
            return 0;
        const char *val = NULL;
        for (const xt_stanza *v = xt_stanza_first_child(f); v; v = xt_stanza_next_sibling(v)) {
            if (strcmp(xt_stanza_name(v), "value") != 0)
                continue;
            const char *t = xt_stanza_text(v);
            if (!t)
                return XT_ENOMEM;
            if (val && strcmp(val, t) != 0)
                return XT_EPROTO;
            val = t;
        }
        *out = val;
        return 0;
    }
    return 0;
}

/* One form's part of S: FORM_TYPE '<', then per field (sorted by var,
 * FORM_TYPE left out) var '<' and its sorted values each followed by '<'
 * (§5.1 step 7). Appended to b. */
static int form_string(const xt_mem *mem, const xt_stanza *x, const char *ft, xt_buf *b)
{
    strv fields = {0}, vals = {0};
    xt_buf fb, tmp;
    xt_buf_init(&fb, mem);
    xt_buf_init(&tmp, mem);
    int rc = put(b, ft);
    if (!rc)
        rc = put(b, "<");
    for (const xt_stanza *f = xt_stanza_first_child(x); f && !rc; f = xt_stanza_next_sibling(f)) {
        const char *var = xt_stanza_attr(f, "var");
        if (strcmp(xt_stanza_name(f), "field") != 0 || !var || strcmp(var, "FORM_TYPE") == 0)
            continue;
        for (const xt_stanza *v = xt_stanza_first_child(f); v && !rc;
             v = xt_stanza_next_sibling(v)) {
            if (strcmp(xt_stanza_name(v), "value") != 0)
                continue;
            const char *t = xt_stanza_text(v);
            rc = !t ? XT_ENOMEM : put(&tmp, t);
            if (!rc)
                rc = put(&tmp, "<");
            if (!rc)
                rc = strv_take(mem, &vals, &tmp);
        }
        if (rc)
            break;
        if (vals.n > 1)
            qsort(vals.v, vals.n, sizeof *vals.v, cmp_octets);
        rc = put(&fb, var);
        if (!rc)
            rc = put(&fb, "<");
        for (size_t i = 0; i < vals.n && !rc; i++)
            rc = put(&fb, vals.v[i]);
        strv_free(mem, &vals);
        if (!rc)
            rc = strv_take(mem, &fields, &fb);
    }
    if (!rc) {
        /* Sorting "var<values..." sorts by var: '<' sorts below every
         * character a var may continue with except controls. */
        if (fields.n > 1)
            qsort(fields.v, fields.n, sizeof *fields.v, cmp_octets);
        for (size_t i = 0; i < fields.n && !rc; i++)
            rc = put(b, fields.v[i]);
    }
    strv_free(mem, &fields);
    strv_free(mem, &vals);
    xt_buf_free(&fb);
    xt_buf_free(&tmp);
    return rc;
}

/* S of a disco#info <query/> into b (as a C string). */
static int verification_string(const xt_mem *mem, const xt_stanza *q, xt_buf *b)
{
    strv ids = {0}, feats = {0}, forms = {0}, fts = {0};
    xt_buf t;
    xt_buf_init(&t, mem);
    int rc = 0;
    for (const xt_stanza *ch = xt_stanza_first_child(q); ch && !rc;
         ch = xt_stanza_next_sibling(ch)) {
        const char *name = xt_stanza_name(ch), *ns = xt_stanza_ns(ch);
        if (strcmp(ns, XT_NS_DISCO_INFO) == 0 && strcmp(name, "identity") == 0) {
            /* category/type/lang/name< (step 2) */
            rc = put(&t, xt_stanza_attr(ch, "category"));
            if (!rc)
                rc = put(&t, "/");
            if (!rc)
                rc = put(&t, xt_stanza_attr(ch, "type"));
            if (!rc)
                rc = put(&t, "/");
            if (!rc)
                rc = put(&t, xt_stanza_attr(ch, "xml:lang"));
            if (!rc)
                rc = put(&t, "/");
            if (!rc)
                rc = put(&t, xt_stanza_attr(ch, "name"));
            if (!rc)
                rc = put(&t, "<");
            if (!rc)
                rc = strv_take(mem, &ids, &t);
        } else if (strcmp(ns, XT_NS_DISCO_INFO) == 0 && strcmp(name, "feature") == 0) {
            rc = put(&t, xt_stanza_attr(ch, "var"));
            if (!rc)
                rc = put(&t, "<");
            if (!rc)
                rc = strv_take(mem, &feats, &t);
        } else if (strcmp(ns, XT_NS_DATA) == 0 && strcmp(name, "x") == 0) {
            const char *ft = NULL;
            rc = form_type(ch, &ft);
            if (rc || !ft)
                continue;
            rc = put(&t, ft);
            if (!rc)
                rc = strv_take(mem, &fts, &t);
            if (!rc)
                rc = form_string(mem, ch, ft, &t);
            if (!rc)
                rc = strv_take(mem, &forms, &t);
        }
    }
    /* §5.4 3.3-3.5: duplicates make the answer ill-formed. FORM_TYPEs
     * are unique, so sorting the forms' strings (each starts with its
     * FORM_TYPE and '<') sorts them by FORM_TYPE (step 7). */
    if (!rc && (strv_sort_dup(&ids) || strv_sort_dup(&feats) || strv_sort_dup(&fts)))
        rc = XT_EPROTO;
    if (!rc && forms.n > 1) /* see strv_sort_dup */
        qsort(forms.v, forms.n, sizeof *forms.v, cmp_octets);
    for (size_t i = 0; i < ids.n && !rc; i++)
        rc = put(b, ids.v[i]);
    for (size_t i = 0; i < feats.n && !rc; i++)
        rc = put(b, feats.v[i]);
    for (size_t i = 0; i < forms.n && !rc; i++)
        rc = put(b, forms.v[i]);
    if (!rc && !xt_buf_cstr(b))
        rc = XT_ENOMEM;
    strv_free(mem, &ids);
    strv_free(mem, &feats);
    strv_free(mem, &forms);
    strv_free(mem, &fts);
    xt_buf_free(&t);
    return rc;
}

int xt_caps_hash(const xt_stanza *query, const char *algo, char *out, size_t out_size)
{
    if (!query || !algo || !out)
        return XT_EINVAL;
    /* XEP-0115 §5.1 names the IANA hash names; §8.4 wants SHA-1 at least. */
    const char *md_name = strcmp(algo, "sha-1") == 0     ? "SHA1"
                          : strcmp(algo, "sha-256") == 0 ? "SHA256"
                          : strcmp(algo, "sha-512") == 0 ? "SHA512"
                                                         : NULL;
    if (!md_name || out_size < 89)
        return XT_EINVAL;
    xt_buf s, b64;
    xt_buf_init(&s, NULL);
    xt_buf_init(&b64, NULL);
    int rc = verification_string(NULL, query, &s);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!rc && !EVP_Digest(xt_buf_head(&s), xt_buf_size(&s), md, &mdlen,
                           EVP_get_digestbyname(md_name), NULL))
        rc = XT_ENOMEM;
    if (!rc)
        rc = xt_base64_encode(&b64, md, mdlen);
    if (!rc && xt_buf_size(&b64) + 1 > out_size)
        rc = XT_EINVAL;
    if (!rc) {
        memcpy(out, xt_buf_head(&b64), xt_buf_size(&b64));
        out[xt_buf_size(&b64)] = '\0';
    }
    xt_buf_free(&s);
    xt_buf_free(&b64);
    return rc;
}

/* --- ours in presence (§4) ---------------------------------------------- */

int xt_caps_add_to_presence(xt_conn *c, xt_stanza *p)
{
    const char *ver = xt_disco_own_ver(c);
    xt_stanza *cap = ver ? xt_stanza_add_child(p, "c", XT_NS_CAPS) : NULL;
    if (!cap || xt_stanza_set_attr(cap, "hash", "sha-1") ||
        xt_stanza_set_attr(cap, "node", XT_CAPS_NODE) || xt_stanza_set_attr(cap, "ver", ver))
        return XT_ENOMEM;
    return 0;
}

/* --- others' ------------------------------------------------------------------ */

static const char *ver_key(const void *ctx, size_t i)
{
    return ((const xt_caps_state *)ctx)->vers[i].ver;
}

static const char *jid_key(const void *ctx, size_t i)
{
    return ((const xt_caps_state *)ctx)->jids[i].jid;
}

static void entry_free(const xt_mem *mem, xt_caps_entry *e)
{
    xt_free(mem, e->ver);
    for (size_t i = 0; i < e->n; i++)
        xt_free(mem, e->features[i]);
    xt_free(mem, e->features);
}

static size_t find_ver(const xt_caps_state *cs, const char *ver)
{
    return xt_index_find(&cs->vix, ver, ver_key, cs);
}

/* Removes entry i of an array kept with an index (the last moves in). */
#define REMOVE_AT(mem, arr, n, ix, key, cs, i, freefn)                                             \
    do {                                                                                           \
        xt_index_del(&(ix), (i), (key), (cs));                                                     \
        freefn;                                                                                    \
        if ((i) != (n)-1) {                                                                        \
            (arr)[i] = (arr)[(n)-1];                                                               \
            xt_index_moved(&(ix), (n)-1, (i), (key), (cs));                                        \
        }                                                                                          \
        (n)--;                                                                                     \
    } while (0)

/* Adds a verified ver with its features (copied). */
static int add_ver(xt_conn *c, const char *ver, const char *const *feats, size_t n)
{
    xt_caps_state *cs = &c->disco.caps;
    const xt_mem *mem = c->s.mem;
    if (find_ver(cs, ver) != XT_INDEX_NONE)
        return 0;
    if (cs->nvers >= XT_CAPS_MAX_VERS) /* the bound: drop one (any) */
        REMOVE_AT(mem, cs->vers, cs->nvers, cs->vix, ver_key, cs, (size_t)0,
                  entry_free(mem, &cs->vers[0]));
    if (XT_GROW(mem, cs->vers, cs->capvers, cs->nvers + 1, 8))
        return XT_ENOMEM;
    xt_caps_entry e = {.ver = xt_strdup(mem, ver)};
    e.features = n ? xt_calloc(mem, n, sizeof *e.features) : NULL;
    int rc = e.ver && (!n || e.features) ? 0 : XT_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++, e.n++)
        if (!(e.features[i] = xt_strdup(mem, feats[i])))
            rc = XT_ENOMEM;
    if (!rc) {
        cs->vers[cs->nvers] = e;
        if ((rc = xt_index_add(mem, &cs->vix, cs->nvers, ver_key, cs)) == 0)
            cs->nvers++;
    }
    if (rc)
        entry_free(mem, &e);
    return rc;
}

int xt_conn_caps_add(xt_conn *c, const char *ver, const char *const *features, size_t nfeatures)
{
    if (!c || !ver || (nfeatures && !features))
        return XT_EINVAL;
    return add_ver(c, ver, features, nfeatures);
}

/* Records full JID -> ver (replacing what it had). */
static int note_jid(xt_conn *c, const char *jid, const char *ver)
{
    xt_caps_state *cs = &c->disco.caps;
    const xt_mem *mem = c->s.mem;
    size_t i = xt_index_find(&cs->jix, jid, jid_key, cs);
    char *v = xt_strdup(mem, ver);
    if (!v)
        return XT_ENOMEM;
    if (i != XT_INDEX_NONE) {
        xt_free(mem, cs->jids[i].ver);
        cs->jids[i].ver = v;
        return 0;
    }
    if (cs->njids >= XT_CAPS_MAX_JIDS)
        REMOVE_AT(mem, cs->jids, cs->njids, cs->jix, jid_key, cs, (size_t)0,
                  (xt_free(mem, cs->jids[0].jid), xt_free(mem, cs->jids[0].ver)));
    char *j = xt_strdup(mem, jid);
    if (!j || XT_GROW(mem, cs->jids, cs->capjids, cs->njids + 1, 8)) {
        xt_free(mem, j);
        xt_free(mem, v);
        return XT_ENOMEM;
    }
    cs->jids[cs->njids] = (xt_caps_jid){.jid = j, .ver = v};
    if (xt_index_add(mem, &cs->jix, cs->njids, jid_key, cs)) {
        xt_free(mem, j);
        xt_free(mem, v);
        return XT_ENOMEM;
    }
    cs->njids++;
    return 0;
}

void xt_caps_forget(xt_conn *c, const char *from)
{
    xt_caps_state *cs = &c->disco.caps;
    size_t i = xt_index_find(&cs->jix, from, jid_key, cs);
    if (i != XT_INDEX_NONE)
        REMOVE_AT(c->s.mem, cs->jids, cs->njids, cs->jix, jid_key, cs, i,
                  (xt_free(c->s.mem, cs->jids[i].jid), xt_free(c->s.mem, cs->jids[i].ver)));
}

static void emit_caps(xt_conn *c, const char *jid, const xt_caps_entry *e, int fresh)
{
    xt_caps_event ce = {.jid = jid,
                        .ver = e->ver,
                        .features = (const char *const *)e->features,
                        .nfeatures = e->n,
                        .fresh = fresh};
    xt_event ev = {.type = XT_EV_CAPS, .u.caps = &ce};
    xt_conn_emit(c, &ev);
}

static int pending_slot(xt_caps_state *cs, const char *ver)
{
    for (int i = 0; i < XT_CAPS_MAX_PENDING; i++)
        if (cs->pending[i] && strcmp(cs->pending[i], ver) == 0)
            return i;
    return -1;
}

static void verify_done(xt_conn *c, int status, const xt_stanza *reply, const char *jid,
                        const char *ver)
{
    xt_caps_state *cs = &c->disco.caps;
    int slot = pending_slot(cs, ver);
    if (slot >= 0) {
        xt_free(c->s.mem, cs->pending[slot]);
        cs->pending[slot] = NULL;
    }
    const xt_stanza *q = reply ? xt_stanza_child(reply, "query", XT_NS_DISCO_INFO) : NULL;
    if (status || !q) {
        if (status != XT_ECLOSED)
            xt_stream_logf(&c->s, XT_LOG_DEBUG, "caps of %s not verified: %s", jid,
                           status ? xt_strerror(status) : "no <query/>");
        return;
    }
    char got[96];
    int rc = xt_caps_hash(q, "sha-1", got, sizeof got);
    if (rc == XT_ENOMEM) {
        xt_stream_fail(&c->s, rc, NULL, NULL, "out of memory verifying caps", NULL);
        return;
    }
    /* §5.4 step 3.8: a ver that does not match what the entity says it
     * supports is not believed (poisoning the cache for every contact
     * with that ver would otherwise take one lying client). */
    if (rc || strcmp(got, ver) != 0) {
        xt_stream_logf(&c->s, XT_LOG_WARN,
                       "caps of %s ignored: ver %s does not match its features%s", jid, ver,
                       rc ? " (ill-formed)" : "");
        return;
    }
    xt_disco_parsed p;
    if (xt_disco_parse(c->s.mem, q, jid, &p) ||
        add_ver(c, ver, (const char *const *)p.info.features, p.info.nfeatures)) {
        xt_disco_parsed_free(c->s.mem, &p);
        xt_stream_fail(&c->s, XT_ENOMEM, NULL, NULL, "out of memory keeping caps", NULL);
        return;
    }
    xt_disco_parsed_free(c->s.mem, &p);
    size_t e = find_ver(cs, ver);
    /* Everyone who announced this ver meanwhile learns it too. Collected
     * first: a handler may change the table. */
    for (size_t i = 0; i < cs->njids && e != XT_INDEX_NONE; i++) {
        if (strcmp(cs->jids[i].ver, ver) != 0)
            continue;
        char *who = xt_strdup(c->s.mem, cs->jids[i].jid);
        if (!who)
            break;
        emit_caps(c, who, &cs->vers[e], 1);
        xt_free(c->s.mem, who);
        if (xt_stream_is_closed(&c->s) || (e = find_ver(cs, ver)) == XT_INDEX_NONE)
            break;
    }
}

int xt_caps_on_presence(xt_conn *c, const char *from, const xt_stanza *st)
{
    const xt_stanza *cap = xt_stanza_child(st, "c", XT_NS_CAPS);
    if (!cap) {
        xt_caps_forget(c, from);
        return 0;
    }
    const char *hash = xt_stanza_attr(cap, "hash"), *node = xt_stanza_attr(cap, "node"),
               *ver = xt_stanza_attr(cap, "ver");
    /* §5.4 step 3.1/3.2: without a hash it is the legacy format, which
     * cannot be verified; only sha-1 is checked (what every client sends). */
    if (!hash || strcmp(hash, "sha-1") != 0 || !node || !ver || !*ver || strlen(ver) > 88)
        return 0;
    xt_caps_state *cs = &c->disco.caps;
    /* Our own ver in the cache before any lookup (disco.c hashes it on
     * first need): our other resources' presence needs no query. */
    if (!xt_disco_own_ver(c))
        return XT_ENOMEM;
    int rc = note_jid(c, from, ver);
    if (rc)
        return rc;
    size_t e = find_ver(cs, ver);
    if (e != XT_INDEX_NONE) {
        emit_caps(c, from, &cs->vers[e], 0);
        return 0;
    }
    if (pending_slot(cs, ver) >= 0)
        return 0; /* one query per ver */
    int slot;
    for (slot = 0; slot < XT_CAPS_MAX_PENDING && cs->pending[slot]; slot++)
        ;
    if (slot == XT_CAPS_MAX_PENDING)
        return 0; /* a flood of new vers: the next presence asks again */
    if (!(cs->pending[slot] = xt_strdup(c->s.mem, ver)))
        return XT_ENOMEM;
    size_t nl = strlen(node), vl = strlen(ver);
    char *full = xt_malloc(c->s.mem, nl + vl + 2);
    if (!full) {
        xt_free(c->s.mem, cs->pending[slot]);
        cs->pending[slot] = NULL;
        return XT_ENOMEM;
    }
    memcpy(full, node, nl);
    full[nl] = '#';
    memcpy(full + nl + 1, ver, vl + 1);
    rc = xt_disco_query_internal(c, from, full, verify_done, ver);
    xt_free(c->s.mem, full);
    if (rc) {
        xt_free(c->s.mem, cs->pending[slot]);
        cs->pending[slot] = NULL;
        return rc == XT_ENOMEM ? rc : 0;
    }
    return 0;
}

size_t xt_conn_caps_features(const xt_conn *c, const char *full_jid, const char *const **out)
{
    if (!c || !full_jid || !out)
        return 0;
    const xt_caps_state *cs = &c->disco.caps;
    size_t i = xt_index_find(&cs->jix, full_jid, jid_key, cs);
    size_t e = i == XT_INDEX_NONE ? XT_INDEX_NONE : find_ver(cs, cs->jids[i].ver);
    if (e == XT_INDEX_NONE)
        return 0;
    *out = (const char *const *)cs->vers[e].features;
    return cs->vers[e].n;
}

void xt_caps_free(xt_conn *c)
{
    xt_caps_state *cs = &c->disco.caps;
    for (size_t i = 0; i < cs->nvers; i++)
        entry_free(c->s.mem, &cs->vers[i]);
    for (size_t i = 0; i < cs->njids; i++) {
        xt_free(c->s.mem, cs->jids[i].jid);
        xt_free(c->s.mem, cs->jids[i].ver);
    }
    for (int i = 0; i < XT_CAPS_MAX_PENDING; i++)
        xt_free(c->s.mem, cs->pending[i]);
    xt_free(c->s.mem, cs->vers);
    xt_free(c->s.mem, cs->jids);
    xt_index_free(c->s.mem, &cs->vix);
    xt_index_free(c->s.mem, &cs->jix);
    memset(cs, 0, sizeof *cs);
}
