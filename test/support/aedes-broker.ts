/**
 * An in-process aedes 1.x broker on a free 127.0.0.1 port for tests; aedes
 * speaks MQTT 3.1.1 only, which makes it the peer for fallback tests.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

/** A running aedes broker. */
export interface AedesBroker {
  readonly port: number;
  readonly url: string;
  readonly broker: Aedes;
  close(): Promise<void>;
}

/** Start aedes over a `net.Server`; closed on `teardown`. */
export async function startAedes(
  teardown?: (fn: () => void | Promise<void>) => void,
): Promise<AedesBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let isClosed = false;
  const close = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  teardown?.(close);
  return { port, url: `mqtt://127.0.0.1:${port}`, broker, close };
}
