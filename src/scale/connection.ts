// Redis connections for BullMQ and our own keys. BullMQ needs maxRetriesPerRequest null (its blocking commands must
// wait for a reconnect rather than fail); we pass ready clients because BullMQ cannot load ioredis by itself from ESM.
import { Redis } from 'ioredis';

export function connectRedis(url: string, name: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
  // ioredis reconnects on its own; an unhandled 'error' event would crash the process instead.
  client.on('error', () => undefined);
  return client;
}

/** Closes connections without waiting for a server that may be gone. */
export async function closeRedis(...clients: (Redis | undefined)[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      if (!client || client.status === 'end') return;
      await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000))]);
      client.disconnect();
    }),
  );
}
