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
