/*
 * resource.h -- the resource xtalk asks the server for when none is
 * configured (--resource, `resource =` in the config): one per
 * installation, generated once ("xtalk-" and 8 random hex digits) and kept
 * in $XDG_DATA_HOME/xtalk/resource (mode 0600), so logins do not
 * multiply sessions on the server and resources in contacts' views, as a
 * new random one each time did (issue 13 item 7).
 *
 * Runs at the same time (a `listen` in the background, a `send` from
 * cron) must not share it: a server gives a resource to one session and
 * closes the other with a conflict (Prosody's default), which xtalk does
 * not retry. So the file carries one lock per slot (OFD byte-range locks,
 * released when the process ends, however it ends): the first run takes
 * slot 0 and the resource itself, a run beside it slot 1 and
 * "RESOURCE-2", and so on. Each is stable too: the background listen and
 * the cron send keep theirs from one day to the next.
 */
#ifndef XT_CLI_RESOURCE_H
#define XT_CLI_RESOURCE_H

/* The slots: past this many runs at once, the server chooses. */
#define XT_CLI_RESOURCE_SLOTS 64

/* Picks the resource from the file at path (created with a new resource
 * when missing or empty): *out (malloc'd) and *lock_fd, the descriptor
 * whose lock holds the slot (close it when the run ends; close-on-exec).
 * 0, or -1 with errno (the caller then lets the server choose). */
int xt_cli_resource_pick(const char *path, char **out, int *lock_fd);

#endif
