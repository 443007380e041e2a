/** skiff's version: kept apart so that `skiff --version` loads nothing else. */
export const VERSION = '0.1.0';
