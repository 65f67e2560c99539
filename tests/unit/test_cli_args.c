/* Unit tests: xtalk command-line parsing, every command and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "report.h"
#include "xtalk/conn.h"

static char err[512];

/* Parses a NULL-terminated list of words after "xtalk". */
static int parse_v(xt_cli_args *a, const char *const *words)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t) "xtalk";
    for (; *words; words++)
        argv[argc++] = (char *)(uintptr_t)*words;
    argv[argc] = NULL;
    return xt_cli_args_parse(argc, argv, a, err, sizeof err);
}

#define P(a, ...) parse_v((a), (const char *const[]){__VA_ARGS__, NULL})

static void usage_error(const char *needle, const char *const *words)
{
    xt_cli_args a;
    assert_int_equal(parse_v(&a, words), XT_CLI_EXIT_USAGE);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not contain '%s'", err, needle);
}

#define E(needle, ...) usage_error((needle), (const char *const[]){__VA_ARGS__, NULL})

static void test_global(void **state)
{
    (void)state;
    xt_cli_args a;
    assert_int_equal(P(&a, "--version"), 0);
    assert_true(a.version);
    assert_int_equal(P(&a, "--help"), 0);
    assert_true(a.help);
    assert_int_equal(a.cmd, XT_CLI_CMD_NONE);
    assert_int_equal(P(&a, "-vv", "roster", "-v"), 0);
    assert_int_equal(a.verbose, 3);
    assert_int_equal(P(&a, "help", "send"), 0);
    assert_int_equal(a.cmd, XT_CLI_CMD_HELP);
    assert_string_equal(a.help_topic, "send");
    /* --help skips the command's argument checks. */
    assert_int_equal(P(&a, "send", "--help"), 0);
    assert_true(a.help);
    assert_int_equal(a.cmd, XT_CLI_CMD_SEND);

    xt_cli_args b;
    char *argv0[] = {(char *)(uintptr_t) "xtalk", NULL};
    assert_int_equal(xt_cli_args_parse(1, argv0, &b, err, sizeof err), XT_CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "no command"));
    E("unknown command 'frobnicate'", "frobnicate");
    E("unknown option '--frob'", "send", "--frob", "a@b", "x");
    E("unknown option '-x'", "-x", "roster");
    E("help: unknown command 'nope'", "help", "nope");
    E("needs a command", "--jid", "a@b");
}

static void test_common(void **state)
{
    (void)state;
    xt_cli_args a;
    /* Options before and after the command, both value forms. */
    assert_int_equal(P(&a, "--jid", "me@example.org", "roster", "--server=h:5222", "--ca-file",
                       "/ca.pem", "--pin", "ab", "--direct-tls", "--resource", "r", "--config",
                       "/c", "--timeout", "5", "--insecure-allow-plaintext", "--allow-downgrade"),
                     0);
    assert_int_equal(a.cmd, XT_CLI_CMD_ROSTER);
    assert_string_equal(a.jid, "me@example.org");
    assert_string_equal(a.server, "h:5222");
    assert_string_equal(a.ca_file, "/ca.pem");
    assert_string_equal(a.pin, "ab");
    assert_true(a.direct_tls);
    assert_string_equal(a.resource, "r");
    assert_string_equal(a.config, "/c");
    assert_int_equal(a.timeout_s, 5);
    assert_true(a.insecure_plaintext);
    assert_true(a.allow_downgrade);

    assert_int_equal(P(&a, "roster"), 0);
    assert_int_equal(a.timeout_s, XT_CLI_DEFAULT_TIMEOUT_S);
    assert_int_equal(a.wait_ms, XT_CLI_DEFAULT_ROSTER_WAIT_MS);
    assert_false(a.json);

    E("--timeout: '0' is not", "roster", "--timeout", "0");
    E("--timeout: 'abc' is not", "roster", "--timeout=abc");
    E("--timeout: '5s' is not", "roster", "--timeout", "5s");
    E("--timeout: '-1' is not", "roster", "--timeout", "-1");
    E("option --jid needs a value", "roster", "--jid");
    E("option --direct-tls takes no value", "roster", "--direct-tls=yes");
    E("roster: option --lines does not apply here", "roster", "--lines");
    E("does not apply here", "--json", "send", "a@b", "x");
}

