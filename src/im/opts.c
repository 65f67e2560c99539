/*
 * xt_conn_opts: the settings of a connection behind setters, so that a
 * new setting never changes a public struct (the ABI). Values are checked
 * here, when the application sets them, so xt_conn_new only copies.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"

/* Every XT_CONN_* bit in use (1u << 4 is retired). */
#define KNOWN_FLAGS                                                                                \
    (XT_CONN_DIRECT_TLS | XT_CONN_INSECURE_ALLOW_PLAINTEXT | XT_CONN_NO_ROSTER |                   \
     XT_CONN_NO_PRESENCE | XT_CONN_NO_PLAIN_MECH | XT_CONN_NO_SM | XT_CONN_NO_PIPELINING |         \
     XT_CONN_ALLOW_DOWNGRADE | XT_CONN_NO_SASL2)

#define ID_PREFIX_MAX 16

int xt_conn_opts_new(const xt_mem *mem, xt_conn_opts **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    xt_conn_opts *o = xt_calloc(mem, 1, sizeof *o);
    if (!o)
        return XT_ENOMEM;
    if (mem) {
        o->mem_copy = *mem;
        o->mem = &o->mem_copy;
    }
    o->core.mem = o->mem;
    *out = o;
    return 0;
}

void xt_conn_opts_free(xt_conn_opts *o)
{
    if (!o)
        return;
    xt_mem mem = o->mem_copy;
    const xt_mem *m = o->mem ? &mem : NULL;
    xt_free(m, o->jid);
    xt_free_secret(m, o->password);
    xt_free(m, o->resource);
    xt_free(m, o->sasl_hint);
    xt_free(m, o->id_prefix);
    xt_free(m, o->ua_id);
    xt_free(m, o->ua_software);
    xt_free(m, o->ua_device);
    xt_free(m, o->fast_mech);
    xt_free_secret(m, o->fast_token);
    xt_free(m, o->initial.status);
    xt_disco_self_free(m, &o->self);
    xt_free(m, o);
}

const char *xt_conn_opts_errdetail(const xt_conn_opts *o)
{
    return o ? o->detail : "";
}

static int refuse(xt_conn_opts *o, int rc, const char *what, const char *why)
{
    snprintf(o->detail, sizeof o->detail, "%s%s%s", what, why ? ": " : "", why ? why : "");
    return rc;
}

/* Replaces *slot with a copy of v (NULL or "" = none). */
static int set_str(xt_conn_opts *o, char **slot, const char *v, int secret)
{
    char *copy = NULL;
    if (v && *v && !(copy = xt_strdup(o->mem, v)))
        return refuse(o, XT_ENOMEM, "out of memory", NULL);
    if (secret)
        xt_free_secret(o->mem, *slot);
    else
        xt_free(o->mem, *slot);
    *slot = copy;
    return 0;
}

int xt_conn_opts_set_jid(xt_conn_opts *o, const char *jid)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    if (!jid)
        return refuse(o, XT_EINVAL, "no JID given", NULL);
    xt_jid *j = NULL;
    const char *why = NULL;
    int rc = xt_jid_parse(o->mem, jid, &j, &why);
    if (rc == XT_ENOMEM)
        return refuse(o, rc, "out of memory", NULL);
    if (rc)
        return refuse(o, XT_EJID, "invalid account JID", why);
    /* SASL needs a username: an account JID has a localpart. */
    int has_local = xt_jid_local(j) != NULL;
    xt_jid_free(j);
    if (!has_local)
        return refuse(o, XT_EJID, "invalid account JID",
                      "no localpart (an account is user@domain)");
    if ((rc = set_str(o, &o->jid, jid, 0)) != 0)
        return rc;
    o->core.jid = o->jid;
    return 0;
}

int xt_conn_opts_set_password(xt_conn_opts *o, const char *password)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    if (!password)
        return refuse(o, XT_EINVAL, "no password given", NULL);
    char *copy = xt_strdup(o->mem, password);
    if (!copy)
        return refuse(o, XT_ENOMEM, "out of memory", NULL);
    xt_free_secret(o->mem, o->password);
    o->password = copy;
    o->core.password = o->password;
    return 0;
}

