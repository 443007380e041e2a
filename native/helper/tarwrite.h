/* The tar writer (tarwrite.c): cp out, export and commit's layer tar. */
#ifndef SKIFF_TARWRITE_H
#define SKIFF_TARWRITE_H

#include <stddef.h>
#include <stdint.h>

#define MAX_TAR_PATH 4096

struct tar_writer {
  int fd;        /* where the stream goes */
  int whiteouts; /* overlay upper dir: char 0:0 -> .wh.NAME, opaque dir -> DIR/.wh..wh..opq */
  int owner_set; /* every entry owned by uid:gid instead of the file's */
  uint32_t uid, gid;
  char **exclude; /* archive names left out (with everything below them), NULL-terminated */
  int digest;     /* keep the stream's sha256 and sizes for tw_digest_line (build's layers) */
  uint64_t bytes, file_bytes; /* the stream's length, and its regular files' data */
};

/* Write the entry that O_PATH fd PFD refers to (a directory with everything below it) as
 * ARCNAME; ARCNAME "" writes only a directory's children. Never follows a symlink. */
void tw_entry(struct tar_writer *tw, int pfd, const char *arcname);
/* The end-of-archive blocks. */
void tw_finish(struct tar_writer *tw);
/* After tw_finish, with tw->digest: "sha256:HEX STREAM_BYTES FILE_BYTES\n" into LINE. */
void tw_digest_line(struct tar_writer *tw, char *line, size_t len);

#endif