static void test_send(void **state)
{
    (void)state;
    xt_cli_args a;
    assert_int_equal(P(&a, "send", "bob@example.org", "hello there"), 0);
    assert_int_equal(a.cmd, XT_CLI_CMD_SEND);
    assert_string_equal(a.target, "bob@example.org");
    assert_string_equal(a.text, "hello there");
    assert_false(a.wait_reply);

    assert_int_equal(P(&a, "send", "bob@example.org"), 0);
    assert_null(a.text);
    assert_int_equal(P(&a, "send", "--lines", "bob@example.org"), 0);
    assert_true(a.lines);
    assert_int_equal(P(&a, "send", "--wait-reply", "bob@example.org", "hi"), 0);
    assert_true(a.wait_reply);
    assert_int_equal(a.wait_reply_s, XT_CLI_DEFAULT_WAIT_REPLY_S);
    assert_string_equal(a.target, "bob@example.org");
    assert_int_equal(P(&a, "send", "--wait-reply=3", "bob@example.org", "hi"), 0);
    assert_int_equal(a.wait_reply_s, 3);
    /* "--" lets TEXT start with a dash. */
    assert_int_equal(P(&a, "send", "bob@example.org", "--", "-v is not an option"), 0);
    assert_string_equal(a.text, "-v is not an option");
    assert_int_equal(a.verbose, 0);
    /* A lone "-" is an argument. */
    assert_int_equal(P(&a, "send", "bob@example.org", "-"), 0);
    assert_string_equal(a.text, "-");

    E("send: missing argument", "send");
    E("send: too many arguments", "send", "a@b", "one", "two");
    E("send: the message is empty", "send", "a@b", "");
    E("--lines reads the messages from stdin", "send", "--lines", "a@b", "text");
    E("--wait-reply: '0' is not", "send", "--wait-reply=0", "a@b", "x");
    E("--wait-reply: 'x' is not", "send", "--wait-reply=x", "a@b", "x");
}

static void test_roster_listen(void **state)
{
    (void)state;
    xt_cli_args a;
    assert_int_equal(P(&a, "roster", "--json", "--wait", "200"), 0);
    assert_true(a.json);
    assert_int_equal(a.wait_ms, 200);
    assert_true(a.wait_set);
    assert_int_equal(P(&a, "roster", "--wait=0"), 0);
    assert_int_equal(a.wait_ms, 0);
    assert_int_equal(P(&a, "roster"), 0);
    assert_false(a.wait_set); /* the config's roster_wait may apply */
    E("roster: unexpected argument 'x'", "roster", "x");
    E("--wait: '600001' is not", "roster", "--wait", "600001");

    assert_int_equal(P(&a, "listen", "--json", "--status", "dnd", "--status-message", "busy",
                       "--priority", "-128", "--count", "3"),
                     0);
    assert_int_equal(a.cmd, XT_CLI_CMD_LISTEN);
    assert_int_equal(a.show, XT_SHOW_DND);
    assert_string_equal(a.status_message, "busy");
    assert_int_equal(a.priority, -128);
    assert_int_equal(a.count, 3);
    assert_int_equal(P(&a, "listen"), 0);
    assert_int_equal(a.show, XT_SHOW_AVAILABLE);
    assert_int_equal(a.priority, 0);
    assert_int_equal(a.count, 0);
    static const struct {
        const char *w;
        int show;
    } shows[] = {{"available", XT_SHOW_AVAILABLE},
                 {"online", XT_SHOW_AVAILABLE},
                 {"chat", XT_SHOW_CHAT},
                 {"away", XT_SHOW_AWAY},
                 {"xa", XT_SHOW_XA},
                 {"dnd", XT_SHOW_DND}};
    for (size_t i = 0; i < sizeof shows / sizeof shows[0]; i++) {
        assert_int_equal(P(&a, "listen", "--status", shows[i].w), 0);
        assert_int_equal(a.show, shows[i].show);
    }
    E("--status: unknown value 'busy'", "listen", "--status", "busy");
    E("--status: unknown value 'unavailable'", "listen", "--status", "unavailable");
    E("--priority: '128' is not", "listen", "--priority", "128");
    E("--count: '0' is not", "listen", "--count", "0");
    E("listen: option --wait does not apply", "listen", "--wait", "5");
}

