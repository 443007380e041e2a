/* The tar writer (tarwrite.c): cp out, export and commit's layer tar. */
#ifndef SKIFF_TARWRITE_H
#define SKIFF_TARWRITE_H

#include <stdint.h>

#define MAX_TAR_PATH 4096

struct tar_writer {
  int fd;        /* where the stream goes */
  int whiteouts; /* overlay upper dir: char 0:0 -> .wh.NAME, opaque dir -> DIR/.wh..wh..opq */
  int owner_set; /* every entry owned by uid:gid instead of the file's */
  uint32_t uid, gid;
  char **exclude; /* archive names left out (with everything below them), NULL-terminated */
};

/* Write the entry that O_PATH fd PFD refers to (a directory with everything below it) as
 * ARCNAME; ARCNAME "" writes only a directory's children. Never follows a symlink. */
void tw_entry(struct tar_writer *tw, int pfd, const char *arcname);
/* The end-of-archive blocks. */
void tw_finish(struct tar_writer *tw);

#endif
