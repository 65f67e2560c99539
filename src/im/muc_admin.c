/*
 * Room administration: roles and affiliations (XEP-0045 §8, §9: kick,
 * ban, voice, membership), owners' forms (§10.1.2 instant room, §10.2
 * configuration with the muc#roomconfig fields, §10.9 destroy), and room
 * discovery (§6). All of it is IQs to the room; the caller's callback
 * gets the room's answer.
 */
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "im/muc_int.h"

#define XT_NS_DATA           "jabber:x:data"
#define FORM_TYPE_ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"

/* The prepared bare room JID (a new xt_jid) after the common checks. */
static int room_arg(xt_conn *c, const char *room, xt_jid **out)
{
    *out = NULL;
    if (!c || !room)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    int rc = xt_jid_parse(c->s.mem, room, out, NULL);
    if (rc)
        return rc;
    if (!xt_jid_local(*out) || xt_jid_resource(*out)) {
        xt_jid_free(*out);
        *out = NULL;
        return XT_EJID;
    }
    return 0;
}

/* <iq type=TYPE to=ROOM><query xmlns=NS/></iq>; *query gets the query. */
static xt_stanza *room_iq(xt_conn *c, const char *room, const char *type, const char *ns,
                          xt_stanza **query)
{
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    if (!iq || xt_stanza_set_attr(iq, "type", type) || xt_stanza_set_attr(iq, "to", room) ||
        !(*query = xt_stanza_add_child(iq, "query", ns))) {
        xt_stanza_free(iq);
        return NULL;
    }
    return iq;
}

/* One muc#admin item change: nick or jid, with role or affiliation. */
static int admin_item(xt_conn *c, const char *room, const char *key, const char *who,
                      const char *attr, const char *value, const char *reason, xt_iq_fn cb,
                      void *ud)
{
    if (!who || (reason && !xt_im_text_ok(reason)))
        return XT_EINVAL;
    xt_jid *rj;
    int rc = room_arg(c, room, &rj);
    if (rc)
        return rc;
    xt_stanza *q = NULL, *item = NULL;
    xt_stanza *iq = room_iq(c, xt_jid_bare(rj), "set", XT_NS_MUC_ADMIN, &q);
    rc = iq && (item = xt_stanza_add_child(q, "item", NULL)) &&
                 !xt_stanza_set_attr(item, key, who) && !xt_stanza_set_attr(item, attr, value) &&
                 (!reason || xt_stanza_add_text_child(item, "reason", NULL, reason))
             ? 0
             : XT_ENOMEM;
    if (!rc)
        rc = xt_conn_iq(c, iq, 0, cb, ud);
    xt_stanza_free(iq);
    xt_jid_free(rj);
    return rc;
}

int xt_muc_set_role(xt_conn *c, const char *room, const char *nick, xt_muc_role role,
                    const char *reason, xt_iq_fn cb, void *ud)
{
    if ((unsigned)role > XT_MUC_ROLE_MODERATOR || !nick || !*nick)
        return XT_EINVAL;
    xt_jid *j = NULL;
    int rc = xt_jid_build(c ? c->s.mem : NULL, NULL, "x.invalid", nick, &j, NULL);
    xt_jid_free(j);
    if (rc)
        return rc; /* not a resourcepart: no occupant has it */
    /* §8.2, §8.3-§8.5, §9.6: by nick. */
    return admin_item(c, room, "nick", nick, "role", xt_muc_role_name(role), reason, cb, ud);
}

int xt_muc_kick(xt_conn *c, const char *room, const char *nick, const char *reason, xt_iq_fn cb,
                void *ud)
{
    return xt_muc_set_role(c, room, nick, XT_MUC_ROLE_NONE, reason, cb, ud);
}

int xt_muc_set_affiliation(xt_conn *c, const char *room, const char *jid,
                           xt_muc_affiliation affiliation, const char *reason, xt_iq_fn cb,
                           void *ud)
{
    if ((unsigned)affiliation > XT_MUC_AFFIL_OWNER || !jid)
        return XT_EINVAL;
    /* §9.1: affiliations are about bare JIDs. */
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c ? c->s.mem : NULL, jid, &j, NULL);
    if (rc)
        return rc;
    rc = admin_item(c, room, "jid", xt_jid_bare(j), "affiliation",
                    xt_muc_affiliation_name(affiliation), reason, cb, ud);
    xt_jid_free(j);
    return rc;
}

int xt_muc_ban(xt_conn *c, const char *room, const char *jid, const char *reason, xt_iq_fn cb,
               void *ud)
{
    return xt_muc_set_affiliation(c, room, jid, XT_MUC_AFFIL_OUTCAST, reason, cb, ud);
}

