/* Loading the published vectors; see vectors.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vectors.h"

int xt_test_vector_path(const char *name, char *path, size_t size)
{
    const char *dir = getenv("XT_VECTORS");
    if (!dir) {
        fprintf(stderr, "XT_VECTORS is not set (it names ../shared/vectors)\n");
        return -1;
    }
    int n = snprintf(path, size, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

json_t *xt_test_load_json(const char *name)
{
    char path[4096];
    if (xt_test_vector_path(name, path, sizeof path))
        return NULL;
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fprintf(stderr, "cannot load %s: %s\n", path, err.text);
    return j;
}

FILE *xt_test_open_vector(const char *name)
{
    char path[4096];
    if (xt_test_vector_path(name, path, sizeof path))
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        perror(path);
    return f;
}

const char *xt_test_jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

void xt_test_hex_to_buf(xt_buf *b, const char *hex)
{
    assert_non_null(hex);
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;
        assert_int_equal(sscanf(hex + i, "%2x", &v), 1);
        assert_int_equal(xt_buf_append_byte(b, (uint8_t)v), 0);
    }
}

/* ---- xml-restrictions.txt ---- */

/* {{REPEAT n:text}} first (its text never holds escapes), then the
 * C-style escapes \\ \t \n \r \xHH. */
static uint8_t *decode_input(const char *in, size_t *out_len)
{
    xt_buf ex;
    xt_buf_init(&ex, NULL);
    const char *s = in;
    for (;;) {
        const char *m = strstr(s, "{{REPEAT ");
        if (!m) {
            assert_int_equal(xt_buf_append_str(&ex, s), 0);
            break;
        }
        assert_int_equal(xt_buf_append(&ex, s, (size_t)(m - s)), 0);
        char *colon;
        unsigned long n = strtoul(m + 9, &colon, 10);
        assert_true(*colon == ':');
        const char *end = strstr(colon, "}}");
        assert_non_null(end);
        for (unsigned long i = 0; i < n; i++)
            assert_int_equal(xt_buf_append(&ex, colon + 1, (size_t)(end - colon - 1)), 0);
        s = end + 2;
    }
    const char *e = xt_buf_cstr(&ex);
    size_t elen = xt_buf_size(&ex);
    uint8_t *out = malloc(elen + 1);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < elen; i++) {
        if (e[i] != '\\') {
            out[o++] = (uint8_t)e[i];
            continue;
        }
        char c = e[++i];
        switch (c) {
        case '\\':
            out[o++] = '\\';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 'x': {
            char hex[3] = {e[i + 1], e[i + 2], 0};
            out[o++] = (uint8_t)strtoul(hex, NULL, 16);
            i += 2;
            break;
        }
        default:
            fail_msg("bad escape \\%c", c);
        }
    }
    xt_buf_free(&ex);
    out[o] = '\0';
    *out_len = o;
    return out;
}

int xt_test_xmlr_load(xt_xmlr *v)
{
    memset(v, 0, sizeof *v);
    const char *dir = getenv("XT_VECTORS");
    if (!dir)
        dir = "../shared/vectors";
    char path[1024];
    snprintf(path, sizeof path, "%s/xml-restrictions.txt", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    v->text = malloc((size_t)sz + 1);
    if (!v->text || fread(v->text, 1, (size_t)sz, f) != (size_t)sz) {
        fclose(f);
        return -1;
    }
    fclose(f);
    v->text[sz] = '\0';
    static const char hdr_key[] = "STREAM_HEADER = ";
    for (char *line = v->text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#') {
            char *h = strstr(line, hdr_key);
            if (h && !v->header)
                v->header = h + sizeof hdr_key - 1;
            continue;
        }
        if (!line[0])
            continue;
        char *fld[8];
        int nf = 0;
        for (char *p = line; nf < 8;) {
            fld[nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        if (nf != 8) {
            fprintf(stderr, "bad vector line: %s\n", line);
            return -1;
        }
        if (strcmp(fld[0], "id") == 0)
            continue;
        if (v->n == sizeof v->rows / sizeof v->rows[0])
            return -1;
        xt_xmlr_row *r = &v->rows[v->n++];
        r->id = fld[0];
        r->expect = fld[1];
        r->context = fld[2];
        r->note = fld[5];
        r->input = decode_input(fld[7], &r->len);
    }
    return v->header && v->n > 50 ? 0 : -1;
}

void xt_test_xmlr_free(xt_xmlr *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->rows[i].input);
    free(v->text);
    memset(v, 0, sizeof *v);
}
