import { Command } from 'clipanion';
import type { ErrorContext } from '../errors';
import { Engine } from '../engine/context';
import { globals } from './globals';

/** Every skiff command: gives access to the engine built from the global options. */
export abstract class SkiffCommand extends Command {
  /** which column of the exit-code table (src/errors.ts) this verb's failures use */
  readonly errorContext: ErrorContext = 'verb';
  private engineInstance?: Engine;
  protected get engine(): Engine {
    return (this.engineInstance ??= new Engine(globals()));
  }
  protected out(text: string): void { this.context.stdout.write(text); }
}
