// The user namespace as skiff-helper takes it (native/PROTOCOL.md: --uidmap, --gidmap, --newuidmap,
// --newgidmap, --pause). Here, below storage and runtime, because both start helpers in it;
// runtime/userns.ts plans it from /etc/subuid and /etc/subgid.

/** One line of a UID/GID map: container ID, host ID, count. */
export interface IdRange { container: number; host: number; size: number }

export interface UserNamespacePlan {
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** false when the user has no subordinate range and only their own ID is mapped */
  subordinate: boolean;
  newuidmap?: string;
  newgidmap?: string;
  /** pid file of the pause process that keeps the namespace (and saves newuidmap runs) */
  pauseFile?: string;
}

export function formatIdMap(map: IdRange[]): string {
  return map.map((r) => `${r.container}:${r.host}:${r.size}`).join(',');
}

/** The namespace options for skiff-helper (native/PROTOCOL.md); none when rootful. */
export function helperNamespaceArgs(plan: UserNamespacePlan | undefined): string[] {
  if (!plan) return [];
  const args = ['--uidmap', formatIdMap(plan.uidMap), '--gidmap', formatIdMap(plan.gidMap)];
  if (plan.newuidmap) args.push('--newuidmap', plan.newuidmap);
  if (plan.newgidmap) args.push('--newgidmap', plan.newgidmap);
  if (plan.pauseFile) args.push('--pause', plan.pauseFile);
  return args;
}
