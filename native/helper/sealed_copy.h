/*
 * A copy of a file in a memfd sealed against every change (write, grow, shrink, more seals):
 * what a container may see as /proc/self/exe instead of the host's skiff-helper (see
 * sealed_exe.c). Header-only so that the addon, which spawns the monitor straight from such a
 * copy, and the helper, which re-executes itself from one when it was not, share it.
 */
#ifndef SKIFF_SEALED_COPY_H
#define SKIFF_SEALED_COPY_H

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: say the memfd will be executed (vm.memfd_noexec) */
#endif

#define SKIFF_SEALS_ALL (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Does FD carry all our seals? A file on a disk has none (F_GET_SEALS fails), and a tmpfs file
 * carries F_SEAL_SEAL alone, so this cannot be faked by where the helper is installed. */
static inline int skiff_is_sealed_copy(int fd) {
  int seals = fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & SKIFF_SEALS_ALL) == SKIFF_SEALS_ALL;
}

/* A sealed, close-on-exec memfd holding all of the file open on SRC; -1 with errno set on
 * failure (*what then names the step that failed). */
static inline int skiff_sealed_copy(int src, const char **what) {
  struct stat st;
  *what = "fstat";
  if (fstat(src, &st) < 0) return -1;
  *what = "memfd_create";
  int fd = memfd_create("skiff-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) /* before 6.3 MFD_EXEC is unknown, and every memfd executable */
    fd = memfd_create("skiff-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  *what = "sendfile";
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = sendfile(fd, src, NULL, (size_t)left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO; /* EIO: the file shrank under us */
      close(fd);
      errno = e;
      return -1;
    }
    left -= n;
  }
  *what = "F_ADD_SEALS";
  if (fcntl(fd, F_ADD_SEALS, SKIFF_SEALS_ALL) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

#endif
