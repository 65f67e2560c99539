/* A failing allocator for the allocation-failure loops; see failmem.h. */
#include <stdlib.h>

#include "failmem.h"

long xt_test_fail_at, xt_test_alloc_count;

static void *fail_malloc(size_t n, void *ud)
{
    (void)ud;
    return ++xt_test_alloc_count == xt_test_fail_at ? NULL : malloc(n);
}

static void *fail_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return ++xt_test_alloc_count == xt_test_fail_at ? NULL : realloc(p, n);
}

static void fail_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

const xt_mem xt_test_failing_mem = {fail_malloc, fail_realloc, fail_free, NULL};
