/* Volumes and --read-only in the container init (volume_mount.c); the records are in PROTOCOL.md. */
#ifndef SKIFF_VOLUME_MOUNT_H
#define SKIFF_VOLUME_MOUNT_H

#include <sys/types.h>

#define VOLUME_MAX 64

struct volume_prep {
  const char *copy_src[VOLUME_MAX], *copy_dst[VOLUME_MAX]; /* copy-up SRC DST */
  int ncopy;
  const char *chown_path[VOLUME_MAX]; /* chown PATH UID GID (:U) */
  uid_t chown_uid[VOLUME_MAX];
  gid_t chown_gid[VOLUME_MAX];
  int nchown;
  int rootfs_ro; /* rootfs-ro 1 (--read-only) */
};

/* 1 when KEY is one of volume_mount.c's records (and it was stored in V), else 0. */
int volume_parse_key(struct volume_prep *v, const char *key, int nf, char **f);

/* Before the mounts: fill empty volumes from the image (copy-up), then chown (:U). ROOTFD is
 * the container's root; NULL, or a message saying what failed. */
const char *volume_prepare(const struct volume_prep *v, int rootfd);

/* The mount point DST (absolute) inside the root as an O_PATH fd, made (a directory, or an
 * empty file with IS_FILE) where missing, resolved in the root (RESOLVE_IN_ROOT) at every step:
 * a dangling symlink on the way is followed inside the root and its target made, as runc's
 * securejoin does. -1 with a message in *ERR. */
int volume_mount_target(int rootfd, const char *dst, int is_file, const char **err);

/* After every mount under the root: make the root itself read-only (--read-only). */
const char *volume_finish(const struct volume_prep *v, int rootfd);

#endif
