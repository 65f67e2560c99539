/* One-line event output: human and JSON. */
#include "output.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

char *xt_cli_escape(const char *s, int keep_newlines)
{
    size_t n = strlen(s);
    /* Worst case every byte becomes "\xNN" (4) or "\u0085" (6 for 2 bytes). */
    if (n > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(n * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c >= 0x80) {
            ucs4_t uc;
            int m = u8_mbtoucr(&uc, p + i, n - i);
            if (m < 0) {
                o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
                i++;
            } else if (uc >= 0x80 && uc <= 0x9f) {
                /* C1 controls: CSI (U+009B) acts like ESC [ on some terminals. */
                o += (size_t)snprintf(out + o, 7, "\\u%04x", (unsigned)uc);
                i += (size_t)m;
            } else {
                memcpy(out + o, p + i, (size_t)m);
                o += (size_t)m;
                i += (size_t)m;
            }
            continue;
        }
        if (keep_newlines && (c == '\n' || c == '\t')) {
            out[o++] = (char)c;
        } else if (c == '\n') {
            memcpy(out + o, "\\n", 2);
            o += 2;
        } else if (c == '\t') {
            memcpy(out + o, "\\t", 2);
            o += 2;
        } else if (c == '\r') {
            memcpy(out + o, "\\r", 2);
            o += 2;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
        i++;
    }
    out[o] = '\0';
    return out;
}

void xt_cli_put_escaped(FILE *out, const char *s)
{
    char *e = xt_cli_escape(s, 0);
    fputs(e ? e : "?", out);
    free(e);
}

static int finish_line(FILE *out, xt_cli_json *j)
{
    if (j)
        return xt_cli_json_write_line(j, out);
    if (fputc('\n', out) == EOF || fflush(out) == EOF)
        return -1;
    return ferror(out) ? -1 : 0;
}

static const char *attr(const xt_stanza *st, const char *name)
{
    return st ? xt_stanza_attr(st, name) : NULL;
}

int xt_cli_out_message(FILE *out, xt_cli_json *j, const xt_message *m)
{
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", "message");
        xt_cli_json_str(j, "from", m->from);
        xt_cli_json_str(j, "to", m->to);
        xt_cli_json_str(j, "type", m->type);
        xt_cli_json_str(j, "id", m->id);
        xt_cli_json_str(j, "body", m->body);
        xt_cli_json_str(j, "subject", m->subject);
        xt_cli_json_str(j, "thread", m->thread);
        xt_cli_json_str(j, "stamp", m->stamp);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("message ", out);
    xt_cli_put_escaped(out, m->from ? m->from : "(server)");
    fprintf(out, " %s", m->type ? m->type : "normal");
    if (m->stamp) {
        fputs(" delayed=", out);
        xt_cli_put_escaped(out, m->stamp);
    }
    if (m->subject) {
        fputs(" subject=", out);
        xt_cli_put_escaped(out, m->subject);
    }
    if (m->body) {
        fputs(": ", out);
        xt_cli_put_escaped(out, m->body);
    } else {
        fputs(" (no body)", out);
    }
    return finish_line(out, NULL);
}

const char *xt_cli_show_word(const xt_presence *p)
{
    if (p->type && strcmp(p->type, "unavailable") == 0)
        return "unavailable";
    if (p->type && strcmp(p->type, "error") == 0)
        return "error";
    return p->show ? p->show : "available";
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
        xt_cli_json_str(j, "show", p->show);
        xt_cli_json_str(j, "status", p->status);
        if (available && has_prio)
            xt_cli_json_int(j, "priority", p->priority);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("presence ", out);
    xt_cli_put_escaped(out, p->from ? p->from : "?");
    fputc(' ', out);
    xt_cli_put_escaped(out, xt_cli_show_word(p));
    if (available && has_prio)
        fprintf(out, " priority=%d", p->priority);
    if (p->status) {
        fputs(": ", out);
        xt_cli_put_escaped(out, p->status);
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
        xt_cli_json_str(j, "type", sub->type);
        xt_cli_json_str(j, "status", sub->status);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("subscription ", out);
    xt_cli_put_escaped(out, sub->from ? sub->from : "?");
    fputc(' ', out);
    xt_cli_put_escaped(out, sub->type ? sub->type : "?");
    if (sub->status) {
        fputs(": ", out);
        xt_cli_put_escaped(out, sub->status);
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
        xt_cli_json_str(j, "subscription", item->subscription);
        xt_cli_json_str(j, "ask", item->ask);
        xt_cli_json_arr(j, "groups");
        for (size_t i = 0; i < item->ngroups; i++)
            xt_cli_json_str(j, NULL, item->groups[i]);
        xt_cli_json_end(j);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fputs("roster ", out);
    xt_cli_put_escaped(out, item->jid ? item->jid : "?");
    fputc(' ', out);
    xt_cli_put_escaped(out, item->subscription ? item->subscription : "none");
    if (item->ask)
        fputs(" ask=subscribe", out);
    if (item->name) {
        fputs(" name=", out);
        xt_cli_put_escaped(out, item->name);
    }
    for (size_t i = 0; i < item->ngroups; i++) {
        fputs(i ? "," : " groups=", out);
        xt_cli_put_escaped(out, item->groups[i]);
    }
    return finish_line(out, NULL);
}