int xt_muc_create_instant(xt_conn *c, const char *room, xt_iq_fn cb, void *ud)
{
    xt_jid *rj;
    int rc = room_arg(c, room, &rj);
    if (rc)
        return rc;
    /* §10.1.2: <query xmlns=muc#owner><x xmlns=jabber:x:data type=submit/></query> */
    xt_stanza *q = NULL, *x = NULL;
    xt_stanza *iq = room_iq(c, xt_jid_bare(rj), "set", XT_NS_MUC_OWNER, &q);
    rc = iq && (x = xt_stanza_add_child(q, "x", XT_NS_DATA)) &&
                 !xt_stanza_set_attr(x, "type", "submit")
             ? 0
             : XT_ENOMEM;
    if (!rc)
        rc = xt_conn_iq(c, iq, 0, cb, ud);
    xt_stanza_free(iq);
    xt_jid_free(rj);
    return rc;
}

int xt_muc_destroy(xt_conn *c, const char *room, const char *reason, const char *alternate,
                   xt_iq_fn cb, void *ud)
{
    if ((reason && !xt_im_text_ok(reason)))
        return XT_EINVAL;
    xt_jid *rj, *alt = NULL;
    int rc = room_arg(c, room, &rj);
    if (rc)
        return rc;
    if (alternate && (rc = xt_jid_parse(c->s.mem, alternate, &alt, NULL)) != 0) {
        xt_jid_free(rj);
        return rc;
    }
    /* §10.9: <destroy jid=ALT><reason/></destroy> */
    xt_stanza *q = NULL, *d = NULL;
    xt_stanza *iq = room_iq(c, xt_jid_bare(rj), "set", XT_NS_MUC_OWNER, &q);
    rc = iq && (d = xt_stanza_add_child(q, "destroy", NULL)) &&
                 (!alt || !xt_stanza_set_attr(d, "jid", xt_jid_bare(alt))) &&
                 (!reason || xt_stanza_add_text_child(d, "reason", NULL, reason))
             ? 0
             : XT_ENOMEM;
    if (!rc)
        rc = xt_conn_iq(c, iq, 0, cb, ud);
    xt_stanza_free(iq);
    xt_jid_free(rj);
    xt_jid_free(alt);
    return rc;
}

/* --- configuration (§10.2) --------------------------------------------------------- */

typedef struct cfg_field {
    char *var, *value;
    int secret; /* wiped when freed */
} cfg_field;

struct xt_muc_config {
    xt_mem mem_copy;
    const xt_mem *mem;
    cfg_field *v;
    size_t n, cap;
};

int xt_muc_config_new(const xt_mem *mem, xt_muc_config **out)
{
    if (!out)
        return XT_EINVAL;
    xt_muc_config *cfg = xt_calloc(mem, 1, sizeof *cfg);
    if (!cfg)
        return XT_ENOMEM;
    if (mem) {
        cfg->mem_copy = *mem;
        cfg->mem = &cfg->mem_copy;
    }
    *out = cfg;
    return 0;
}

static void field_free(const xt_mem *mem, cfg_field *f)
{
    xt_free(mem, f->var);
    if (f->secret)
        xt_free_secret(mem, f->value);
    else
        xt_free(mem, f->value);
}

void xt_muc_config_free(xt_muc_config *cfg)
{
    if (!cfg)
        return;
    xt_mem mem = cfg->mem_copy;
    const xt_mem *m = cfg->mem ? &mem : NULL;
    for (size_t i = 0; i < cfg->n; i++)
        field_free(m, &cfg->v[i]);
    xt_free(m, cfg->v);
    xt_free(m, cfg);
}

static int add_value(xt_muc_config *cfg, const char *var, const char *value, int secret)
{
    if (!cfg || !var || !*var || !value || !xt_im_text_ok(var) || !xt_im_text_ok(value))
        return XT_EINVAL;
    if (XT_GROW(cfg->mem, cfg->v, cfg->cap, cfg->n + 1, 4))
        return XT_ENOMEM;
    cfg_field f = {
        .var = xt_strdup(cfg->mem, var), .value = xt_strdup(cfg->mem, value), .secret = secret};
    if (!f.var || !f.value) {
        field_free(cfg->mem, &f);
        return XT_ENOMEM;
    }
    cfg->v[cfg->n++] = f;
    return 0;
}

/* One value for var, replacing any set before. */
static int set_one(xt_muc_config *cfg, const char *var, const char *value, int secret)
{
    if (!cfg)
        return XT_EINVAL;
    size_t w = 0;
    for (size_t i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->v[i].var, var) == 0)
            field_free(cfg->mem, &cfg->v[i]);
        else
            cfg->v[w++] = cfg->v[i];
    }
    cfg->n = w;
    return add_value(cfg, var, value, secret);
}

