/**
 * The one error type that reaches the user: a single clear line and a Docker-style exit code.
 * 125 = the engine failed (Docker's convention), 126 = command not executable, 127 = not found.
 */
export class SkiffError extends Error {
  constructor(message: string, public exitCode = 125) {
    super(message);
    this.name = 'SkiffError';
  }
}
