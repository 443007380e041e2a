import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/**
 * Docker's confirmation prompt: prints `question [y/N] ` and reads one line; only y or yes
 * (any case) confirm. End of input (no terminal, closed or empty stdin) answers no.
 */
export function confirm(question: string, input: Readable, output: Writable): Promise<boolean> {
  output.write(`${question} [y/N] `);
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(/^(y|yes)$/i.test(line.trim()));
    });
    rl.once('close', () => {
      if (answered) return;
      output.write('\n');
      resolve(false);
    });
  });
}
