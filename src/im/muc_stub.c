/* Placeholders for the room API (xtalk/muc.h) until each part lands:
 * every call says XT_EUNSUPPORTED. */
#include "xtalk/muc.h"

const char *xt_muc_role_name(xt_muc_role r)
{
    (void)r;
    return NULL;
}

const char *xt_muc_affiliation_name(xt_muc_affiliation a)
{
    (void)a;
    return NULL;
}

int xt_muc_join(xt_conn *c, const char *room, const xt_muc_join_opts *o)
{
    (void)c;
    (void)room;
    (void)o;
    return XT_EUNSUPPORTED;
}

int xt_muc_leave(xt_conn *c, const char *room, const char *status)
{
    (void)c;
    (void)room;
    (void)status;
    return XT_EUNSUPPORTED;
}

int xt_muc_set_nick(xt_conn *c, const char *room, const char *nick)
{
    (void)c;
    (void)room;
    (void)nick;
    return XT_EUNSUPPORTED;
}

int xt_muc_set_presence(xt_conn *c, const char *room, xt_show show, const char *status)
{
    (void)c;
    (void)room;
    (void)show;
    (void)status;
    return XT_EUNSUPPORTED;
}

int xt_muc_send(xt_conn *c, const char *room, const char *body, char id_out[64])
{
    (void)c;
    (void)room;
    (void)body;
    (void)id_out;
    return XT_EUNSUPPORTED;
}

int xt_muc_send_ex(xt_conn *c, const char *room, const char *body, const char *id, const xt_message_extras *x, char id_out[64])
{
    (void)c;
    (void)room;
    (void)body;
    (void)id;
    (void)x;
    (void)id_out;
    return XT_EUNSUPPORTED;
}

int xt_muc_send_private(xt_conn *c, const char *room, const char *nick, const char *body, char id_out[64])
{
    (void)c;
    (void)room;
    (void)nick;
    (void)body;
    (void)id_out;
    return XT_EUNSUPPORTED;
}

int xt_muc_set_subject(xt_conn *c, const char *room, const char *subject)
{
    (void)c;
    (void)room;
    (void)subject;
    return XT_EUNSUPPORTED;
}

xt_muc_state xt_muc_room_state(const xt_conn *c, const char *room)
{
    (void)c;
    (void)room;
    return XT_MUC_NOT_JOINED;
}

size_t xt_muc_room_count(const xt_conn *c)
{
    (void)c;
    return 0;
}

const char *xt_muc_room_at(const xt_conn *c, size_t i)
{
    (void)c;
    (void)i;
    return NULL;
}

const char *xt_muc_nick(const xt_conn *c, const char *room)
{
    (void)c;
    (void)room;
    return NULL;
}

const char *xt_muc_subject(const xt_conn *c, const char *room)
{
    (void)c;
    (void)room;
    return NULL;
}

unsigned xt_muc_room_flags(const xt_conn *c, const char *room)
{
    (void)c;
    (void)room;
    return 0;
}

size_t xt_muc_occupant_count(const xt_conn *c, const char *room)
{
    (void)c;
    (void)room;
    return 0;
}

const xt_muc_occupant *xt_muc_occupant_at(const xt_conn *c, const char *room, size_t i)
{
    (void)c;
    (void)room;
    (void)i;
    return NULL;
}

const xt_muc_occupant *xt_muc_occupant_find(const xt_conn *c, const char *room, const char *nick)
{
    (void)c;
    (void)room;
    (void)nick;
    return NULL;
}

int xt_muc_mentions(const char *text, const char *nick)
{
    (void)text;
    (void)nick;
    return XT_EUNSUPPORTED;
}

int xt_muc_set_role(xt_conn *c, const char *room, const char *nick, xt_muc_role role, const char *reason, xt_iq_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)nick;
    (void)role;
    (void)reason;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_kick(xt_conn *c, const char *room, const char *nick, const char *reason, xt_iq_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)nick;
    (void)reason;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_set_affiliation(xt_conn *c, const char *room, const char *jid, xt_muc_affiliation affiliation, const char *reason, xt_iq_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)jid;
    (void)affiliation;
    (void)reason;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_ban(xt_conn *c, const char *room, const char *jid, const char *reason, xt_iq_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)jid;
    (void)reason;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_invite(xt_conn *c, const char *room, const char *jid, const char *reason)
{
    (void)c;
    (void)room;
    (void)jid;
    (void)reason;
    return XT_EUNSUPPORTED;
}

int xt_muc_decline(xt_conn *c, const char *room, const char *inviter, const char *reason)
{
    (void)c;
    (void)room;
    (void)inviter;
    (void)reason;
    return XT_EUNSUPPORTED;
}

int xt_muc_invite_direct(xt_conn *c, const char *room, const char *jid, const char *reason, const char *password)
{
    (void)c;
    (void)room;
    (void)jid;
    (void)reason;
    (void)password;
    return XT_EUNSUPPORTED;
}

int xt_muc_create_instant(xt_conn *c, const char *room, xt_iq_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_config_new(const xt_mem *mem, xt_muc_config **out)
{
    (void)mem;
    (void)out;
    return XT_EUNSUPPORTED;
}

void xt_muc_config_free(xt_muc_config *cfg)
{
    (void)cfg;

}

int xt_muc_config_members_only(xt_muc_config *cfg, int on)
{
    (void)cfg;
    (void)on;
    return XT_EUNSUPPORTED;
}

int xt_muc_config_password(xt_muc_config *cfg, const char *password)
{
    (void)cfg;
    (void)password;
    return XT_EUNSUPPORTED;
}

int xt_muc_config_persistent(xt_muc_config *cfg, int on)
{
    (void)cfg;
    (void)on;
    return XT_EUNSUPPORTED;
}

int xt_muc_config_set_field(xt_muc_config *cfg, const char *var, const char *value)
{
    (void)cfg;
    (void)var;
    (void)value;
    return XT_EUNSUPPORTED;
}

int xt_muc_configure(xt_conn *c, const char *room, const xt_muc_config *cfg, xt_iq_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)cfg;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_destroy(xt_conn *c, const char *room, const char *reason, const char *alternate, xt_iq_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)reason;
    (void)alternate;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_list_rooms(xt_conn *c, const char *service, xt_disco_items_fn cb, void *ud)
{
    (void)c;
    (void)service;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

int xt_muc_room_info(xt_conn *c, const char *room, xt_disco_info_fn cb, void *ud)
{
    (void)c;
    (void)room;
    (void)cb;
    (void)ud;
    return XT_EUNSUPPORTED;
}

unsigned xt_muc_info_flags(const xt_disco_info *info)
{
    (void)info;
    return 0;
}

const char *xt_muc_left_name(xt_muc_left_why why)
{
    (void)why;
    return NULL;
}
