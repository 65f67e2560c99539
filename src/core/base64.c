/*
 * RFC 4648 §4 base64, strict in both directions.
 *
 * Why strict: SASL data in XMPP is base64 without line breaks or
 * whitespace (RFC 6120 §6.4.2), and a lenient decoder gives two
 * encodings of one value, which matters for anything compared or hashed
 * later (SCRAM's c= attribute, XEP-0115 ver strings). So the decoder
 * rejects characters outside the alphabet (including whitespace and the
 * base64url "-" "_"), lengths that are not a multiple of 4, padding that
 * is missing, misplaced or excessive, and non-zero pad bits (RFC 4648
 * §3.5: decoders MAY reject them; we do, so there is one encoding).
 */
#include "core/base64.h"

#include "xtalk/common.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int xt_base64_encode(xt_buf *out, const uint8_t *data, size_t len)
{
    if (!out || (!data && len))
        return XT_EINVAL;
    if (len == 0)
        return 0;
    /* ceil(len / 3) * 4 without overflow. */
    if (len / 3 >= SIZE_MAX / 4 - 1)
        return XT_ETOOBIG;
    size_t olen = (len / 3 + (len % 3 != 0)) * 4;
    int rc = xt_buf_reserve(out, olen);
    if (rc)
        return rc;

    size_t i = 0;
    uint8_t q[4];
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        q[0] = (uint8_t)b64_alphabet[(v >> 18) & 63];
        q[1] = (uint8_t)b64_alphabet[(v >> 12) & 63];
        q[2] = (uint8_t)b64_alphabet[(v >> 6) & 63];
        q[3] = (uint8_t)b64_alphabet[v & 63];
        if ((rc = xt_buf_append(out, q, 4)) != 0)
            return rc;
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (len - i == 2)
            v |= (uint32_t)data[i + 1] << 8;
        q[0] = (uint8_t)b64_alphabet[(v >> 18) & 63];
        q[1] = (uint8_t)b64_alphabet[(v >> 12) & 63];
        q[2] = len - i == 2 ? (uint8_t)b64_alphabet[(v >> 6) & 63] : '=';
        q[3] = '=';
        if ((rc = xt_buf_append(out, q, 4)) != 0)
            return rc;
    }
    return 0;
}

/* The value of an alphabet character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int xt_base64_decode(xt_buf *out, const char *text, size_t len)
{
    if (!out || (!text && len))
        return XT_EINVAL;
    if (len == 0)
        return 0;
    /* Padding is mandatory (RFC 4648 §3.2; XMPP does not waive it), so
     * every valid encoding is whole quanta. */
    if (len % 4 != 0)
        return XT_EPROTO;

    /* Validate everything before appending, so a bad input leaves out
     * unchanged. Only the last quantum may hold '=' and only as "x==" or
     * "xx=" endings. */
    size_t pad = 0;
    if (text[len - 1] == '=') {
        pad = 1;
        if (text[len - 2] == '=')
            pad = 2;
    }
    for (size_t i = 0; i < len - pad; i++)
        if (b64_value((unsigned char)text[i]) < 0)
            return XT_EPROTO;
    /* Non-zero pad bits: the last data character carries bits that the
     * output does not use; they must be zero (canonical form). */
    if (pad == 2 && (b64_value((unsigned char)text[len - 3]) & 0x0f) != 0)
        return XT_EPROTO;
    if (pad == 1 && (b64_value((unsigned char)text[len - 2]) & 0x03) != 0)
        return XT_EPROTO;

    size_t olen = len / 4 * 3 - pad;
    int rc = xt_buf_reserve(out, olen);
    if (rc)
        return rc;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        size_t n = 4;
        if (i + 4 == len)
            n = 4 - pad;
        for (size_t k = 0; k < 4; k++) {
            int d = k < n ? b64_value((unsigned char)text[i + k]) : 0;
            v = v << 6 | (uint32_t)d;
        }
        uint8_t b[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        if ((rc = xt_buf_append(out, b, n - 1)) != 0)
            return rc;
    }
    return 0;
}