int xt_muc_config_members_only(xt_muc_config *cfg, int on)
{
    return set_one(cfg, "muc#roomconfig_membersonly", on ? "1" : "0", 0);
}

int xt_muc_config_persistent(xt_muc_config *cfg, int on)
{
    return set_one(cfg, "muc#roomconfig_persistentroom", on ? "1" : "0", 0);
}

int xt_muc_config_password(xt_muc_config *cfg, const char *password)
{
    int rc = set_one(cfg, "muc#roomconfig_passwordprotectedroom", password ? "1" : "0", 0);
    return rc ? rc : set_one(cfg, "muc#roomconfig_roomsecret", password ? password : "", 1);
}

int xt_muc_config_set_field(xt_muc_config *cfg, const char *var, const char *value)
{
    return add_value(cfg, var, value, 0);
}

/* A configuration in flight: the form is fetched, then submitted. */
struct xt_muc_pending {
    xt_muc_pending *next;
    xt_muc_config *cfg;
    char *room;
    xt_iq_fn cb;
    void *ud;
};

static void pending_drop(xt_conn *c, xt_muc_pending *p)
{
    for (xt_muc_pending **pp = &c->muc.pending; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    xt_muc_config_free(p->cfg);
    xt_free(c->s.mem, p->room);
    xt_free(c->s.mem, p);
}

void xt_muc_pending_free_all(xt_conn *c)
{
    while (c->muc.pending)
        pending_drop(c, c->muc.pending);
}

static int cfg_has(const xt_muc_config *cfg, const char *var)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->v[i].var, var) == 0)
            return 1;
    return 0;
}

/* The submitted form: the room's fields with their values, ours replacing
 * theirs (§10.2: fields not in the form may be refused, so ours outside
 * it are added only because the caller named them). */
static xt_stanza *build_submit(xt_conn *c, const char *room, const xt_stanza *form,
                               const xt_muc_config *cfg)
{
    xt_stanza *q = NULL, *x = NULL;
    xt_stanza *iq = room_iq(c, room, "set", XT_NS_MUC_OWNER, &q);
    if (!iq || !(x = xt_stanza_add_child(q, "x", XT_NS_DATA)) ||
        xt_stanza_set_attr(x, "type", "submit"))
        goto fail;
    for (const xt_stanza *f = xt_stanza_first_child(form); f; f = xt_stanza_next_sibling(f)) {
        const char *var = xt_stanza_attr(f, "var"), *type = xt_stanza_attr(f, "type");
        if (strcmp(xt_stanza_name(f), "field") != 0 || !var || (type && strcmp(type, "fixed") == 0))
            continue;
        if (cfg_has(cfg, var))
            continue; /* written below, with ours */
        xt_stanza *nf = xt_stanza_add_child(x, "field", NULL);
        if (!nf || xt_stanza_set_attr(nf, "var", var) ||
            (type && xt_stanza_set_attr(nf, "type", type)))
            goto fail;
        for (const xt_stanza *v = xt_stanza_first_child(f); v; v = xt_stanza_next_sibling(v))
            if (strcmp(xt_stanza_name(v), "value") == 0 &&
                !xt_stanza_add_text_child(nf, "value", NULL, xt_stanza_text(v)))
                goto fail;
    }
    if (!xt_stanza_first_child(x)) {
        /* A form without fields still names its type (FORM_TYPE). */
        xt_stanza *ft = xt_stanza_add_child(x, "field", NULL);
        if (!ft || xt_stanza_set_attr(ft, "var", "FORM_TYPE") ||
            xt_stanza_set_attr(ft, "type", "hidden") ||
            !xt_stanza_add_text_child(ft, "value", NULL, FORM_TYPE_ROOMCONFIG))
            goto fail;
    }
    for (size_t i = 0; i < cfg->n; i++) {
        /* All values of one var go in one field, in the order given. */
        size_t k = 0;
        while (k < i && strcmp(cfg->v[k].var, cfg->v[i].var) != 0)
            k++;
        if (k < i)
            continue;
        xt_stanza *nf = xt_stanza_add_child(x, "field", NULL);
        if (!nf || xt_stanza_set_attr(nf, "var", cfg->v[i].var))
            goto fail;
        for (size_t j = i; j < cfg->n; j++)
            if (strcmp(cfg->v[j].var, cfg->v[i].var) == 0 &&
                !xt_stanza_add_text_child(nf, "value", NULL, cfg->v[j].value))
                goto fail;
    }
    return iq;
fail:
    xt_stanza_free(iq);
    return NULL;
}

