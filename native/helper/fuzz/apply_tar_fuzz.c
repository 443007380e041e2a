/*
 * libFuzzer target for skiff-helper's apply-tar (see docs/FUZZING.md): each input is a layer
 * blob, run through mode_apply_tar() itself, so through everything `skiff-helper apply-tar DIR`
 * does with stdin: the codec sniffing, gzip (ISA-L when libisal.so.2 sits next to this binary,
 * else zlib) and zstd decoding, the diffID hash, the tar parser and its policy, and storage.c
 * applying the entries below a fresh directory on a tmpfs. An input of odd length is applied
 * with --flatten, so the fuzzer reaches both modes by itself.
 *
 * The helper is a one-shot process: it exits on the first refusal (die()) and never frees what
 * it keeps to the end. Here one process runs millions of layers, so:
 *   - die() longjmps back to the harness instead of exiting (this file replaces main.c);
 *   - the helper's sources are compiled into this file, so that after every run the harness
 *     can put their static state back as a fresh process would have it (reset_helper_state),
 *     and free whatever a refused run left allocated (their malloc/free go through a small
 *     tracker below) and close the descriptors it left open;
 *   - the process enters a user namespace first, as rootless skiff does, so a layer's device
 *     nodes are refused by the kernel (and skipped with the helper's note) even when the fuzzer
 *     runs as root.
 * Oracles besides the sanitizers: every refusal is one line, and nothing appears next to the
 * layer directory (a write that escaped it).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <isa-l/igzip_lib.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* ------------------------------------------------------------------------------------------ */
/* Allocation tracker: what a run still holds when it ends is freed before the next one.      */
/* ------------------------------------------------------------------------------------------ */

static void **g_live; /* open addressing; NULL = empty, TOMB = deleted */
static size_t g_live_cap, g_live_n, g_live_used;
#define TOMB ((void *)1)

static size_t live_slot(void *p) { return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull) & (g_live_cap - 1); }

static void live_add(void *p);

static void live_grow(void) {
  void **old = g_live;
  size_t oldcap = g_live_cap;
  g_live_cap = g_live_cap ? g_live_cap * 2 : 1024;
  g_live = calloc(g_live_cap, sizeof *g_live);
  if (!g_live) abort();
  g_live_n = g_live_used = 0;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i] && old[i] != TOMB) live_add(old[i]);
  free(old);
}

static void live_add(void *p) {
  if (!p) return;
  if ((g_live_used + 1) * 2 > g_live_cap) live_grow();
  size_t i = live_slot(p);
  while (g_live[i] && g_live[i] != TOMB) i = (i + 1) & (g_live_cap - 1);
  if (!g_live[i]) g_live_used++;
  g_live[i] = p;
  g_live_n++;
}

static void live_del(void *p) {
  if (!p || !g_live_cap) return;
  for (size_t i = live_slot(p); g_live[i]; i = (i + 1) & (g_live_cap - 1)) {
    if (g_live[i] == p) {
      g_live[i] = TOMB;
      g_live_n--;
      return;
    }
  }
}

static void *fuzz_malloc(size_t n) {
  void *p = malloc(n);
  live_add(p);
  return p;
}

static void *fuzz_calloc(size_t n, size_t m) {
  void *p = calloc(n, m);
  live_add(p);
  return p;
}

static void *fuzz_realloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (q) {
    live_del(p);
    live_add(q);
  }
  return q;
}

static void fuzz_free(void *p) {
  live_del(p);
  free(p);
}

