import fs from 'node:fs';
import path from 'node:path';
import { BlobStore } from '../image/blob-store';
import { setDefaultRegistry } from '../image/reference';
import { loadRegistryConfig, parseDefaultRegistry, type RegistrySettings } from '../image/registry/registry-config';
import { ImageStore } from '../image/store';
import { readUserJson } from '../util/user-json';
import type { DriverName } from '../storage/driver';
import type { LayerStore } from '../storage/layer-store';
import { planUserNamespace } from '../runtime/userns';
import type { UserNamespacePlan } from '../native/helper-namespace';
import { ensureRunRoot, skiffPaths, type SkiffPaths } from '../util/paths';
import { ContainerStore } from './container-store';

/** Options every command accepts (parsed before the command itself, see src/main.ts). */
export interface GlobalOptions {
  root?: string;
  runroot?: string;
  storageDriver?: string;
}

/** $configRoot/config.json */
export interface SkiffConfig {
  storageDriver?: string;
  /** the default network's helper, pasta or slirp4netns (Podman's default_rootless_network_cmd; also used rootful) */
  defaultRootlessNetworkCmd?: string;
  /** blobs larger than this are pushed in PATCH chunks of this many bytes (default 32 MiB) */
  pushChunkSize?: number;
}

/**
 * Everything a command needs, computed lazily: a read-only command (ps, images) never plans
 * the user namespace, probes storage or loads the addon.
 */
export class Engine {
  readonly paths: SkiffPaths;
  readonly images: ImageStore;
  readonly containers: ContainerStore;
  readonly blobs: BlobStore;
  private registrySettings?: RegistrySettings;
  private readonly rawConfig: unknown;
  private usernsPlan?: UserNamespacePlan | null;
  private driverName?: DriverName;
  private stagingPruned = false;

  constructor(readonly opts: GlobalOptions = {}) {
    this.paths = skiffPaths(opts);
    this.blobs = new BlobStore(this.paths.dataRoot);
    this.images = new ImageStore(this.paths.dataRoot, this.blobs);
    this.containers = new ContainerStore(this.paths.dataRoot);
    this.rawConfig = readUserJson(this.configFile) ?? {};
    // Before any reference is parsed: short names go to the configured registry.
    setDefaultRegistry(parseDefaultRegistry(this.rawConfig, this.configFile));
  }

  get configFile(): string { return path.join(this.paths.configRoot, 'config.json'); }

  /** $configRoot/config.json as read once at start (skiff's own keys; registries below) */
  get config(): SkiffConfig {
    return typeof this.rawConfig === 'object' && this.rawConfig !== null ? this.rawConfig as SkiffConfig : {};
  }

  /**
   * The registry keys of config.json, checked when first needed (pull, push, login): their
   * parse (CIDRs) is not worth paying on `run` or `ps`.
   */
  get registries(): RegistrySettings {
    return (this.registrySettings ??= loadRegistryConfig(this.paths, this.rawConfig));
  }

  /** The user namespace to enter for storage and containers; undefined when rootful. */
  get userns(): UserNamespacePlan | undefined {
    if (this.usernsPlan === undefined) {
      this.usernsPlan = this.paths.rootless ? planUserNamespace() : null;
      if (this.usernsPlan?.subordinate) {
        ensureRunRoot(this.paths.runRoot);
        this.usernsPlan.pauseFile = path.join(this.paths.runRoot, 'pause.pid');
      }
    }
    return this.usernsPlan ?? undefined;
  }

  /** Create the store's top directories (private to the user). */
  ensureDirs(): void {
    fs.mkdirSync(this.paths.dataRoot, { recursive: true, mode: 0o700 });
    ensureRunRoot(this.paths.runRoot);
  }

  async driver(): Promise<DriverName> {
    if (!this.driverName) {
      this.ensureDirs();
      const requested = this.opts.storageDriver ?? process.env.SKIFF_STORAGE_DRIVER ?? this.config.storageDriver;
      // Loaded on demand: storage pulls in child_process, zlib and tar-stream, which read-only
      // commands never need (start-up time is the budget here).
      const { resolveDriver } = await import('../storage/driver');
      this.driverName = await resolveDriver(this.paths.dataRoot, this.userns, requested);
    }
    return this.driverName;
  }

  async layers(): Promise<LayerStore> {
    const { LayerStore } = await import('../storage/layer-store');
    const store = new LayerStore(this.paths.dataRoot, await this.driver(), this.userns);
    if (!this.stagingPruned) {
      // once per process: what a killed pull, load or import left in tmp/ (one readdir if none)
      this.stagingPruned = true;
      await store.pruneStaging();
    }
    return store;
  }
}
