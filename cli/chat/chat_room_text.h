/*
 * chat_room_text.h -- the pure parts of room windows in `xtalk chat`
 * (issue 16): Tab completion of occupant nicks, the occupant list's
 * order and markers, the screen layout with the
 * occupant pane, and the window list's unread label. No curses, no
 * connection: tests/unit/test_chat_room_text.c. chat_room.c uses them.
 * Mentions are the library's (xt_message.mention, xt_muc_mentions):
 * one test for the chat, listen and the bot.
 */
#ifndef XT_CLI_CHAT_ROOM_TEXT_H
#define XT_CLI_CHAT_ROOM_TEXT_H

#include <stddef.h>

/*
 * Nick completion, cycling. nicks[0..n) are the room's occupants (our
 * own nick left out by the caller). The matches are the nicks starting
 * with `prefix`, ASCII case ignored, in case-insensitive order (ties:
 * byte order), so the cycle does not depend on the occupant table's
 * order. Returns the number of matches and sets *nick to match number
 * `k % count` (NULL when there is none): Tab gives k = 0, each further
 * Tab k + 1, wrapping round. -1 (and *nick NULL) when out of memory.
 */
long xt_chat_nick_complete(const char *prefix, const char *const *nicks, size_t n, size_t k,
                           const char **nick);

/*
 * What completion puts in the input for `nick`: at the start of the
 * line "nick: " (the address form every MUC client understands), else
 * "nick ". Writes into out (size len, truncated at a UTF-8 boundary);
 * returns the length written.
 */
size_t xt_chat_nick_insertion(const char *nick, int at_line_start, char *out, size_t len);

/*
 * The occupant list: rank of an XEP-0045 role (§5.1: moderator first,
 * then participant, visitor, none/unknown last), the order of two
 * occupants (role, then nick case-insensitively, then bytes), and the
 * two-column marker before a nick: the role ('@' moderator, ' '
 * participant, '-' visitor: no voice) then the affiliation ('~' owner,
 * '&' admin, '+' member, '!' outcast, ' ' none). Roles and affiliations
 * are XEP-0045's names; NULL or unknown counts as none.
 */
int xt_chat_role_rank(const char *role);
int xt_chat_occ_cmp(const char *role_a, const char *nick_a, const char *role_b, const char *nick_b);
void xt_chat_occ_marker(const char *role, const char *affiliation, char out[3]);

/*
 * Screen columns of the three panes on a terminal `cols` wide: the
 * roster on the left (a quarter, 16..32 columns, none below 50 columns),
 * the occupant list on the right when `occupants` is asked for (a room
 * window with the pane toggled on: a fifth, 12..24 columns, none below
 * 60 columns), the conversation between them, never narrower than 20
 * columns (the occupant pane goes first, then the roster).
 */
typedef struct xt_chat_layout {
    int roster_w;       /* 0: no roster pane; else its width incl. the separator */
    int conv_x, conv_w; /* the conversation */
    int occ_x, occ_w;   /* occ_w 0: no occupant pane; else incl. the separator */
} xt_chat_layout;

void xt_chat_layout_of(int cols, int occupants, xt_chat_layout *out);

/*
 * The window list's unread label: "" when nothing is unread, "(5)" for
 * plain unread messages, "(5 @2)" when 2 of them name us: a mention is
 * counted apart so it stands out in a busy room. Returns the length.
 */
size_t xt_chat_unread_label(int unread, int mentions, char *out, size_t len);

#endif
