import type { ImageRecord } from '../image/store';
import { layerDiffDir, recordedDriver } from '../storage/layout';
import { SkiffError } from '../util/errors';
import { NIL_MAP, NIL_SLICE, goJson, goStruct, parseTemplate } from '../util/go-template';
import type { Engine } from './context';
import { familiarRef } from './tag';

/** The parts of an image config that inspect shows beyond skiff's own ImageConfig type. */
interface FullConfig {
  created?: string; author?: string; comment?: string; docker_version?: string;
  architecture?: string; variant?: string; os?: string; 'os.version'?: string;
  config?: Record<string, unknown>;
  rootfs?: { type: string; diff_ids: string[] };
  history?: unknown[];
}

const orNilSlice = (v: unknown) => (Array.isArray(v) ? v : NIL_SLICE);
const orNilMap = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? v : NIL_MAP);

/**
 * Docker's container.Config as `docker image inspect` prints it (field order and omitempty as
 * the Go struct): absent lists and maps are null, unset strings "".
 */
export function inspectConfig(c: Record<string, unknown> = {}): object {
  const str = (k: string) => (typeof c[k] === 'string' ? c[k] : '');
  const out: Record<string, unknown> = {
    Hostname: str('Hostname'), Domainname: str('Domainname'), User: str('User'),
    AttachStdin: false, AttachStdout: false, AttachStderr: false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
  Object.assign(out, { Tty: false, OpenStdin: false, StdinOnce: false, Env: orNilSlice(c.Env), Cmd: orNilSlice(c.Cmd) });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: str('Image'), Volumes: orNilMap(c.Volumes), WorkingDir: str('WorkingDir'), Entrypoint: orNilSlice(c.Entrypoint),
    OnBuild: orNilSlice(c.OnBuild), Labels: orNilMap(c.Labels),
  });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (typeof c.StopTimeout === 'number') out.StopTimeout = c.StopTimeout;
  if (Array.isArray(c.Shell) && c.Shell.length) out.Shell = c.Shell;
  return goStruct(out, '*container.Config');
}

export interface StorageInfo {
  driver: string;
  /** bottom-to-top diff directories of the image's layers (overlay drivers) */
  layerDirs: string[];
}

/** One image as Docker's /images/{name}/json: the object `image inspect` prints. */
export function imageInspect(image: ImageRecord, storage: StorageInfo): object {
  const cfg = image.config as FullConfig;
  const out: Record<string, unknown> = {
    Id: image.id,
    RepoTags: image.repoTags.map(familiarRef),
    RepoDigests: image.repoDigests.map(familiarRef),
    Parent: '',
    // as Docker's containerd store: the last history entry's comment (the config's own, else)
    Comment: (cfg.history?.at(-1) as { comment?: string } | undefined)?.comment ?? cfg.comment ?? '',
  };
  if (cfg.created) out.Created = cfg.created;
  Object.assign(out, {
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: inspectConfig(cfg.config ?? {}),
    Architecture: cfg.architecture ?? '',
  });
  if (cfg.variant) out.Variant = cfg.variant;
  out.Os = cfg.os ?? '';
  if (cfg['os.version']) out.OsVersion = cfg['os.version'];
  Object.assign(out, {
    Size: image.size,
    GraphDriver: goStruct({ Data: graphDriverData(storage), Name: storage.driver }, 'storage.DriverData'),
    RootFS: goStruct({ Type: cfg.rootfs?.type ?? 'layers', Layers: cfg.rootfs?.diff_ids ?? image.chainIds.slice(0, 1) }, 'image.RootFS'),
    Metadata: goStruct({ LastTagTime: image.repoTags.length ? image.loadedAt : '0001-01-01T00:00:00Z' }, 'image.Metadata'),
  });
  return goStruct(out, 'image.InspectResponse', { ID: 'Id' });
}

/** Docker's overlay2 shows the top layer as UpperDir and the others as LowerDir (top first). */
function graphDriverData(storage: StorageInfo): unknown {
  if (storage.driver === 'vfs' || storage.layerDirs.length === 0) return NIL_MAP;
  const dirs = [...storage.layerDirs].reverse();
  const data: Record<string, string> = { UpperDir: dirs[0] };
  if (dirs.length > 1) data.LowerDir = dirs.slice(1).join(':');
  return data;
}

/** Where the image's layers are and which driver unpacked them, without probing anything. */
export function storageInfo(engine: Engine, image: ImageRecord): StorageInfo {
  const dataRoot = engine.paths.dataRoot;
  return {
    driver: recordedDriver(dataRoot) ?? '',
    layerDirs: image.chainIds.map((c) => layerDiffDir(dataRoot, c)),
  };
}

export interface InspectResult { stdout: string; errors: string[] }

/**
 * `image inspect NAME...`: the found images as an indented JSON array (or each through the Go
 * template), and one error per name not found, as Docker goes on past missing ones.
 * `notFound` words the error (Docker's generic `inspect` says "No such object").
 */
export function inspectImages(engine: Engine, names: string[], format?: string,
  notFound = (n: string) => `No such image: ${n}`): InspectResult {
  if (format && format !== 'json') parseTemplateForInspect(format); // a bad template fails before any lookup
  const found: object[] = [];
  const errors: string[] = [];
  for (const name of names) {
    let image: ImageRecord | undefined;
    try {
      image = engine.images.find(name);
    } catch (e) {
      errors.push((e as Error).message);
      continue;
    }
    if (!image) { errors.push(notFound(name)); continue; }
    found.push(imageInspect(image, storageInfo(engine, image)));
  }
  return renderInspect(found, errors, format);
}

/** The found objects as Docker prints them: an indented JSON array, or each through the template. */
export function renderInspect(found: object[], errors: string[], format?: string): InspectResult {
  const tmpl = format && format !== 'json' ? parseTemplateForInspect(format) : undefined;
  if (tmpl) {
    let stdout = '';
    for (const o of found) {
      try {
        stdout += `${tmpl.execute(o)}\n`;
      } catch (e) {
        errors.push(`template parsing error: ${(e as Error).message}`);
      }
    }
    return { stdout, errors };
  }
  return { stdout: `${goJson(found, { indent: '    ', escapeHtml: true })}\n`, errors };
}

function parseTemplateForInspect(format: string) {
  try {
    return parseTemplate(format);
  } catch (e) {
    throw new SkiffError(`template parsing error: ${(e as Error).message}`, 1);
  }
}
