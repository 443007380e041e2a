/**
 * Docker's command tree, as far as skiff mirrors it: which top-level verbs also live under a
 * management noun (`docker rm` = `docker container rm` = `docker container remove`), what each
 * noun is called in help, and which commands Docker lists first. Kept as data so that a verb
 * added to skiff gets its `container`/`image`/`system` spellings without each command listing
 * them (index.ts adds them at registration).
 */

const CONTAINER_VERBS = ['attach', 'commit', 'cp', 'create', 'diff', 'exec', 'export', 'kill', 'logs', 'pause', 'port',
  'rename', 'restart', 'rm', 'run', 'start', 'stats', 'stop', 'top', 'unpause', 'update', 'wait'];
const IMAGE_VERBS = ['build', 'history', 'import', 'load', 'pull', 'push', 'save', 'tag'];
const SYSTEM_VERBS = ['events', 'info'];

/** Top-level verb -> its spellings under a noun, in Docker's order ("Aliases:" of `docker VERB --help`). */
export const NOUN_FORMS: ReadonlyMap<string, readonly (readonly string[])[]> = new Map<string, string[][]>([
  ...CONTAINER_VERBS.map((v): [string, string[][]] => [v, [['container', v]]]),
  ...IMAGE_VERBS.map((v): [string, string[][]] => [v, [['image', v]]]),
  ...SYSTEM_VERBS.map((v): [string, string[][]] => [v, [['system', v]]]),
  ['ps', [['container', 'ls'], ['container', 'list'], ['container', 'ps']]],
  ['rm', [['container', 'rm'], ['container', 'remove']]],
  ['images', [['image', 'ls'], ['image', 'list']]],
  ['rmi', [['image', 'rm'], ['image', 'remove']]],
]);

/** PATHS plus the noun spellings Docker has for its top-level verbs that PATHS lacks. */
export function withNounForms(paths: readonly (readonly string[])[]): string[][] {
  const out = paths.map((p) => [...p]);
  const seen = new Set(out.map((p) => p.join(' ')));
  for (const p of paths) {
    if (p.length !== 1) continue;
    for (const form of NOUN_FORMS.get(p[0]) ?? []) {
      if (!seen.has(form.join(' '))) {
        out.push([...form]);
        seen.add(form.join(' '));
      }
    }
  }
  return out;
}

/** One-line descriptions of management nouns (Docker's words; "skiff" becomes the program name). */
export const NOUN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  builder: 'Manage builds',
  // Docker lists its plugin as "Docker Buildx"; skiff's `buildx build` is its own build
  buildx: 'Build images the way "docker buildx build" does (skiff\'s own builder)',
  container: 'Manage containers',
  generate: 'Generate structured data (systemd units) for containers',
  image: 'Manage images',
  manifest: 'Manage image manifests and manifest lists',
  network: 'Manage networks',
  system: 'Manage skiff',
  volume: 'Manage volumes',
};

/** The "Common Commands" of `docker --help`, in Docker's order. */
export const COMMON_COMMANDS = ['run', 'exec', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'search', 'version', 'info'];
