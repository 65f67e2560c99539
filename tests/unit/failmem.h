/*
 * tests/unit/failmem.h -- an xt_mem whose allocation number
 * xt_test_fail_at (counted in xt_test_alloc_count) fails, for the
 * allocation-failure loops (STYLE.md: every allocation failed once).
 */
#ifndef XT_TEST_FAILMEM_H
#define XT_TEST_FAILMEM_H

#include "xtalk/common.h"

extern long xt_test_fail_at, xt_test_alloc_count;
extern const xt_mem xt_test_failing_mem;

#endif
