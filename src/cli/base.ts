import { Command } from 'clipanion';
import type { ErrorContext } from '../errors';
import { Engine } from '../engine/context';
import { globals } from './globals';
import { writeStdout } from './output/stdout';

/** Every skiff command: gives access to the engine built from the global options. */
export abstract class SkiffCommand extends Command {
  /** which column of the exit-code table (src/errors.ts) this verb's failures use */
  readonly errorContext: ErrorContext = 'verb';
  private engineInstance?: Engine;
  protected get engine(): Engine {
    return (this.engineInstance ??= new Engine(globals()));
  }
  /** Standard output, written without building process.stdout (cli/output/stdout.ts). */
  protected out(text: string): void { writeStdout(text); }
}