static void live_free_all(void) {
  for (size_t i = 0; i < g_live_cap; i++) {
    if (g_live[i] && g_live[i] != TOMB) free(g_live[i]);
    g_live[i] = NULL;
  }
  g_live_n = g_live_used = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The helper's apply-tar sources, with their allocations tracked                             */
/* ------------------------------------------------------------------------------------------ */

#define malloc(n) fuzz_malloc(n)
#define calloc(n, m) fuzz_calloc(n, m)
#define realloc(p, n) fuzz_realloc(p, n)
#define free(p) fuzz_free(p)
#include "../gunzip.c"
#include "../storage.c"
#include "../untar.c"
#undef malloc
#undef calloc
#undef realloc
#undef free

/* ------------------------------------------------------------------------------------------ */
/* main.c's die() and warnx_(), for a process that must survive a refusal                      */
/* ------------------------------------------------------------------------------------------ */

static jmp_buf g_refused;
static int g_in_run;             /* die() outside a run is the harness's own failure */
static int g_verbose;            /* SKIFF_FUZZ_VERBOSE=1: print the helper's lines */

/* A refusal must be one line: a newline in it (a name from the archive printed raw) would let a
 * hostile layer forge lines in skiff's output. */
static void check_one_line(const char *what, const char *fmt, va_list ap) {
  char msg[65536];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (g_verbose) fprintf(stderr, "skiff-helper: %s\n", msg);
  if (strchr(msg, '\n') || strchr(msg, '\r')) {
    fprintf(stderr, "apply-tar fuzz: %s spans several lines: skiff-helper: %s\n", what, msg);
    abort();
  }
}

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  check_one_line("a refusal", fmt, ap);
  va_end(ap);
  if (!g_in_run) {
    fprintf(stderr, "apply-tar fuzz: the harness itself failed (see the line above)\n");
    abort();
  }
  longjmp(g_refused, 1);
}

void warnx_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  check_one_line("a note", fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------------------------------ */
/* Per-run reset                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Every static of gunzip.c, storage.c (its apply-tar half) and untar.c back to its initial
 * value, after the tracker freed what they pointed to. A static added to those files must be
 * added here too, or runs would leak state into each other. */
static void reset_helper_state(void) {
  /* gunzip.c */
  if (!g_isal_state) inflateEnd(&g_zlib);
  memset(&g_zlib, 0, sizeof g_zlib);
  g_isal_state = NULL;
  /* untar.c */
  if (g_zs) ZSTD_freeDStream(g_zs);
  g_zs = NULL;
  g_in_pos = g_in_len = 0;
  g_in_eof = 0;
  g_out_pos = g_out_len = 0;
  g_codec = PLAIN;
  g_gzip_member_done = 0;
  g_zstd_todo = 1;
  g_blob_fd = -1;
  g_blob_path = NULL;
  g_entry = NULL;
  memset(&g_pax, 0, sizeof g_pax);
  g_long_name = g_long_link = NULL;
  g_long_name_len = g_long_link_len = 0;
  g_file_bytes = 0;
  /* storage.c */
  g_mode = "storage";
  g_f = NULL;
  g_data = NULL;
  g_root = -1;
  g_root_dev = 0;
  g_root_name = NULL;
  g_flatten = 0;
  g_opaque_xattr = "trusted.overlay.opaque";
  memset(&g_written, 0, sizeof g_written);
  g_noted_xattr = g_noted_dev = 0;
  g_dirs = NULL;
  g_ndirs = g_capdirs = 0;
  g_cache_path[0] = '\0';
  g_cache_fd = -1;
  g_cache_setgid = -1;
  g_euid = 0;
  g_egid = 0;
  g_acl_may_mask_modes = 0;
  /* last: the pointers above are dangling until the tracker is emptied */
  live_free_all();
}

/* Descriptors open before a run, so that those a refused run left open can be closed. */
static unsigned char g_fd_was_open[4096];

static void note_open_fds(void) {
  memset(g_fd_was_open, 0, sizeof g_fd_was_open);
  DIR *d = opendir("/proc/self/fd");
  if (!d) abort();
  struct dirent *de;
  while ((de = readdir(d))) {
    int fd = atoi(de->d_name);
    if (de->d_name[0] != '.' && fd != dirfd(d) && (size_t)fd < sizeof g_fd_was_open) g_fd_was_open[fd] = 1;
  }
  closedir(d);
}

static void close_new_fds(void) {
  int fds[4096], n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) abort();
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    int fd = atoi(de->d_name);
    if (fd != dirfd(d) && fd > 2 && (fd >= (int)sizeof g_fd_was_open || !g_fd_was_open[fd]) && n < 4096) fds[n++] = fd;
  }
  closedir(d);
  for (int i = 0; i < n; i++) close(fds[i]);
}

