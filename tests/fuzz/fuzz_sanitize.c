/*
 * Fuzz target: the terminal sanitizer (cli/sanitize.h) and the JSON
 * string writer that shares its character classes (cli/json.c). For any
 * bytes: the sanitized text is valid UTF-8 holding no character
 * xt_cli_char_unsafe() names (in LINES mode, only '\n' + indent and
 * '\t'), within the documented 4x bound, and sanitizing it again changes
 * nothing; the JSON line holds no raw unsafe character either. abort()
 * on any breach, so libFuzzer and the corpus replayer both report it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "json.h"
#include "sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *out, size_t in_len, xt_cli_san_mode mode)
{
    const uint8_t *p = (const uint8_t *)out;
    size_t n = strlen(out);

    if (n > in_len * 4 || u8_check(p, n))
        abort();
    for (size_t i = 0; i < n;) {
        ucs4_t uc;
        int m = u8_mbtoucr(&uc, p + i, n - i);
        if (m <= 0)
            abort();
        if (mode == XT_CLI_SAN_LINES && uc == '\n') {
            if (strncmp(out + i + 1, XT_CLI_SAN_INDENT, strlen(XT_CLI_SAN_INDENT)) != 0)
                abort();
        } else if (!(mode == XT_CLI_SAN_LINES && uc == '\t') && xt_cli_char_unsafe(uc)) {
            abort();
        }
        i += (size_t)m;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    for (int mode = XT_CLI_SAN_LINE; mode <= XT_CLI_SAN_LINES; mode++) {
        char *out = xt_cli_sanitize(s, size, (xt_cli_san_mode)mode);
        if (!out)
            continue; /* out of memory */
        check(out, size, (xt_cli_san_mode)mode);
        if (mode == XT_CLI_SAN_LINE) {
            char *again = xt_cli_sanitize(out, strlen(out), XT_CLI_SAN_LINE);
            if (again && strcmp(again, out) != 0)
                abort();
            free(again);
        }
        free(out);
    }

    xt_cli_json j;
    xt_cli_json_init(&j);
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_strn(&j, "k", s, size);
    xt_cli_json_end(&j);
    size_t len = 0;
    const char *t = xt_cli_json_text(&j, &len);
    if (t) {
        /* JSON escapes every control, so even LINE mode's rule holds. */
        char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, t, len);
            copy[len] = '\0';
            check(copy, len, XT_CLI_SAN_LINE);
            free(copy);
        }
    }
    xt_cli_json_free(&j);
    return 0;
}
