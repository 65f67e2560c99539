/*
 * tests/unit/vectors.h -- loading the published vectors in
 * ../shared/vectors/ (directory from $XT_VECTORS), shared by the unit
 * tests that read them. Include after <cmocka.h>.
 */
#ifndef XT_TEST_VECTORS_H
#define XT_TEST_VECTORS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/buf.h"

/* "$XT_VECTORS/name" into path; 0, or -1 when XT_VECTORS is unset or the
 * path does not fit. */
int xt_test_vector_path(const char *name, char *path, size_t size);
/* The JSON vector file `name`, or NULL (reason on stderr). */
json_t *xt_test_load_json(const char *name);
/* The vector file `name` opened for reading, or NULL (reason on stderr). */
FILE *xt_test_open_vector(const char *name);
/* String member k of o, or NULL. */
const char *xt_test_jstr(json_t *o, const char *k);
/* Hex text -> bytes appended to b; fails the test on bad hex. */
void xt_test_hex_to_buf(xt_buf *b, const char *hex);

/*
 * xml-restrictions.txt: its rows with the input decoded ({{REPEAT}} and
 * the C-style escapes) and STREAM_HEADER, the server header the stream
 * and body rows follow. Strings point into v->text. 0, or -1 (reason on
 * stderr).
 */
typedef struct xt_xmlr_row {
    char *id, *expect, *context, *note;
    uint8_t *input;
    size_t len;
} xt_xmlr_row;
typedef struct xt_xmlr {
    xt_xmlr_row rows[512];
    size_t n;
    char *header;
    char *text;
} xt_xmlr;
int xt_test_xmlr_load(xt_xmlr *v);
void xt_test_xmlr_free(xt_xmlr *v);

#endif
