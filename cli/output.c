/* One-line event output: human and JSON. */
#include "output.h"

#include <string.h>

#include "sanitize.h"
#include "xtalk/pep.h"

/* Ends the record; the caller flushes (listen: once per read burst). */
static int finish_line(FILE *out, xt_cli_json *j)
{
    if (j)
        return xt_cli_json_put_line(j, out);
    if (fputc('\n', out) == EOF)
        return -1;
    return ferror(out) ? -1 : 0;
}

static const char *attr(const xt_stanza *st, const char *name)
{
    return st ? xt_stanza_attr(st, name) : NULL;
}

/* A received file's JSON object: what is known of url, name, size,
 * type (issue 17). The name is the one fit for the disk (xt_file_name:
 * the sender's, else the URL path's, percent-decoded and sanitized); an
 * unsafe URL (javascript:, file:, hidden characters) gets "unsafe":true
 * and no name, since it is no file to save. */
static void json_file(xt_cli_json *j, const xt_file_ref *f)
{
    char name[256];
    xt_cli_json_obj(j, "file");
    xt_cli_json_str(j, "url", f->url);
    if (!(f->flags & XT_FILE_UNSAFE) && xt_file_name(f->name, f->url, name, sizeof name) > 0)
        xt_cli_json_str(j, "name", name);
    if (f->size >= 0)
        xt_cli_json_int(j, "size", (long long)f->size);
    xt_cli_json_str(j, "type", f->media_type);
    xt_cli_json_str(j, "desc", f->desc);
    if (f->flags & XT_FILE_UNSAFE)
        xt_cli_json_bool(j, "unsafe", 1);
    else if (f->flags & XT_FILE_HTTP)
        xt_cli_json_bool(j, "insecure", 1);
    xt_cli_json_end(j);
}

/* The human form's file line, after the message line:
 * "file FROM name=N size=S type=T: URL", or "file FROM unsafe: URL". */
static int human_file(FILE *out, const xt_message *m)
{
    const xt_file_ref *f = m->file;
    char name[256];
    fputs("file ", out);
    xt_cli_put_sanitized(out, m->from ? m->from : "(server)");
    if (f->flags & XT_FILE_UNSAFE) {
        fputs(" unsafe", out);
    } else {
        if (xt_file_name(f->name, f->url, name, sizeof name) > 0) {
            fputs(" name=", out);
            xt_cli_put_sanitized(out, name);
        }
        if (f->size >= 0)
            fprintf(out, " size=%lld", (long long)f->size);
        if (f->media_type) {
            fputs(" type=", out);
            xt_cli_put_sanitized(out, f->media_type);
        }
        if (f->flags & XT_FILE_HTTP)
            fputs(" insecure", out);
    }
    fputs(": ", out);
    xt_cli_put_sanitized(out, f->url);
    return finish_line(out, NULL);
}

int xt_cli_out_message(FILE *out, xt_cli_json *j, const xt_message *m)
{
    if (j) {
        /* Where it came from and which way it went (issue 15): a message
         * sent from another device of ours is "direction":"out".
         * "replaces" (XEP-0308): this message's body replaces the one
         * with that id. One call for the strings (listen prints this
         * line for every message, issue 14). */
        const xt_cli_json_member mm[] = {
            XT_CLI_JSON_MEMBER("event", "message"),
            XT_CLI_JSON_MEMBER("from", m->from),
            XT_CLI_JSON_MEMBER("to", m->to),
            XT_CLI_JSON_MEMBER("type", xt_cli_message_type(m->type)),
            XT_CLI_JSON_MEMBER("id", m->id),
            XT_CLI_JSON_MEMBER("body", m->body),
            XT_CLI_JSON_MEMBER("subject", m->subject),
            XT_CLI_JSON_MEMBER("thread", m->thread),
            XT_CLI_JSON_MEMBER("stamp", m->stamp),
            XT_CLI_JSON_MEMBER("source", xt_msg_source_name(m->source)),
            XT_CLI_JSON_MEMBER("direction", m->direction == XT_DIR_OUT ? "out" : "in"),
            XT_CLI_JSON_MEMBER("stanza_id", m->stanza_id),
            XT_CLI_JSON_MEMBER("origin_id", m->origin_id),
            XT_CLI_JSON_MEMBER("replaces", m->replace_id),
        };
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str_list(j, mm, sizeof mm / sizeof *mm);
        if (m->me)
            xt_cli_json_bool(j, "me", 1);
        if (m->receipt_request)
            xt_cli_json_bool(j, "receipt_request", 1);
        if (m->file)
            json_file(j, m->file);
        if (m->room) { /* group chat (issue 16) */
            xt_cli_json_str_lit(j, "room", m->room);
            xt_cli_json_str_lit(j, "nick", m->nick);
            if (strcmp(m->type, "groupchat") == 0)
                xt_cli_json_bool(j, "mention", m->mention);
            else
                xt_cli_json_bool(j, "private", 1);
            if (m->from_self)
                xt_cli_json_bool(j, "self", 1);
        }
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("message ", out);
    xt_cli_put_sanitized(out, m->from ? m->from : "(server)");
    fprintf(out, " %s", xt_cli_message_type(m->type));
    if (m->direction == XT_DIR_OUT) {
        fputs(" to=", out);
        xt_cli_put_sanitized(out, m->to ? m->to : "?");
    }
    if (m->source != XT_SRC_LIVE)
        fprintf(out, " source=%s", xt_msg_source_name(m->source));
    if (m->room && strcmp(m->type, "groupchat") != 0)
        fputs(" private", out);
    if (m->mention)
        fputs(" mention", out);
    if (m->from_self)
        fputs(" self", out);
    if (m->stamp) {
        fputs(" delayed=", out);
        xt_cli_put_sanitized(out, m->stamp);
    }
    if (m->replace_id) {
        fputs(" replaces=", out);
        xt_cli_put_sanitized(out, m->replace_id);
    }
    if (m->subject) {
        fputs(" subject=", out);
        xt_cli_put_sanitized(out, m->subject);
    }
    if (m->body) {
        fputs(": ", out);
        xt_cli_put_sanitized(out, m->body);
    } else {
        fputs(" (no body)", out);
    }
    int rc = finish_line(out, NULL);
    return rc || !m->file ? rc : human_file(out, m);
}

int xt_cli_out_archive_done(FILE *out, xt_cli_json *j, const xt_archive_event *a)
{
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "archive");
        xt_cli_json_bool(j, "done", 1);
        xt_cli_json_int(j, "count", (long long)a->count);
        if (a->status)
            xt_cli_json_str(j, "error", xt_strerror(a->status));
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    if (a->status)
        fprintf(out, "archive catch-up failed after %zu messages: %s", a->count,
                xt_strerror(a->status));
    else
        fprintf(out, "archive catch-up done: %zu messages", a->count);
    return finish_line(out, NULL);
}

