/* Unit tests: listen's output (output.h) stays byte for byte what it
 * printed before issue 14 made it stream (no allocation, no flush per
 * line): hostile fields (controls, bidi, format characters, bad UTF-8,
 * quotes) through every event kind, human and --json. The expected text
 * was printed by the previous implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"

static const char *const want[] = {
    "message alice@localhost/r\\u202e normal: plain body\n",
    "presence plain body unavailable: quote \" back\\slash\n",
    "subscription plain body subscribe: nl\\nand\\ttab\\r\n",
    "roster carol@localhost both name=plain body\n",
    "message alice@localhost/r\\u202e chat: quote \" back\\slash\n",
    "presence quote \" back\\slash away priority=-4: nl\\nand\\ttab\\r\n",
    "subscription quote \" back\\slash subscribe: \\x1b[31mred\n",
    "roster carol@localhost both ask=subscribe name=quote \" back\\slash groups=quote \" "
    "back\\slash\n",
    "message alice@localhost/r\\u202e chat subject=\\x1b[31mred: nl\\nand\\ttab\\r\n",
    "presence nl\\nand\\ttab\\r unavailable: \\x1b[31mred\n",
    "subscription nl\\nand\\ttab\\r subscribe: bidi \\u202e txt\n",
    "roster carol@localhost both name=nl\\nand\\ttab\\r groups=nl\\nand\\ttab\\r,g2\n",
    "message alice@localhost/r\\u202e normal: \\x1b[31mred\n",
    "presence \\x1b[31mred away priority=-2: bidi \\u202e txt\n",
    "subscription \\x1b[31mred subscribe: emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\n",
    "roster carol@localhost both ask=subscribe name=\\x1b[31mred\n",
    "message alice@localhost/r\\u202e chat: bidi \\u202e txt\n",
    "presence bidi \\u202e txt unavailable: emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\n",
    "subscription bidi \\u202e txt subscribe: bad \\xff\\xfe utf8\n",
    "roster carol@localhost both name=bidi \\u202e txt groups=bidi \\u202e txt\n",
    "message alice@localhost/r\\u202e chat delayed=2026-01-01T00:00:00Z: emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\n",
    "presence emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d away priority=0: bad \\xff\\xfe utf8\n",
    "subscription emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d subscribe: c1 \\u009b x\n",
    "roster carol@localhost both ask=subscribe name=emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d groups=emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d,g2\n",
    "message alice@localhost/r\\u202e normal: bad \\xff\\xfe utf8\n",
    "presence bad \\xff\\xfe utf8 unavailable: c1 \\u009b x\n",
    "subscription bad \\xff\\xfe utf8 subscribe: del \\x7f\n",
    "roster carol@localhost both name=bad \\xff\\xfe utf8\n",
    "message alice@localhost/r\\u202e chat: c1 \\u009b x\n",
    "presence c1 \\u009b x away priority=2: del \\x7f\n",
    "subscription c1 \\u009b x subscribe: tag \\U000e0001\n",
    "roster carol@localhost both ask=subscribe name=c1 \\u009b x groups=c1 \\u009b x\n",
    "message alice@localhost/r\\u202e chat: del \\x7f\n",
    "presence del \\x7f unavailable: tag \\U000e0001\n",
    "subscription del \\x7f subscribe: line \\u2028 sep\n",
    "roster carol@localhost both name=del \\x7f groups=del \\x7f,g2\n",
    "message alice@localhost/r\\u202e normal: tag \\U000e0001\n",
    "presence tag \\U000e0001 away priority=4: line \\u2028 sep\n",
    "subscription tag \\U000e0001 subscribe: \n",
    "roster carol@localhost both ask=subscribe name=tag \\U000e0001\n",
    "message alice@localhost/r\\u202e chat: line \\u2028 sep\n",
    "presence line \\u2028 sep unavailable: \n",
    "subscription line \\u2028 sep subscribe: caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\n",
    "roster carol@localhost both name=line \\u2028 sep groups=line \\u2028 sep\n",
    "message alice@localhost/r\\u202e chat (no body)\n",
    "presence  away priority=6: caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\n",
    "subscription  subscribe: plain body\n",
    "roster carol@localhost both ask=subscribe name= groups=,g2\n",
    "message alice@localhost/r\\u202e normal: caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\n",
    "presence caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    " unavailable: plain body\n",
    "subscription caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    " subscribe: quote \" back\\slash\n",
    "roster carol@localhost both name=caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"normal\",\"id\":\"id\\\"1\",\"body\":\"plain "
    "body\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"plain body\",\"type\":\"unavailable\",\"status\":\"quote "
    "\\\" back\\\\slash\"}\n",
    "{\"event\":\"subscription\",\"from\":\"plain "
    "body\",\"type\":\"subscribe\",\"status\":\"nl\\nand\\ttab\\r\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"plain "
    "body\",\"subscription\":\"both\",\"groups\":[]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"body\":\"quote "
    "\\\" back\\\\slash\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"quote \\\" "
    "back\\\\slash\",\"show\":\"away\",\"status\":\"nl\\nand\\ttab\\r\",\"priority\":-4}\n",
    "{\"event\":\"subscription\",\"from\":\"quote \\\" "
    "back\\\\slash\",\"type\":\"subscribe\",\"status\":\"\\u001b[31mred\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"quote \\\" "
    "back\\\\slash\",\"subscription\":\"both\",\"ask\":\"subscribe\",\"groups\":[\"quote \\\" "
    "back\\\\slash\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"body\":"
    "\"nl\\nand\\ttab\\r\",\"subject\":\"\\u001b[31mred\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"nl\\nand\\ttab\\r\",\"type\":\"unavailable\",\"show\":"
    "\"away\",\"status\":\"\\u001b[31mred\"}\n",
    "{\"event\":\"subscription\",\"from\":\"nl\\nand\\ttab\\r\",\"type\":\"subscribe\",\"status\":"
    "\"bidi \\u202e txt\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"nl\\nand\\ttab\\r\","
    "\"subscription\":\"both\",\"groups\":[\"nl\\nand\\ttab\\r\",\"g2\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"normal\",\"id\":\"id\\\"1\",\"body\":\"\\u001b["
    "31mred\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"\\u001b[31mred\",\"show\":\"away\",\"status\":\"bidi "
    "\\u202e txt\",\"priority\":-2}\n",
    "{\"event\":\"subscription\",\"from\":\"\\u001b[31mred\",\"type\":\"subscribe\",\"status\":"
    "\"emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"\\u001b[31mred\","
    "\"subscription\":\"both\",\"ask\":\"subscribe\",\"groups\":[]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"body\":\"bidi "
    "\\u202e txt\",\"thread\":\"t1\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"bidi \\u202e "
    "txt\",\"type\":\"unavailable\",\"status\":\"emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\"}\n",
    "{\"event\":\"subscription\",\"from\":\"bidi \\u202e "
    "txt\",\"type\":\"subscribe\",\"status\":\"bad \\ufffd\\ufffd utf8\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"bidi \\u202e "
    "txt\",\"subscription\":\"both\",\"groups\":[\"bidi \\u202e txt\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"body\":\"emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\",\"stamp\":\"2026-01-01T00:00:00Z\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\",\"show\":\"away\",\"status\":\"bad \\ufffd\\ufffd utf8\",\"priority\":0}\n",
    "{\"event\":\"subscription\",\"from\":\"emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\",\"type\":\"subscribe\",\"status\":\"c1 \\u009b x\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\",\"subscription\":\"both\",\"ask\":\"subscribe\",\"groups\":[\"emoji \xf0"
    "\x9f"
    "\x98"
    "\x80"
    " zwj \\u200d\",\"g2\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"normal\",\"id\":\"id\\\"1\",\"body\":\"bad "
    "\\ufffd\\ufffd utf8\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"bad \\ufffd\\ufffd "
    "utf8\",\"type\":\"unavailable\",\"show\":\"away\",\"status\":\"c1 \\u009b x\"}\n",
    "{\"event\":\"subscription\",\"from\":\"bad \\ufffd\\ufffd "
    "utf8\",\"type\":\"subscribe\",\"status\":\"del \\u007f\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"bad \\ufffd\\ufffd "
    "utf8\",\"subscription\":\"both\",\"groups\":[]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"body\":\"c1 "
    "\\u009b x\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"c1 \\u009b x\",\"show\":\"away\",\"status\":\"del "
    "\\u007f\",\"priority\":2}\n",
    "{\"event\":\"subscription\",\"from\":\"c1 \\u009b x\",\"type\":\"subscribe\",\"status\":\"tag "
    "\\udb40\\udc01\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"c1 \\u009b "
    "x\",\"subscription\":\"both\",\"ask\":\"subscribe\",\"groups\":[\"c1 \\u009b x\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"body\":\"del "
    "\\u007f\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"del \\u007f\",\"type\":\"unavailable\",\"status\":\"tag "
    "\\udb40\\udc01\"}\n",
    "{\"event\":\"subscription\",\"from\":\"del \\u007f\",\"type\":\"subscribe\",\"status\":\"line "
    "\\u2028 sep\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"del "
    "\\u007f\",\"subscription\":\"both\",\"groups\":[\"del \\u007f\",\"g2\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"normal\",\"id\":\"id\\\"1\",\"body\":\"tag "
    "\\udb40\\udc01\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"tag \\udb40\\udc01\",\"show\":\"away\",\"status\":\"line "
    "\\u2028 sep\",\"priority\":4}\n",
    "{\"event\":\"subscription\",\"from\":\"tag "
    "\\udb40\\udc01\",\"type\":\"subscribe\",\"status\":\"\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"tag "
    "\\udb40\\udc01\",\"subscription\":\"both\",\"ask\":\"subscribe\",\"groups\":[]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"body\":\"line "
    "\\u2028 sep\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"line \\u2028 "
    "sep\",\"type\":\"unavailable\",\"show\":\"away\",\"status\":\"\"}\n",
    "{\"event\":\"subscription\",\"from\":\"line \\u2028 "
    "sep\",\"type\":\"subscribe\",\"status\":\"caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"line \\u2028 "
    "sep\",\"subscription\":\"both\",\"groups\":[\"line \\u2028 sep\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"chat\",\"id\":\"id\\\"1\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"\",\"show\":\"away\",\"status\":\"caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\",\"priority\":6}\n",
    "{\"event\":\"subscription\",\"from\":\"\",\"type\":\"subscribe\",\"status\":\"plain body\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"\",\"subscription\":\"both\","
    "\"ask\":\"subscribe\",\"groups\":[\"\",\"g2\"]}\n",
    "{\"event\":\"message\",\"from\":\"alice@localhost/"
    "r\\u202e\",\"to\":\"bob@localhost\",\"type\":\"normal\",\"id\":\"id\\\"1\",\"body\":\"caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\",\"source\":\"live\",\"direction\":\"in\"}\n",
    "{\"event\":\"presence\",\"from\":\"caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\",\"type\":\"unavailable\",\"status\":\"plain body\"}\n",
    "{\"event\":\"subscription\",\"from\":\"caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\",\"type\":\"subscribe\",\"status\":\"quote \\\" back\\\\slash\"}\n",
    "{\"event\":\"roster\",\"jid\":\"carol@localhost\",\"name\":\"caf\xc3"
    "\xa9"
    " \xe4"
    "\xb8"
    "\x96"
    "\xe7"
    "\x95"
    "\x8c"
    "\",\"subscription\":\"both\",\"groups\":[]}\n",
};

static void test_golden(void **state)
{
    (void)state;
    char *got = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&got, &len);
    assert_non_null(f);
    static const char *bodies[] = {"plain body",
                                   "quote \" back\\slash",
                                   "nl\nand\ttab\r",
                                   "\x1b[31mred",
                                   "bidi \xe2\x80\xae txt",
                                   "emoji \xf0\x9f\x98\x80 zwj \xe2\x80\x8d",
                                   "bad \xff\xfe utf8",
                                   "c1 \xc2\x9b x",
                                   "del \x7f",
                                   "tag \xf3\xa0\x80\x81",
                                   "line \xe2\x80\xa8 sep",
                                   "",
                                   "caf\xc3\xa9 \xe4\xb8\x96\xe7\x95\x8c"};
    for (int json = 0; json < 2; json++) {
        xt_cli_json j;
        xt_cli_json_init(&j);
        for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
            xt_message m = {.from = "alice@localhost/r\xe2\x80\xae",
                            .to = "bob@localhost",
                            .type = i % 3 ? "chat" : "weird",
                            .id = "id\"1",
                            .body = i == 11 ? NULL : bodies[i],
                            .subject = i == 2 ? bodies[3] : NULL,
                            .thread = i == 4 ? "t1" : NULL,
                            .stamp = i == 5 ? "2026-01-01T00:00:00Z" : NULL};
            xt_cli_out_message(f, json ? &j : NULL, &m);
            xt_presence p = {.from = bodies[i],
                             .type = i % 2 ? NULL : "unavailable",
                             .show = i % 4 ? "away" : "bogus",
                             .status = bodies[(i + 1) % 13],
                             .priority = (int)i - 5};
            xt_cli_out_presence(f, json ? &j : NULL, &p);
            xt_subscription s = {
                .from = bodies[i], .type = "subscribe", .status = bodies[(i + 2) % 13]};
            xt_cli_out_subscription(f, json ? &j : NULL, &s);
            const char *groups[] = {bodies[i], "g2"};
            xt_roster_item it = {.jid = "carol@localhost",
                                 .name = bodies[i],
                                 .subscription = "both",
                                 .ask = i % 2 ? "subscribe" : NULL,
                                 .groups = groups,
                                 .ngroups = i % 3};
            xt_cli_out_roster_push(f, json ? &j : NULL, &it);
        }
        xt_cli_json_free(&j);
    }
    assert_int_equal(fclose(f), 0);
    size_t at = 0;
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        size_t n = strlen(want[k]);
        if (at + n > len || memcmp(got + at, want[k], n) != 0)
            fail_msg("line %zu differs: got \"%.*s\", want \"%s\"", k + 1,
                     (int)(len - at < n ? len - at : n), got + at, want[k]);
        at += n;
    }
    assert_int_equal(at, len);
    free(got);
}

/* A received file (issue 17): "file" in JSON with the name from the URL
 * path (percent-decoded, sanitized), a file line after the message line;
 * an unsafe URL named so, without a name. */
