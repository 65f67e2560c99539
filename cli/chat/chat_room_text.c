/* Room windows' pure parts: nick completion, mentions, occupant order,
 * layout, unread labels (chat_room_text.h). */
#include "chat_room_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- nick completion ------------------------------------------------------- */

static int nick_order(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int r = strcasecmp(x, y);
    return r ? r : strcmp(x, y);
}

long xt_chat_nick_complete(const char *prefix, const char *const *nicks, size_t n, size_t k,
                           const char **nick)
{
    size_t plen = strlen(prefix), count = 0;

    *nick = NULL;
    for (size_t i = 0; i < n; i++)
        if (nicks[i] && strncasecmp(nicks[i], prefix, plen) == 0)
            count++;
    if (count == 0)
        return 0;
    const char **m = malloc(count * sizeof *m);
    if (!m)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (nicks[i] && strncasecmp(nicks[i], prefix, plen) == 0)
            m[o++] = nicks[i];
    qsort(m, count, sizeof *m, nick_order);
    *nick = m[k % count];
    free(m);
    return (long)count;
}

size_t xt_chat_nick_insertion(const char *nick, int at_line_start, char *out, size_t len)
{
    const char *sep = at_line_start ? ": " : " ";
    size_t nl = strlen(nick), n = nl + strlen(sep);

    if (len == 0)
        return 0;
    if (n >= len) { /* cut: never inside a UTF-8 sequence of the nick */
        n = len - 1;
        while (n > 0 && n < nl && ((unsigned char)nick[n] & 0xc0) == 0x80)
            n--;
    }
    size_t from_nick = n < nl ? n : nl;
    memcpy(out, nick, from_nick);
    memcpy(out + from_nick, sep, n - from_nick);
    out[n] = 0;
    return n;
}

/* --- the occupant list ---------------------------------------------------- */

int xt_chat_role_rank(const char *role)
{
    static const char *const order[] = {"moderator", "participant", "visitor"};
    for (int i = 0; role && i < 3; i++)
        if (strcmp(role, order[i]) == 0)
            return i;
    return 3;
}

int xt_chat_occ_cmp(const char *role_a, const char *nick_a, const char *role_b, const char *nick_b)
{
    int ra = xt_chat_role_rank(role_a), rb = xt_chat_role_rank(role_b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    int r = strcasecmp(nick_a, nick_b);
    return r ? r : strcmp(nick_a, nick_b);
}

void xt_chat_occ_marker(const char *role, const char *affiliation, char out[3])
{
    static const char roles[] = "@ - ";
    out[0] = roles[xt_chat_role_rank(role)];
    out[1] = ' ';
    if (affiliation) {
        if (strcmp(affiliation, "owner") == 0)
            out[1] = '~';
        else if (strcmp(affiliation, "admin") == 0)
            out[1] = '&';
        else if (strcmp(affiliation, "member") == 0)
            out[1] = '+';
        else if (strcmp(affiliation, "outcast") == 0)
            out[1] = '!';
    }
    out[2] = 0;
}

/* --- layout ----------------------------------------------------------------- */

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void xt_chat_layout_of(int cols, int occupants, xt_chat_layout *out)
{
    int rw = cols >= 50 ? clamp(cols / 4, 16, 32) : 0;
    int ow = occupants && cols >= 60 ? clamp(cols / 5, 12, 24) : 0;

    if (cols - rw - ow < 20)
        ow = 0;
    if (cols - rw - ow < 20)
        rw = 0;
    *out = (xt_chat_layout){
        .roster_w = rw, .conv_x = rw, .conv_w = cols - rw - ow, .occ_x = cols - ow, .occ_w = ow};
}

/* --- unread ----------------------------------------------------------------- */

size_t xt_chat_unread_label(int unread, int mentions, char *out, size_t len)
{
    int w = 0;
    if (len == 0)
        return 0;
    if (mentions > 0)
        w = snprintf(out, len, "(%d @%d)", unread, mentions);
    else if (unread > 0)
        w = snprintf(out, len, "(%d)", unread);
    else
        out[0] = 0;
    if (w < 0)
        w = 0;
    return (size_t)w < len ? (size_t)w : len - 1;
}
