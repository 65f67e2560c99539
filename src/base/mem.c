/* Allocation through the application's xt_mem hooks. */
#include "base/mem.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>

void *xt_malloc(const xt_mem *mem, size_t size)
{
    if (size == 0)
        size = 1;
    return mem && mem->malloc ? mem->malloc(size, mem->ud) : malloc(size);
}

void *xt_calloc(const xt_mem *mem, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = xt_malloc(mem, n * size);
    if (p)
        memset(p, 0, (n * size) != 0 ? n * size : 1);
    return p;
}

void *xt_realloc(const xt_mem *mem, void *ptr, size_t size)
{
    if (size == 0)
        size = 1;
    return mem && mem->realloc ? mem->realloc(ptr, size, mem->ud) : realloc(ptr, size);
}

void xt_free(const xt_mem *mem, void *ptr)
{
    if (!ptr)
        return;
    if (mem && mem->free)
        mem->free(ptr, mem->ud);
    else
        free(ptr);
}

char *xt_strndup(const xt_mem *mem, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = xt_malloc(mem, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void *xt_grow_array(const xt_mem *mem, void *arr, size_t *cap, size_t need, size_t size,
                    size_t first)
{
    if (need <= *cap)
        return arr;
    size_t ncap = *cap ? *cap : first;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return arr;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / size)
        return arr;
    void *n = xt_realloc(mem, arr, ncap * size);
    if (!n)
        return arr;
    *cap = ncap;
    return n;
}

char *xt_strdup(const xt_mem *mem, const char *s)
{
    return s ? xt_strndup(mem, s, strlen(s)) : NULL;
}

void xt_wipe(void *p, size_t n)
{
    /* OPENSSL_cleanse is written so the store is not optimised away. */
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void xt_free_secret(const xt_mem *mem, char *s)
{
    if (!s)
        return;
    xt_wipe(s, strlen(s));
    xt_free(mem, s);
}