const char *xt_cli_show_word(const xt_presence *p)
{
    if (p->type && strcmp(p->type, "unavailable") == 0)
        return "unavailable";
    if (p->type && strcmp(p->type, "error") == 0)
        return "error";
    const char *show = xt_cli_presence_show(p->show);
    return show ? show : "available";
}

int xt_cli_out_presence(FILE *out, xt_cli_json *j, const xt_presence *p)
{
    int available = p->type == NULL;
    int has_prio = p->stanza ? xt_stanza_child(p->stanza, "priority", NULL) != NULL : available;

    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "presence");
        xt_cli_json_str(j, "from", p->from);
        xt_cli_json_str(j, "to", attr(p->stanza, "to"));
        xt_cli_json_str(j, "type", p->type);
        xt_cli_json_str(j, "show", xt_cli_presence_show(p->show));
        xt_cli_json_str(j, "status", p->status);
        if (available && has_prio)
            xt_cli_json_int(j, "priority", p->priority);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("presence ", out);
    xt_cli_put_sanitized(out, p->from ? p->from : "?");
    fputc(' ', out);
    xt_cli_put_sanitized(out, xt_cli_show_word(p));
    if (available && has_prio)
        fprintf(out, " priority=%d", p->priority);
    if (p->status) {
        fputs(": ", out);
        xt_cli_put_sanitized(out, p->status);
    }
    return finish_line(out, NULL);
}

int xt_cli_out_subscription(FILE *out, xt_cli_json *j, const xt_subscription *sub)
{
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "subscription");
        xt_cli_json_str(j, "from", sub->from);
        xt_cli_json_str(j, "to", attr(sub->stanza, "to"));
        xt_cli_json_str(j, "type", xt_cli_subscription_type(sub->type));
        xt_cli_json_str(j, "status", sub->status);
        /* XEP-0172 §4.1: the name the requester gives itself (a claim). */
        xt_cli_json_str(j, "nick", xt_nick_of(sub->stanza));
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("subscription ", out);
    xt_cli_put_sanitized(out, sub->from ? sub->from : "?");
    const char *nick = xt_nick_of(sub->stanza);
    if (nick) {
        fputs(" (nickname ", out);
        xt_cli_put_sanitized(out, nick);
        fputc(')', out);
    }
    fputc(' ', out);
    const char *type = xt_cli_subscription_type(sub->type);
    xt_cli_put_sanitized(out, type ? type : "?");
    if (sub->status) {
        fputs(": ", out);
        xt_cli_put_sanitized(out, sub->status);
    }
    return finish_line(out, NULL);
}

