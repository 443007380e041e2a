import { Command } from 'clipanion';
import { Engine } from '../engine/context';
import { globals } from './globals';

/** Every skiff command: gives access to the engine built from the global options. */
export abstract class SkiffCommand extends Command {
  private engineInstance?: Engine;
  protected get engine(): Engine {
    return (this.engineInstance ??= new Engine(globals()));
  }
  protected out(text: string): void { this.context.stdout.write(text); }
}
