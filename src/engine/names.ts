import { randomHex, randomInt } from '../util/random';

// Docker-style generated names: adjective_surname (a short list; collisions get retried, with a digit).
const ADJECTIVES = ['admiring', 'agitated', 'amazing', 'angry', 'awesome', 'bold', 'brave', 'busy',
  'charming', 'clever', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elegant',
  'epic', 'festive', 'focused', 'friendly', 'gallant', 'gifted', 'happy', 'hopeful', 'jolly', 'keen',
  'kind', 'loving', 'lucid', 'modest', 'nice', 'nifty', 'optimistic', 'peaceful', 'pensive', 'quirky',
  'relaxed', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'tender', 'trusting', 'upbeat', 'vibrant',
  'vigilant', 'wizardly', 'zealous'];
const SURNAMES = ['albattani', 'archimedes', 'babbage', 'bohr', 'curie', 'darwin', 'dijkstra',
  'einstein', 'euclid', 'fermat', 'feynman', 'galileo', 'gauss', 'hopper', 'hypatia', 'johnson',
  'kepler', 'knuth', 'lamarr', 'lovelace', 'maxwell', 'meitner', 'newton', 'noether', 'pascal',
  'pasteur', 'ritchie', 'shannon', 'tesla', 'thompson', 'torvalds', 'turing', 'volta', 'wozniak'];

/** After a first try that was taken, Docker's generator adds a digit: `retry` says how many tries went before. */
export function generateName(retry = 0): string {
  const a = ADJECTIVES[randomInt(ADJECTIVES.length)];
  const b = SURNAMES[randomInt(SURNAMES.length)];
  return retry > 0 ? `${a}_${b}${randomInt(10)}` : `${a}_${b}`;
}

export function newContainerId(): string {
  return randomHex(32);
}

/** Docker's rule for container names. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