int xt_conn_opts_set_resource(xt_conn_opts *o, const char *resource)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    if (resource && *resource) {
        /* Checked as the resourcepart of some JID (RFC 7622 §3.4); sent
         * as given, the server prepares it again. */
        xt_jid *j = NULL;
        const char *why = NULL;
        int rc = xt_jid_build(o->mem, NULL, "example.org", resource, &j, &why);
        xt_jid_free(j);
        if (rc == XT_ENOMEM)
            return refuse(o, rc, "out of memory", NULL);
        if (rc)
            return refuse(o, XT_EJID, "invalid resource", why);
    }
    int rc = set_str(o, &o->resource, resource, 0);
    if (!rc)
        o->core.resource = o->resource;
    return rc;
}

int xt_conn_opts_set_flags(xt_conn_opts *o, unsigned flags)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    if (flags & ~(unsigned)KNOWN_FLAGS)
        return refuse(o, XT_EINVAL, "unknown connection flag", NULL);
    o->core.flags = flags;
    return 0;
}

int xt_conn_opts_set_limits(xt_conn_opts *o, size_t max_stanza_size, unsigned max_depth)
{
    if (!o)
        return XT_EINVAL;
    o->core.max_stanza_size = max_stanza_size;
    o->core.max_depth = max_depth;
    return 0;
}

int xt_conn_opts_set_element_limits(xt_conn_opts *o, unsigned max_attrs, unsigned max_children)
{
    if (!o)
        return XT_EINVAL;
    o->core.max_attrs = max_attrs;
    o->core.max_children = max_children;
    return 0;
}

int xt_conn_opts_set_timeouts(xt_conn_opts *o, uint32_t iq_timeout_ms,
                              uint32_t negotiation_timeout_ms)
{
    if (!o)
        return XT_EINVAL;
    o->core.iq_timeout_ms = iq_timeout_ms;
    o->core.negotiation_timeout_ms = negotiation_timeout_ms;
    return 0;
}

int xt_conn_opts_set_keepalive(xt_conn_opts *o, uint32_t ping_interval_ms, uint32_t ping_timeout_ms)
{
    if (!o)
        return XT_EINVAL;
    o->core.ping_interval_ms = ping_interval_ms;
    o->core.ping_timeout_ms = ping_timeout_ms;
    return 0;
}

int xt_conn_opts_set_initial_presence(xt_conn_opts *o, xt_show show, const char *status,
                                      int priority)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    /* RFC 6121 §4.7.2.3: priority is -128..127. */
    if (show < XT_SHOW_AVAILABLE || show >= XT_SHOW_UNAVAILABLE)
        return refuse(o, XT_EINVAL, "initial presence: show out of range", NULL);
    if (priority < -128 || priority > 127)
        return refuse(o, XT_EINVAL, "initial presence: priority outside -128..127", NULL);
    if (status && !xt_im_text_ok(status))
        return refuse(o, XT_EINVAL, "initial presence: status is not valid XML text", NULL);
    int rc = set_str(o, &o->initial.status, status, 0);
    if (rc)
        return rc;
    o->initial.show = show;
    o->initial.priority = priority;
    return 0;
}

int xt_conn_opts_set_log(xt_conn_opts *o, xt_log_fn fn, void *ud)
{
    if (!o)
        return XT_EINVAL;
    o->core.log = fn;
    o->core.log_ud = ud;
    return 0;
}

int xt_conn_opts_set_acks(xt_conn_opts *o, uint32_t every, uint32_t delay_ms, uint32_t timeout_ms)
{
    if (!o)
        return XT_EINVAL;
    o->core.ack_every = every;
    o->core.ack_delay_ms = delay_ms;
    o->core.ack_timeout_ms = timeout_ms;
    return 0;
}

int xt_conn_opts_set_sm_queue(xt_conn_opts *o, uint32_t max_unacked)
{
    if (!o)
        return XT_EINVAL;
    o->core.sm_max_unacked = max_unacked;
    return 0;
}

