/*
 * The user's terminal (our fd 0) in raw mode while a container's pty is relayed to it (`run -it`
 * in the monitor, `exec -it`), and back as it was afterwards, also at exit.
 */
#include "helper.h"

#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;
static int termios_saved;

void user_terminal_restore(void) {
  if (termios_saved) tcsetattr(0, TCSADRAIN, &saved_termios);
  termios_saved = 0;
}

void user_terminal_make_raw(void) {
  if (termios_saved || !isatty(0) || tcgetattr(0, &saved_termios) < 0) return;
  termios_saved = 1;
  struct termios raw = saved_termios;
  cfmakeraw(&raw);
  tcsetattr(0, TCSADRAIN, &raw);
  static int registered;
  if (!registered++) atexit(user_terminal_restore);
}
