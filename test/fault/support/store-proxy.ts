import { type Server, type Socket, createServer, connect } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

/**
 * A TCP proxy between the bridge replicas and PostgreSQL that the suite can cut: PostgreSQL on this machine is
 * shared, so restarting it is not ours to do. Cutting closes every open connection and refuses new ones —
 * what the replicas see while their store restarts — and only these two replicas go through it.
 * Controlled over HTTP (`POST /cut`, `POST /restore`) because the scenarios run in other workers.
 */
export async function startStoreProxy(port: number, controlPort: number, target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let proxy: Server | null = null;
  const open = () =>
    new Promise<void>((ready) => {
      proxy = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const [a, b] of [
          [client, upstream],
          [upstream, client],
        ] as const) {
          sockets.add(a);
          a.on('close', () => {
            sockets.delete(a);
            b.destroy();
          });
          a.on('error', () => b.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      proxy.listen(port, '127.0.0.1', ready);
    });
  const cut = () =>
    new Promise<void>((done) => {
      for (const socket of sockets) socket.destroy();
      if (!proxy) return done();
      proxy.close(() => done());
      proxy = null;
    });
  await open();
  const control = createHttpServer((req, res) => {
    const action = req.method === 'POST' ? req.url : null;
    const run = action === '/cut' ? cut() : action === '/restore' ? (proxy ? Promise.resolve() : open()) : null;
    if (!run) return void res.writeHead(404).end();
    void run.then(() => res.writeHead(204).end());
  });
  await new Promise<void>((ready) => control.listen(controlPort, '127.0.0.1', ready));
  return async () => {
    await cut();
    await new Promise<void>((closed) => control.close(() => closed()));
  };
}
