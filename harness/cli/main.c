/* vmstress - placeholder until the command line lands. */
#include <stdio.h>
int main(void)
{
    fputs("vmstress: not built yet\n", stderr);
    return 2;
}