/* ------------------------------------------------------------------------------------------ */
/* Set-up and one run                                                                         */
/* ------------------------------------------------------------------------------------------ */

static char g_scratch[PATH_MAX]; /* a private directory on a tmpfs; each run's DIR is in it */
static char g_dir[PATH_MAX];     /* g_scratch/layer */
static int g_input = -1;         /* memfd that becomes stdin */

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
    fprintf(stderr, "apply-tar fuzz: %s: %s\n", path, strerror(errno));
    abort();
  }
  close(fd);
}

/* Root in a user namespace of its own (only the caller's IDs mapped), as rootless skiff runs
 * the helper: no real device nodes, and the chown fallbacks of an unmapped ID get exercised. */
static void enter_userns(void) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER) < 0) {
    fprintf(stderr, "apply-tar fuzz: cannot create a user namespace: %s (unprivileged user namespaces are needed)\n",
            strerror(errno));
    abort();
  }
  char buf[64];
  write_file("/proc/self/setgroups", "deny");
  snprintf(buf, sizeof buf, "0 %u 1\n", (unsigned)gid);
  write_file("/proc/self/gid_map", buf);
  snprintf(buf, sizeof buf, "0 %u 1\n", (unsigned)uid);
  write_file("/proc/self/uid_map", buf);
}

static void remove_scratch(void) {
  if (!g_scratch[0]) return;
  int pfd = open(g_scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (pfd >= 0 && fstat(pfd, &st) == 0) {
    g_in_run = 1;
    if (!setjmp(g_refused)) {
      rm_tree(pfd, "layer", g_dir, st.st_dev);
    } else {
      fprintf(stderr, "apply-tar fuzz: cannot empty %s\n", g_dir);
      abort();
    }
    g_in_run = 0;
    close(pfd);
  }
}

static void remove_scratch_at_exit(void) {
  remove_scratch();
  rmdir(g_scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  g_verbose = getenv("SKIFF_FUZZ_VERBOSE") && !strcmp(getenv("SKIFF_FUZZ_VERBOSE"), "1");
  enter_userns();
  const char *base = getenv("SKIFF_FUZZ_TMPDIR");
  if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(g_scratch, sizeof g_scratch, "%s/skiff-fuzz-XXXXXX", base);
  if (!mkdtemp(g_scratch)) {
    fprintf(stderr, "apply-tar fuzz: mkdtemp in %s: %s\n", base, strerror(errno));
    abort();
  }
  snprintf(g_dir, sizeof g_dir, "%s/layer", g_scratch);
  atexit(remove_scratch_at_exit);
  g_input = memfd_create("layer", MFD_CLOEXEC);
  if (g_input < 0) abort();
  /* the digest line mode_apply_tar prints on success: not wanted thousands of times a second */
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, 1) < 0) abort();
  close(null);
  return 0;
}

/* After a run, only g_dir may be in the scratch directory: anything else escaped DIR. */
static void check_nothing_escaped(void) {
  DIR *d = opendir(g_scratch);
  if (!d) abort();
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "layer")) continue;
    fprintf(stderr, "apply-tar fuzz: a layer wrote %s/%s, outside its directory\n", g_scratch, de->d_name);
    abort();
  }
  closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ftruncate(g_input, 0) < 0 || pwrite(g_input, data, size, 0) != (ssize_t)size || lseek(g_input, 0, SEEK_SET) < 0 ||
      dup2(g_input, 0) < 0)
    abort();
  if (mkdir(g_dir, 0755) < 0) abort();
  note_open_fds();

  char *argv[] = {"apply-tar", "--opaque-xattr", "user.overlay.opaque", g_dir, NULL, NULL};
  int argc = 4;
  if (size % 2) {
    argv[4] = argv[3];
    argv[3] = argv[2];
    argv[2] = argv[1];
    argv[1] = "--flatten";
    argc = 5;
  }
  g_in_run = 1;
  if (!setjmp(g_refused)) mode_apply_tar(argc, argv);
  g_in_run = 0;

  reset_helper_state();
  close_new_fds();
  check_nothing_escaped();
  remove_scratch();
  return 0;
}
