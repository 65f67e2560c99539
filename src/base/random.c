/* Random bytes; see random.h. */
#include "base/random.h"

#include <errno.h>
#include <limits.h>
#include <sys/random.h>

#include <openssl/rand.h>

#include "base/mem.h"

int xt_random_os(xt_getrandom_fn gr, void *buf, size_t n)
{
    uint8_t *p = buf;
    size_t left = n;
    while (left) {
        /* Flags 0: the urandom source, blocking only until the kernel's
         * pool was first seeded (early boot), never after. */
        ssize_t r = gr(p, left, 0);
        if (r > 0) {
            size_t got = (size_t)r < left ? (size_t)r : left;
            p += got;
            left -= got;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == ENOSYS) {
            if (left <= INT_MAX && RAND_bytes(p, (int)left) == 1)
                return 0;
        }
        /* Anything else (and 0 bytes, lest we spin) is a failure. */
        xt_wipe(buf, n);
        return XT_ENOMEM;
    }
    return 0;
}

int xt_random_bytes(xt_random_fn fn, void *ud, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (!fn)
        return xt_random_os(getrandom, buf, n);
    if (fn(ud, buf, n) != XT_RANDOM_OK) {
        xt_wipe(buf, n);
        return XT_ENOMEM;
    }
    return 0;
}
