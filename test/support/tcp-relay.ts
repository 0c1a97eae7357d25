// A TCP relay on 127.0.0.1 that joins each accepted connection to an upstream the caller picks (tests and bench).
import { connect, createServer, type Socket } from "node:net";

export type TcpRelay = { url: string; close: () => Promise<void> };

/**
 * Listens on a free loopback port; each connection goes to `pickUpstream()` (a URL with host and port), piped both
 * ways, and `onSockets` sees both ends first (to count bytes). Either end failing or closing closes the other.
 */
export async function startTcpRelay(options: {
  pickUpstream: () => string;
  onSockets?: (client: Socket, upstream: Socket) => void;
}): Promise<TcpRelay> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const target = new URL(options.pickUpstream());
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
    }
    options.onSockets?.(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
