// The bundle as pure ASCII. A single executable's main script is stored as UTF-8; at every start
// Node turns it into a V8 string, and when it holds any non-ASCII byte it first converts the
// whole ~0.8 MB from UTF-8 to Latin-1 into a fresh buffer (simdutf's convert_utf8_to_latin1,
// seen in `perf record` of `skiff --version`: ~200 more page faults and a few ms of CPU on every
// command; docs/PERFORMANCE.md). esbuild already escapes non-ASCII characters in strings and
// identifiers but leaves them in regular expression literals (`/(ns|us|µs)/`): escaped here as
// \uXXXX, which means the same character in a regular expression, a string, a template or an
// identifier. The one place it would not (the character itself escaped, as in `/\µ/`) fails the
// build instead.

/** `code` with every non-ASCII UTF-16 unit written as a \uXXXX escape. */
export function asciiOnly(code) {
  return code.replace(/(\\*)([^\x00-\x7f])/g, (_, slashes, ch) => {
    if (slashes.length % 2 === 1) {
      throw new Error(`build/ascii-bundle.mjs: an escaped non-ASCII character (\\${ch}) in the bundle, which \\u${ch.charCodeAt(0).toString(16).padStart(4, '0')} would not mean: write it without the backslash`);
    }
    return `${slashes}\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
