/* --userns=keep-id: the container's own user namespace nested in the monitor's (keep_id.c). */
#ifndef SKIFF_KEEP_ID_H
#define SKIFF_KEEP_ID_H

#include <sys/types.h>

struct nested_userns {
  const char *uid_map, *gid_map; /* "INSIDE:OUTSIDE:COUNT,..." in the monitor's IDs; NULL: none */
};

/* 1 when KEY is the `userns-map` record (stored in N), else 0. */
int nested_userns_parse_key(struct nested_userns *n, const char *key, int nf, char **f);

/* CLONE_NEWUSER when the container gets a nested user namespace, else 0. */
int nested_userns_clone_flag(const struct nested_userns *n);

/* Monitor side, right after the clone: write CHILD's maps, then release it through SYNC_FD.
 * 0, or -1 with a message in MSG (the child is then left waiting: the caller kills it). */
int nested_userns_map(const struct nested_userns *n, pid_t child, int sync_fd, char *msg, size_t len);

/* Container side, first thing: wait for the maps, become root (0:0) of the new namespace and
 * bind ROOTFS onto itself (pivot_root refuses the locked mount the outer namespace made).
 * 0, or -1 with a message in MSG. */
int nested_userns_enter(const struct nested_userns *n, int sync_fd, const char *rootfs, char *msg, size_t len);

#endif
