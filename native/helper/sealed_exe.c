/*
 * Keep the host's skiff-helper file out of the container's reach (the CVE-2019-5736 class).
 *
 * The container's init is a clone of the monitor, so until it execs the container's command
 * its /proc/self/exe is this program's file. An entrypoint of /proc/self/exe (or a
 * `#!/proc/self/exe` script) makes the kernel exec that file inside the container, where the
 * image's ld.so, libc and LD_PRELOAD run with /proc/self/exe naming the host file; container
 * root is its owner (rootless: the user's own file under ~/.cache/skiff) and could chmod it, or
 * hold it with O_PATH and rewrite it once nothing executes it any more, so that the next skiff
 * command runs the container's code on the host.
 *
 * So, as runc and crun do, a mode that runs a container runs from a copy in a memfd sealed
 * against every change (sealed_copy.h). Inside the container /proc/self/exe then names that
 * private copy: nothing written to it or done to it reaches a file on the host. Node's addon
 * spawns the monitor straight from such a copy (one sendfile of ~400 KB); started any other way,
 * the helper re-executes itself from one here, which costs one more execve and dynamic link.
 *
 * "Already running from a copy" is read from the seals of /proc/self/exe, not from an
 * environment variable that anyone could set.
 */
#include "helper.h"
#include "sealed_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

void run_from_sealed_copy(char **argv) {
  int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0) die("cannot open /proc/self/exe: %s", strerror(errno));
  if (skiff_is_sealed_copy(exe)) {
    close(exe);
    /* Executed from an fd, the process is named after it ("memfd:skiff-hel", or "19" when
     * spawned as /proc/self/fd/19): give ps, top and pkill the helper's name back. */
    prctl(PR_SET_NAME, "skiff-helper", 0, 0, 0);
    return;
  }
  const char *what;
  int copy = skiff_sealed_copy(exe, &what);
  if (copy < 0) die("cannot make a sealed copy of the helper (%s): %s", what, strerror(errno));
  close(exe);
  fexecve(copy, argv, environ);
  die("cannot execute the helper's sealed copy: %s", strerror(errno));
}
