/**
 * The in-process MQTT broker (aedes) for the quick start and demos: one
 * command shows the whole path with no server installed. Not for
 * production: it keeps nothing on disk and speaks MQTT 3.1.1 only.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';

import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Start a broker on the loopback interface; port 0 picks a free one. */
export async function startEmbeddedBroker(port = 0): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const boundPort = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${boundPort}`,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
      }),
  };
}