static void on_submitted(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_muc_pending *p = ud;
    xt_iq_fn cb = p->cb;
    void *cud = p->ud;
    pending_drop(c, p);
    if (cb)
        cb(c, status, reply, cud);
}

static void on_form(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_muc_pending *p = ud;
    const xt_stanza *q = reply ? xt_stanza_child(reply, "query", XT_NS_MUC_OWNER) : NULL;
    const xt_stanza *form = q ? xt_stanza_child(q, "x", XT_NS_DATA) : NULL;
    int rc = status;
    if (!rc && !form)
        rc = XT_EPROTO;
    if (!rc) {
        xt_stanza *iq = build_submit(c, p->room, form, p->cfg);
        rc = iq ? xt_conn_iq(c, iq, 0, on_submitted, p) : XT_ENOMEM;
        xt_stanza_free(iq);
        if (!rc)
            return; /* on_submitted finishes */
    }
    xt_iq_fn cb = p->cb;
    void *cud = p->ud;
    pending_drop(c, p);
    if (cb)
        cb(c, rc, rc == XT_ESTANZA ? reply : NULL, cud);
}

int xt_muc_configure(xt_conn *c, const char *room, const xt_muc_config *cfg, xt_iq_fn cb, void *ud)
{
    if (!cfg)
        return XT_EINVAL;
    xt_jid *rj;
    int rc = room_arg(c, room, &rj);
    if (rc)
        return rc;
    xt_muc_pending *p = xt_calloc(c->s.mem, 1, sizeof *p);
    rc = XT_ENOMEM;
    if (!p || !(p->room = xt_strdup(c->s.mem, xt_jid_bare(rj))) ||
        xt_muc_config_new(c->s.mem, &p->cfg))
        goto fail;
    for (size_t i = 0; i < cfg->n; i++)
        if (add_value(p->cfg, cfg->v[i].var, cfg->v[i].value, cfg->v[i].secret))
            goto fail;
    p->cb = cb;
    p->ud = ud;
    xt_stanza *q = NULL;
    xt_stanza *iq = room_iq(c, p->room, "get", XT_NS_MUC_OWNER, &q);
    rc = iq ? xt_conn_iq(c, iq, 0, on_form, p) : XT_ENOMEM;
    xt_stanza_free(iq);
    if (rc)
        goto fail;
    p->next = c->muc.pending;
    c->muc.pending = p;
    xt_jid_free(rj);
    return 0;
fail:
    if (p) {
        xt_muc_config_free(p->cfg);
        xt_free(c->s.mem, p->room);
        xt_free(c->s.mem, p);
    }
    xt_jid_free(rj);
    return rc;
}

/* --- discovery (§6) ------------------------------------------------------------------ */

int xt_muc_list_rooms(xt_conn *c, const char *service, xt_disco_items_fn cb, void *ud)
{
    if (!service)
        return XT_EINVAL;
    return xt_disco_items_query(c, service, NULL, cb, ud);
}

int xt_muc_room_info(xt_conn *c, const char *room, xt_disco_info_fn cb, void *ud)
{
    if (!room)
        return XT_EINVAL;
    return xt_disco_info_query(c, room, NULL, cb, ud);
}

unsigned xt_muc_info_flags(const xt_disco_info *info)
{
    static const struct {
        const char *var;
        unsigned bit;
    } feats[] = {
        {XT_NS_MUC, XT_MUC_FEAT_MUC},
        {"muc_passwordprotected", XT_MUC_FEAT_PASSWORD},
        {"muc_membersonly", XT_MUC_FEAT_MEMBERS_ONLY},
        {"muc_persistent", XT_MUC_FEAT_PERSISTENT},
        {"muc_nonanonymous", XT_MUC_FEAT_NON_ANONYMOUS},
        {"muc_semianonymous", XT_MUC_FEAT_SEMI_ANONYMOUS},
        {"muc_moderated", XT_MUC_FEAT_MODERATED},
        {"muc_public", XT_MUC_FEAT_PUBLIC},
        {"muc_hidden", XT_MUC_FEAT_HIDDEN},
        {"urn:xmpp:mam:2", XT_MUC_FEAT_MAM},
        {"urn:xmpp:sid:0", XT_MUC_FEAT_STANZA_ID},
    };
    unsigned bits = 0;
    for (size_t i = 0; info && i < sizeof feats / sizeof *feats; i++)
        if (xt_disco_has_feature(info, feats[i].var))
            bits |= feats[i].bit;
    return bits;
}
