// A TCP proxy in front of a test registry that breaks connections on purpose: each response
// stream (registry → client) is cut when it passes `cutAfter` bytes, if `shouldCut(cuts so far)`
// says so at that moment; with `refuseAfterCut`, every connection after the first cut is closed
// at once (the registry went away). Used to test resume (HTTP Range) and a pull that fails mid-way.
import net from 'node:net';

export interface CuttingProxy {
  /** '127.0.0.1:PORT' */
  host: string;
  /** connections cut so far */
  cuts: number;
  /** request heads seen (first bytes of each client → registry chunk holding a request line) */
  requests: string[];
  close(): Promise<void>;
}

export async function startCuttingProxy(target: string, o: { cutAfter: number; shouldCut: (cutsSoFar: number) => boolean; refuseAfterCut?: boolean }): Promise<CuttingProxy> {
  const [thost, tport] = target.split(':');
  const sockets = new Set<net.Socket>();
  const state: CuttingProxy = { host: '', cuts: 0, requests: [], close: async () => undefined };
  const server = net.createServer((client) => {
    // The registry "went away": connections after the first cut are closed at once.
    if (o.refuseAfterCut && state.cuts > 0) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(tport), thost);
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    client.on('data', (d: Buffer) => {
      const text = d.toString('latin1');
      if (/^(GET|HEAD|POST|PUT|PATCH) /.test(text)) state.requests.push(text.split('\r\n\r\n')[0]);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (sent + d.length > o.cutAfter && sent <= o.cutAfter && o.shouldCut(state.cuts)) {
        client.write(d.subarray(0, Math.max(0, o.cutAfter - sent)));
        state.cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += d.length;
      client.write(d);
    });
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  state.close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return state;
}
