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
/*
 * XT_GROW(mem, arr, cap, need, first): makes room for `need` elements in
 * the typed array `arr` (an lvalue such as t->v) of capacity `cap` (a
 * size_t lvalue): doubles from `first` (or from cap) until it fits.
 * Evaluates to 0, or XT_ENOMEM with arr and cap unchanged. The pointer is
 * assigned with its own type (void * converts implicitly), never written
 * through a `void **` that aliases a `T *` (undefined behaviour). Its
 * arguments are evaluated more than once: pass plain lvalues and
 * side-effect-free expressions.
 */
#define XT_GROW(mem, arr, cap, need, first)                                                        \
    ((arr) = xt_grow_array((mem), (arr), &(cap), (need), sizeof *(arr), (first)),                  \
     xt_grow_status((cap), (need)))
/* XT_GROW's worker: returns the (possibly moved) array with *cap
 * updated, or `arr` itself with *cap unchanged when it cannot grow. */
void *xt_grow_array(const xt_mem *mem, void *arr, size_t *cap, size_t need, size_t size,
                    size_t first);
static inline int xt_grow_status(size_t cap, size_t need)
{
    return cap >= need ? 0 : XT_ENOMEM;
}
char *xt_strdup(const xt_mem *mem, const char *s); /* NULL in -> NULL out */
char *xt_strndup(const xt_mem *mem, const char *s, size_t n);
/* Overwrites n bytes in a way the compiler cannot elide (secrets). */
void xt_wipe(void *p, size_t n);
/* Wipes and frees a NUL-terminated secret. */
void xt_free_secret(const xt_mem *mem, char *s);

#endif