int xt_cli_out_roster_push(FILE *out, xt_cli_json *j, const xt_roster_item *item)
{
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "roster");
        xt_cli_json_str(j, "jid", item->jid);
        xt_cli_json_str(j, "name", item->name);
        xt_cli_json_str(j, "subscription", xt_cli_subscription(item->subscription));
        /* RFC 6121 §2.1.2.2: "subscribe" is the only value ask has. */
        xt_cli_json_str(j, "ask", item->ask ? "subscribe" : NULL);
        xt_cli_json_arr(j, "groups");
        for (size_t i = 0; i < item->ngroups; i++)
            xt_cli_json_str(j, NULL, item->groups[i]);
        xt_cli_json_end(j);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("roster ", out);
    xt_cli_put_sanitized(out, item->jid ? item->jid : "?");
    fputc(' ', out);
    xt_cli_put_sanitized(out, xt_cli_subscription(item->subscription));
    if (item->ask)
        fputs(" ask=subscribe", out);
    if (item->name) {
        fputs(" name=", out);
        xt_cli_put_sanitized(out, item->name);
    }
    for (size_t i = 0; i < item->ngroups; i++) {
        fputs(i ? "," : " groups=", out);
        xt_cli_put_sanitized(out, item->groups[i]);
    }
    return finish_line(out, NULL);
}

/* --- message features (xtalk/im.h): their own events ------------------------ */

int xt_cli_out_receipt(FILE *out, xt_cli_json *j, const xt_receipt *r)
{
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "receipt");
        xt_cli_json_str(j, "from", r->from);
        xt_cli_json_str(j, "id", r->id);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("receipt ", out);
    xt_cli_put_sanitized(out, r->from ? r->from : "?");
    fputs(" delivered ", out);
    xt_cli_put_sanitized(out, r->id);
    return finish_line(out, NULL);
}

int xt_cli_out_chatstate(FILE *out, xt_cli_json *j, const xt_chatstate_event *c)
{
    const char *state = xt_chatstate_name(c->state);
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "chatstate");
        xt_cli_json_str(j, "from", c->from);
        xt_cli_json_str(j, "state", state);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("chatstate ", out);
    xt_cli_put_sanitized(out, c->from ? c->from : "?");
    fprintf(out, " %s", state ? state : "?");
    return finish_line(out, NULL);
}

int xt_cli_out_reaction(FILE *out, xt_cli_json *j, const xt_reaction *r)
{
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "reaction");
        xt_cli_json_str(j, "from", r->from);
        xt_cli_json_str(j, "id", r->id);
        xt_cli_json_arr(j, "reactions");
        for (size_t i = 0; i < r->n; i++)
            xt_cli_json_str(j, NULL, r->reactions[i]);
        xt_cli_json_end(j);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("reaction ", out);
    xt_cli_put_sanitized(out, r->from ? r->from : "?");
    fputs(" to ", out);
    xt_cli_put_sanitized(out, r->id);
    fputs(":", out);
    for (size_t i = 0; i < r->n; i++) {
        fputc(' ', out);
        xt_cli_put_sanitized(out, r->reactions[i]);
    }
    if (r->n == 0)
        fputs(" (removed)", out);
    return finish_line(out, NULL);
}

int xt_cli_out_retraction(FILE *out, xt_cli_json *j, const xt_retraction *r)
{
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "retraction");
        xt_cli_json_str(j, "from", r->from);
        xt_cli_json_str(j, "id", r->id);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("retraction ", out);
    xt_cli_put_sanitized(out, r->from ? r->from : "?");
    fputs(" retracted ", out);
    xt_cli_put_sanitized(out, r->id);
    return finish_line(out, NULL);
}

/* --- PEP notifications (xtalk/pep.h) -------------------------------------- */

int xt_cli_out_pep(FILE *out, xt_cli_json *j, const xt_pep_event *p)
{
    const char *kind = xt_pep_kind_name(p->kind);
    /* The nickname node: the name itself is what anyone wants to see. */
    const char *nick = NULL;
    if (strcmp(p->node, XT_NS_NICK) == 0 && p->kind == XT_PEP_ITEM && p->payload &&
        strcmp(xt_stanza_name(p->payload), "nick") == 0 &&
        strcmp(xt_stanza_ns(p->payload), XT_NS_NICK) == 0) {
        nick = xt_stanza_text(p->payload);
        if (nick && !*nick)
            nick = NULL;
    }
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "pep");
        xt_cli_json_str(j, "from", p->from);
        xt_cli_json_str(j, "node", p->node);
        xt_cli_json_str(j, "kind", kind);
        xt_cli_json_str(j, "item", p->item_id);
        xt_cli_json_str(j, "nick", nick);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("pep ", out);
    xt_cli_put_sanitized(out, p->from);
    fputc(' ', out);
    xt_cli_put_sanitized(out, p->node);
    fprintf(out, " %s", kind);
    if (p->item_id) {
        fputc(' ', out);
        xt_cli_put_sanitized(out, p->item_id);
    }
    if (nick) {
        fputs(" nick=", out);
        xt_cli_put_sanitized(out, nick);
    }
    return finish_line(out, NULL);
}
