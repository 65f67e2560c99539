/*
 * Internal allocation helpers over the caller's xt_mem hooks.
 * A NULL `const xt_mem *` everywhere means the C library allocator.
 */
#ifndef XT_BASE_MEM_H
#define XT_BASE_MEM_H

#include <stddef.h>
#include <string.h>

#include "xtalk/common.h"

void *xt_malloc(const xt_mem *mem, size_t size);
void *xt_calloc(const xt_mem *mem, size_t n, size_t size); /* overflow-checked, zeroed */
void *xt_realloc(const xt_mem *mem, void *ptr, size_t size);
/* xt_free() is public (xtalk/common.h). */
/* Makes room for `need` elements of `size` bytes in the array *arr of
 * capacity *cap: doubles from `first` (or from *cap) until it fits.
 * 0, or XT_ENOMEM with *arr and *cap unchanged. */
int xt_grow(const xt_mem *mem, void **arr, size_t *cap, size_t need, size_t size, size_t first);
char *xt_strdup(const xt_mem *mem, const char *s);          /* NULL in -> NULL out */
char *xt_strndup(const xt_mem *mem, const char *s, size_t n);
/* Overwrites n bytes in a way the compiler cannot elide (secrets). */
void xt_wipe(void *p, size_t n);
/* Wipes and frees a NUL-terminated secret. */
void xt_free_secret(const xt_mem *mem, char *s);

#endif
