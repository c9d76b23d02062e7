/**
 * A TCP proxy on 127.0.0.1 for tests: records the first byte each client
 * sends (TLS record or MQTT CONNECT) and can cut connections without a FIN
 * from the client's MQTT layer, the way a dead sensor looks to a broker.
 */
import net from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** First byte of each client connection, in order (0x16 TLS, 0x10 MQTT). */
  readonly firstBytes: number[];
  /** Client connections accepted so far. */
  connectionCount(): number;
  /** Destroy every open connection on both sides. */
  cutAll(): void;
  close(): Promise<void>;
}

/** Forward 127.0.0.1:<free port> to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(
  targetPort: number,
  teardown?: (fn: () => void | Promise<void>) => void,
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const firstBytes: number[] = [];
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1' });
    sockets.add(client);
    sockets.add(upstream);
    client.once('data', (chunk: Buffer) => firstBytes.push(chunk[0]));
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const cutAll = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const proxy: TcpProxy = {
    port: address.port,
    firstBytes,
    connectionCount: () => connections,
    cutAll,
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
  teardown?.(proxy.close);
  return proxy;
}
