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
 * So, as runc and crun do, a mode that runs a container first re-executes itself from a copy in
 * a memfd sealed against every change (write, grow, shrink, and further seal changes). Inside
 * the container /proc/self/exe then names that private copy: nothing written to it or done to
 * it reaches a file on the host. The copy costs one sendfile of the helper (~400 KB) and one
 * more execve, well under a millisecond.
 *
 * "Already running from the copy" is read from the seals of /proc/self/exe, not from an
 * environment variable that anyone could set: a file on a disk has no seals (F_GET_SEALS fails),
 * and a tmpfs file carries F_SEAL_SEAL alone, never F_SEAL_WRITE.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: say the memfd will be executed (vm.memfd_noexec) */
#endif

#define SEALS_ALL (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static int is_sealed_copy(int fd) {
  int seals = fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS_ALL) == SEALS_ALL;
}

static int new_memfd(void) {
  int fd = memfd_create("skiff-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) /* before 6.3 MFD_EXEC is unknown, and every memfd executable */
    fd = memfd_create("skiff-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  return fd;
}

void run_from_sealed_copy(char **argv) {
  int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0) die("cannot open /proc/self/exe: %s", strerror(errno));
  if (is_sealed_copy(exe)) {
    close(exe);
    /* fexecve named the process after the fd ("3"); give ps and top the helper's name back. */
    prctl(PR_SET_NAME, "skiff-helper", 0, 0, 0);
    return;
  }
  struct stat st;
  if (fstat(exe, &st) < 0) die("cannot stat /proc/self/exe: %s", strerror(errno));
  int copy = new_memfd();
  if (copy < 0) die("cannot create a memfd for a sealed copy of the helper: %s", strerror(errno));
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = sendfile(copy, exe, NULL, (size_t)left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("cannot copy the helper into a memfd: %s", n < 0 ? strerror(errno) : "short read");
    left -= n;
  }
  close(exe);
  if (fcntl(copy, F_ADD_SEALS, SEALS_ALL) < 0) die("cannot seal the helper's memfd copy: %s", strerror(errno));
  fexecve(copy, argv, environ);
  die("cannot execute the helper's sealed copy: %s", strerror(errno));
}
