/*
 * `xtalk chat` in a build without the terminal UI (meson -Dtui=false, no
 * ncursesw): the command exists, so `xtalk chat` says why it cannot run
 * instead of "unknown command".
 */
#include "../commands.h"
#include "../report.h"

int xt_cli_cmd_chat(const xt_cli_args *a)
{
    (void)a;
    xt_cli_errorf("chat: this xtalk was built without the terminal interface "
                  "(meson -Dtui=false); the other commands work");
    return XT_CLI_EXIT_ERROR;
}