int xt_conn_opts_set_scram_max_iterations(xt_conn_opts *o, uint32_t max_iterations)
{
    if (!o)
        return XT_EINVAL;
    if (max_iterations &&
        (max_iterations < XT_SCRAM_MIN_ITERATIONS || max_iterations > XT_SCRAM_MAX_ITERATIONS))
        return refuse(o, XT_EINVAL, "SCRAM iteration limit outside 4096..10000000", NULL);
    o->core.scram_max_iterations = max_iterations;
    return 0;
}

int xt_conn_opts_set_sasl_hint(xt_conn_opts *o, const char *hint)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    int rc = set_str(o, &o->sasl_hint, hint, 0);
    if (!rc)
        o->core.sasl_hint = o->sasl_hint;
    return rc;
}

/* A user-agent field: 1..128 bytes; the id printable ASCII, the names
 * without control characters (the XML escaping does the rest; UTF-8
 * validity is the serializer's check). */
static int ua_ok(const char *v, int id)
{
    size_t n = strlen(v);
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f || (id && ch > 0x7e))
            return 0;
    }
    return 1;
}

int xt_conn_opts_set_user_agent(xt_conn_opts *o, const char *id, const char *software,
                                const char *device)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    if ((id && !ua_ok(id, 1)) || (software && !ua_ok(software, 0)) || (device && !ua_ok(device, 0)))
        return refuse(o, XT_EINVAL, "user agent",
                      "the id must be 1..128 printable ASCII characters, the names 1..128 "
                      "bytes of text");
    int rc = set_str(o, &o->ua_id, id, 0);
    if (!rc)
        rc = set_str(o, &o->ua_software, software, 0);
    if (!rc)
        rc = set_str(o, &o->ua_device, device, 0);
    o->core.ua_id = o->ua_id;
    o->core.ua_software = o->ua_software;
    o->core.ua_device = o->ua_device;
    return rc;
}

int xt_conn_opts_set_fast_token(xt_conn_opts *o, const char *mechanism, const char *token)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    if (token && *token && (!mechanism || !*mechanism || strlen(mechanism) > 30))
        return refuse(o, XT_EINVAL, "FAST token", "its mechanism is missing or too long");
    int rc = set_str(o, &o->fast_token, token, 1);
    if (!rc)
        rc = set_str(o, &o->fast_mech, token && *token ? mechanism : NULL, 0);
    o->core.fast_token = o->fast_token;
    o->core.fast_mech = o->fast_mech;
    return rc;
}

int xt_conn_opts_set_fast_token_cb(xt_conn_opts *o, xt_fast_token_fn fn, void *ud)
{
    if (!o)
        return XT_EINVAL;
    o->fast_fn = fn;
    o->fast_ud = fn ? ud : NULL;
    return 0;
}

int xt_conn_opts_set_random(xt_conn_opts *o, xt_random_fn fn, void *ud)
{
    if (!o)
        return XT_EINVAL;
    o->core.random = fn;
    o->core.random_ud = fn ? ud : NULL;
    return 0;
}

int xt_conn_opts_set_id_prefix(xt_conn_opts *o, const char *prefix)
{
    if (!o)
        return XT_EINVAL;
    o->detail[0] = '\0';
    size_t n = prefix ? strlen(prefix) : 0;
    if (n > ID_PREFIX_MAX)
        return refuse(o, XT_EINVAL, "id prefix longer than 16 characters", NULL);
    for (size_t i = 0; i < n; i++)
        if (prefix[i] <= ' ' || prefix[i] >= 0x7f || strchr("<>&'\"", prefix[i]))
            return refuse(o, XT_EINVAL, "id prefix: only printable ASCII, none of < > & ' \"",
                          NULL);
    int rc = set_str(o, &o->id_prefix, prefix, 0);
    if (!rc)
        o->core.id_prefix = o->id_prefix;
    return rc;
}

unsigned xt_conn_opts_get_flags(const xt_conn_opts *o)
{
    return o ? o->core.flags : 0;
}

xt_log_fn xt_conn_opts_get_log(const xt_conn_opts *o, void **ud)
{
    if (ud)
        *ud = o ? o->core.log_ud : NULL;
    return o ? o->core.log : NULL;
}

const xt_mem *xt_conn_opts_get_mem(const xt_conn_opts *o)
{
    return o ? o->mem : NULL;
}
