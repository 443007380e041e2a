/**
 * skiff's version: kept apart so that `skiff --version` loads nothing else. In util/, the bottom
 * layer, because the registry client (its User-Agent) needs it as well as the CLI.
 */
export const VERSION = '0.1.0';
