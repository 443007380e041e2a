/* Applying one layer's entries below its directory (storage.c), fed by the tar reader (untar.c).
 * The reader decides what an entry is and whether it is allowed; storage.c only makes it so,
 * resolving every path inside the layer root. */
#ifndef SKIFF_LAYER_H
#define SKIFF_LAYER_H

#include <stddef.h>
#include <stdint.h>

#define MAX_PATH_LEN 4096
#define MAX_ARG_LEN 65536

enum {
  OP_MKDIR = 1,    /* directory (or fix mode/owner if one is there) */
  OP_FILE = 2,     /* regular file with data_len bytes of data (replaces what is there) */
  OP_SYMLINK = 3,  /* arg = link target */
  OP_HARDLINK = 4, /* arg = existing path, relative to the root */
  OP_WHITEOUT = 5, /* hide path: overlay char dev 0:0; flattened: remove it */
  OP_OPAQUE = 6,   /* dir path is opaque: set the opaque xattr; flattened: empty it */
  OP_XATTR = 7,    /* arg = name NUL value (arg_len bytes) */
  OP_DEVICE = 8,   /* mode carries S_IFCHR/S_IFBLK/S_IFIFO; skipped with a note if not permitted */
};

struct layer_op {
  uint32_t op, mode, uid, gid;
  int64_t mtime;
  char path[MAX_PATH_LEN + 1]; /* relative, normalised, "" = the root */
  char arg[MAX_ARG_LEN + 1];   /* NUL-terminated (an XATTR arg also has a NUL inside) */
  size_t arg_len;
  uint64_t data_len;           /* OP_FILE */
  unsigned devmajor, devminor; /* OP_DEVICE */
};

/* Copies the current entry's N bytes of file data to FD (PATH names it in errors). */
typedef void (*layer_data_fn)(int fd, uint64_t n, const char *path);

void layer_open(const char *dir, int flatten, const char *opaque_xattr);
/* cp's rule (Docker's NoOverwriteDirNonDir): an entry never replaces a directory by a
 * non-directory or a non-directory by a directory; the copy fails instead. */
void layer_keep_dirs(void);
void layer_apply(const struct layer_op *op, layer_data_fn data);
/* Directory mtimes (adding entries changed them), then syncfs. */
void layer_finish(void);
/* --merge (call after layer_open): DIR already holds earlier layers in overlay format; whiteouts
 * replace what they name, an opaque directory also loses what the earlier layers put in it. */
void layer_merge(void);
/* layer_finish without its syncfs: the caller syncs later (build: tar-out --to syncs the step). */
void layer_no_sync(void);

#endif
