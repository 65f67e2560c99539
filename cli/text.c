/* UTF-8 and XML character checks for outgoing text. */
#include "text.h"

#include <stdint.h>
#include <string.h>
#include <unistr.h>

int xt_cli_text_check(const char *s, size_t len, const char **why, size_t *offset)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;

    while (i < len) {
        ucs4_t uc;
        /* u8_mbtoucr returns -1 for invalid and -2 for truncated input;
         * it rejects overlong forms, surrogates and values past U+10FFFF. */
        int n = u8_mbtoucr(&uc, p + i, len - i);
        const char *bad = NULL;

        if (n < 0)
            bad = "invalid UTF-8";
        else if (uc == 0)
            bad = "a NUL character";
        else if (uc < 0x20 && uc != '\t' && uc != '\n' && uc != '\r')
            bad = "a control character XMPP cannot carry";
        else if (uc == 0xFFFE || uc == 0xFFFF)
            bad = "a non-character (U+FFFE/U+FFFF) XMPP cannot carry";
        if (bad) {
            if (why)
                *why = bad;
            if (offset)
                *offset = i;
            return -1;
        }
        i += (size_t)n;
    }
    return 0;
}

int xt_cli_text_ok(const char *s)
{
    return xt_cli_text_check(s, strlen(s), NULL, NULL);
}