static void test_bot(void **state)
{
    (void)state;
    xt_cli_args a;
    assert_int_equal(P(&a, "bot", "--echo"), 0);
    assert_true(a.echo);
    assert_null(a.exec_cmd);
    assert_int_equal(a.exec_timeout_s, XT_CLI_DEFAULT_EXEC_TIMEOUT_S);
    assert_int_equal(P(&a, "bot", "--exec", "fortune -s", "--exec-timeout", "3", "--count", "1",
                       "--status", "chat"),
                     0);
    assert_string_equal(a.exec_cmd, "fortune -s");
    assert_int_equal(a.exec_timeout_s, 3);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.show, XT_SHOW_CHAT);
    E("exactly one of --echo or --exec", "bot");
    E("exactly one of --echo or --exec", "bot", "--echo", "--exec", "cat");
    E("--exec needs a non-empty command", "bot", "--exec", "");
    E("--exec-timeout: '0' is not", "bot", "--echo", "--exec-timeout", "0");
    E("bot: unexpected argument", "bot", "--echo", "extra");
    E("bot: option --json does not apply", "bot", "--echo", "--json");
}

static void test_manage_status(void **state)
{
    (void)state;
    xt_cli_args a;
    assert_int_equal(P(&a, "add", "bob@example.org", "Bob", "--group", "Friends", "--group=Work"),
                     0);
    assert_int_equal(a.cmd, XT_CLI_CMD_ADD);
    assert_string_equal(a.target, "bob@example.org");
    assert_string_equal(a.text, "Bob");
    assert_int_equal(a.ngroups, 2);
    assert_string_equal(a.groups[0], "Friends");
    assert_string_equal(a.groups[1], "Work");
    assert_int_equal(P(&a, "add", "bob@example.org"), 0);
    assert_null(a.text);
    assert_int_equal(a.ngroups, 0);
    E("--group: the group name is empty", "add", "a@b", "--group", "");
    E("add: missing argument", "add");
    E("add: too many arguments", "add", "a@b", "n", "x");

    static const char *const cmds[] = {"remove", "approve", "deny"};
    static const xt_cli_cmd ids[] = {XT_CLI_CMD_REMOVE, XT_CLI_CMD_APPROVE, XT_CLI_CMD_DENY};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(P(&a, cmds[i], "bob@example.org"), 0);
        assert_int_equal(a.cmd, ids[i]);
        assert_string_equal(a.target, "bob@example.org");
        assert_int_equal(P(&a, cmds[i]), XT_CLI_EXIT_USAGE);
        assert_int_equal(P(&a, cmds[i], "a@b", "c@d"), XT_CLI_EXIT_USAGE);
        assert_int_equal(P(&a, cmds[i], "a@b", "--group", "g"), XT_CLI_EXIT_USAGE);
    }

    assert_int_equal(P(&a, "status", "away", "out for lunch", "--priority", "5"), 0);
    assert_int_equal(a.cmd, XT_CLI_CMD_STATUS);
    assert_int_equal(a.show, XT_SHOW_AWAY);
    assert_string_equal(a.status_message, "out for lunch");
    assert_int_equal(a.priority, 5);
    assert_int_equal(P(&a, "status", "xa"), 0);
    assert_null(a.status_message);
    E("status: unknown SHOW 'sleeping'", "status", "sleeping");
    E("status: missing argument", "status");
    E("status: option --status does not apply", "status", "away", "--status", "dnd");
}

