/**
 * chainID(1) = diffID(1); chainID(n) = sha256(chainID(n-1) + " " + diffID(n)) (OCI image spec).
 * An image concept (it names a stack of layers), so it lives with the image code; the layer store
 * only uses chain IDs as names.
 */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev ? `sha256:${process.getBuiltinModule('node:crypto').createHash('sha256').update(`${prev} ${d}`).digest('hex')}` : d);
  }
  return out;
}
