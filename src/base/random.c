/* Random bytes; see random.h. */
#include "base/random.h"

#include <openssl/rand.h>

#include "base/mem.h"

int xt_random_bytes(xt_random_fn fn, void *ud, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    int ok = fn ? fn(ud, buf, n) == XT_RANDOM_OK : RAND_bytes(buf, (int)n) == 1;
    if (!ok) {
        xt_wipe(buf, n);
        return XT_ENOMEM;
    }
    return 0;
}