static void test_rooms(void **state)
{
    (void)state;
    xt_cli_args a;
    assert_int_equal(P(&a, "rooms", "--json"), 0);
    assert_int_equal(a.cmd, XT_CLI_CMD_ROOMS);
    assert_true(a.json);
    E("rooms: unexpected argument", "rooms", "x@y");
    assert_int_equal(P(&a, "bookmark", "add", "r@muc.example.org", "--name", "R", "--nick=me",
                       "--autojoin"),
                     0);
    assert_int_equal(a.cmd, XT_CLI_CMD_BOOKMARK);
    assert_string_equal(a.subcmd, "add");
    assert_string_equal(a.target, "r@muc.example.org");
    assert_string_equal(a.bm_name, "R");
    assert_string_equal(a.nick, "me");
    assert_true(a.autojoin);
    assert_int_equal(P(&a, "bookmark", "remove", "r@muc.example.org"), 0);
    assert_string_equal(a.subcmd, "remove");
    assert_null(a.nick);
    E("bookmark: unknown action 'list'", "bookmark", "list", "r@m");
    E("bookmark: missing argument", "bookmark", "add");
    E("bookmark: --name, --nick and --autojoin go with add", "bookmark", "remove", "r@m",
      "--autojoin");
    E("--nick: the nick is empty", "bookmark", "add", "r@m", "--nick", "");
    E("rooms: option --autojoin does not apply", "rooms", "--autojoin");
    /* No password on the command line: it would show in ps. */
    E("unknown option '--password'", "bookmark", "add", "r@m", "--password", "x");
}

static void test_names(void **state)
{
    (void)state;
    for (int c = 1; c < XT_CLI_CMD_COUNT_; c++)
        assert_int_equal(xt_cli_cmd_lookup(xt_cli_cmd_name((xt_cli_cmd)c)), c);
    assert_int_equal(xt_cli_cmd_lookup("SEND"), XT_CLI_CMD_NONE);
    assert_string_equal(xt_cli_cmd_name(XT_CLI_CMD_NONE), "");
}

/* Every connecting command takes the same session path, store included:
 * --store and --no-store are accepted by all of them (chat too). */
static void test_store_everywhere(void **state)
{
    (void)state;
    xt_cli_args a;
    static const char *const cmds[][3] = {
        {"roster", NULL, NULL},
        {"status", "away", NULL},
        {"add", "bob@example.org", NULL},
        {"remove", "bob@example.org", NULL},
        {"approve", "bob@example.org", NULL},
        {"deny", "bob@example.org", NULL},
        {"chat", NULL, NULL},
        {"listen", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        const char *w[6] = {cmds[i][0], "--no-store"};
        size_t n = 2;
        if (cmds[i][1])
            w[n++] = cmds[i][1];
        w[n] = NULL;
        if (parse_v(&a, w) != 0)
            fail_msg("%s --no-store: %s", cmds[i][0], err);
        assert_true(a.no_store);
        const char *w2[6] = {cmds[i][0], "--store", "/tmp/x.db", cmds[i][1], NULL};
        if (parse_v(&a, w2) != 0)
            fail_msg("%s --store: %s", cmds[i][0], err);
        assert_string_equal(a.store, "/tmp/x.db");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global), cmocka_unit_test(test_common),
        cmocka_unit_test(test_send),   cmocka_unit_test(test_roster_listen),
        cmocka_unit_test(test_bot),    cmocka_unit_test(test_manage_status),
        cmocka_unit_test(test_rooms),
        cmocka_unit_test(test_names),  cmocka_unit_test(test_store_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