static void test_file(void **state)
{
    (void)state;
    char *got = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&got, &len);
    assert_non_null(f);
    xt_file_ref refs[] = {
        {.url = "https://u.example/ab/photo%20one%E2%80%AE.jpg", .size = -1, .flags = 0},
        {.url = "https://u.example/x",
         .name = "../r\\u.pdf",
         .media_type = "application/pdf",
         .desc = "the report",
         .size = 1234,
         .flags = 0},
        {.url = "javascript:alert(1)\n", .size = -1, .flags = XT_FILE_UNSAFE_SCHEME},
        {.url = "http://u.example/a.txt", .size = 0, .flags = XT_FILE_HTTP},
    };
    xt_cli_json j;
    xt_cli_json_init(&j);
    for (int json = 0; json < 2; json++)
        for (size_t i = 0; i < sizeof refs / sizeof *refs; i++) {
            xt_message m = {.from = "alice@localhost/r",
                            .type = "chat",
                            .body = refs[i].url,
                            .file = &refs[i]};
            assert_int_equal(xt_cli_out_message(f, json ? &j : NULL, &m), 0);
        }
    xt_cli_json_free(&j);
    assert_int_equal(fclose(f), 0);
    const char *expect =
        "message alice@localhost/r chat: https://u.example/ab/photo%20one%E2%80%AE.jpg\n"
        "file alice@localhost/r name=photo one_.jpg: "
        "https://u.example/ab/photo%20one%E2%80%AE.jpg\n"
        "message alice@localhost/r chat: https://u.example/x\n"
        "file alice@localhost/r name=_._r_u.pdf size=1234 type=application/pdf: "
        "https://u.example/x\n"
        "message alice@localhost/r chat: javascript:alert(1)\\n\n"
        "file alice@localhost/r unsafe: javascript:alert(1)\\n\n"
        "message alice@localhost/r chat: http://u.example/a.txt\n"
        "file alice@localhost/r name=a.txt size=0 insecure: http://u.example/a.txt\n"
        "{\"event\":\"message\",\"from\":\"alice@localhost/r\",\"type\":\"chat\",\"body\":"
        "\"https://u.example/ab/photo%20one%E2%80%AE.jpg\",\"source\":\"live\",\"direction\":"
        "\"in\",\"file\":{\"url\":\"https://u.example/ab/photo%20one%E2%80%AE.jpg\",\"name\":"
        "\"photo one_.jpg\"}}\n"
        "{\"event\":\"message\",\"from\":\"alice@localhost/r\",\"type\":\"chat\",\"body\":"
        "\"https://u.example/x\",\"source\":\"live\",\"direction\":\"in\",\"file\":{\"url\":"
        "\"https://u.example/x\",\"name\":\"_._r_u.pdf\",\"size\":1234,\"type\":"
        "\"application/pdf\",\"desc\":\"the report\"}}\n"
        "{\"event\":\"message\",\"from\":\"alice@localhost/r\",\"type\":\"chat\",\"body\":"
        "\"javascript:alert(1)\\n\",\"source\":\"live\",\"direction\":\"in\",\"file\":{"
        "\"url\":\"javascript:alert(1)\\n\",\"unsafe\":true}}\n"
        "{\"event\":\"message\",\"from\":\"alice@localhost/r\",\"type\":\"chat\",\"body\":"
        "\"http://u.example/a.txt\",\"source\":\"live\",\"direction\":\"in\",\"file\":{"
        "\"url\":\"http://u.example/a.txt\",\"name\":\"a.txt\",\"size\":0,\"insecure\":true}}\n";
    assert_int_equal(len, strlen(expect));
    assert_string_equal(got, expect);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
