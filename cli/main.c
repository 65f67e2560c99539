#include <stdio.h>
#include "xtalk/xtalk.h"
int main(void)
{
    printf("xtalk %s\n", xt_version());
    return 0;
}
