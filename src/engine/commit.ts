import path from 'node:path';
import fs from 'node:fs';
import { applyChanges, type ChangeConfig } from '../image/dockerfile-changes';
import { canonicalString } from '../image/reference';
import { SkiffError } from '../util/errors';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { RUNTIME_MOUNT_POINTS } from './container-fs';
import { usingLayers } from './layers-in-use';
import { pauseForCommit } from './pause';
import { tagTarget } from './tag';
import { storeUpperLayer } from './upper-layer';

export interface CommitOptions {
  container: string;
  reference?: string;
  changes: string[];
  message?: string;
  author?: string;
  /** -p/--pause (default true): freeze a running container while its layer is read */
  pause?: boolean;
}

/** The container's own config, as Docker's commit starts from it (then the -c changes). */
function containerConfig(c: ContainerRecord, image: ChangeConfig): ChangeConfig {
  const cfg = c.config;
  const out: ChangeConfig = { ...image, Env: cfg.env };
  if (cfg.userSpec) out.User = cfg.userSpec;
  if (cfg.workingDir !== undefined) {
    if (cfg.workingDir) out.WorkingDir = cfg.workingDir; else delete out.WorkingDir;
    if (cfg.entrypoint) out.Entrypoint = cfg.entrypoint; else delete out.Entrypoint;
    if (cfg.cmd) out.Cmd = cfg.cmd; else delete out.Cmd;
  } else {
    out.Cmd = [c.path, ...c.args];
    delete out.Entrypoint;
  }
  const labels = (cfg as { labels?: Record<string, string> }).labels;
  if (labels && Object.keys(labels).length) out.Labels = { ...(image.Labels ?? {}), ...labels };
  return out;
}

/**
 * `commit CONTAINER [REPO[:TAG]]`: the container's writable layer becomes a new top layer over
 * its image's (writeUpperLayer, the same step build uses), with a config made of the container's
 * and the -c changes, recorded through ImageStore.commit. Returns the new image ID.
 */
export function commitContainer(engine: Engine, o: CommitOptions): Promise<string> {
  return usingLayers(engine, () => commitNow(engine, o));
}

async function commitNow(engine: Engine, o: CommitOptions): Promise<string> {
  const tag = o.reference ? canonicalString(tagTarget(o.reference)) : undefined;
  const c = engine.containers.mustFind(o.container);
  if (c.storage.driver === 'vfs') throw new SkiffError(`commit: container ${c.name} uses the vfs storage driver, which keeps no separate writable layer to commit`, 1);
  const base = engine.images.get(c.imageId);
  if (!base) throw new SkiffError(`commit: the image of container ${c.name} (${c.imageId}) is gone`, 1);
  const baseLayers = base.layers;
  if (!baseLayers) throw new SkiffError(`commit: the image of container ${c.name} was stored before skiff kept layer blobs; pull or load it again`, 1);
  const baseFull = base.config as unknown as { architecture?: string; os?: string; variant?: string; config?: ChangeConfig;
    rootfs?: { diff_ids: string[] }; history?: object[] };
  const config = applyChanges(containerConfig(c, baseFull.config ?? {}), o.changes);

  engine.ensureDirs();
  const layers = await engine.layers();
  const staging = layers.tempDir('commit');
  try {
    const upper = path.join(engine.containers.dir(c.id), 'upper');
    const thaw = o.pause === false ? undefined : await pauseForCommit(engine, c);
    let top: Awaited<ReturnType<typeof storeUpperLayer>>;
    try {
      top = await storeUpperLayer(engine, layers, upper, staging, baseFull.rootfs?.diff_ids ?? [], RUNTIME_MOUNT_POINTS);
    } finally {
      await thaw?.();
    }
    const diffIds = [...(baseFull.rootfs?.diff_ids ?? []), top.descriptor.diffId];
    const created = new Date().toISOString();
    const history = [...(baseFull.history ?? []), {
      created, ...(o.author ? { author: o.author } : {}), ...(o.message ? { comment: o.message } : {}),
    }];
    const bytes = Buffer.from(JSON.stringify({
      created,
      ...(o.author ? { author: o.author } : {}),
      architecture: baseFull.architecture,
      os: baseFull.os,
      ...(baseFull.variant ? { variant: baseFull.variant } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    }));
    const image = await engine.images.commit({
      source: 'import',
      configBytes: bytes,
      layers: [...baseLayers, top.descriptor],
      size: base.size + top.size,
      tags: tag ? [tag] : [],
      recordedAt: created,
    });
    return image.id;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
