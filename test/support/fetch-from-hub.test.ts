// fetchFromHub: a GET that meets a kept-alive connection the hub closed is sent once more; other methods are not.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, test } from "vitest";
import { fetchFromHub } from "./fleet.ts";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done) ?? done(undefined));
  server = undefined;
});

/** Answers the first request on each connection and destroys the connection when a second one arrives on it. */
async function startDroppingServer(): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const served = new WeakSet<object>();
  server = createServer((req, res) => {
    requests++;
    if (served.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    served.add(req.socket);
    res.writeHead(200, { "content-type": "text/plain", connection: "keep-alive" });
    res.end("ok");
  });
  await new Promise<void>((done) => server?.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, requests: () => requests };
}

/** Until fetch has put the first answer's connection back among its idle ones, it opens another. */
const connectionReleased = () => new Promise((done) => setTimeout(done, 100));

test("a GET on a kept connection the hub dropped is sent again on a new one", async () => {
  const hub = await startDroppingServer();
  expect(await (await fetchFromHub(hub.url)).text()).toBe("ok");
  await connectionReleased();
  expect(await (await fetchFromHub(hub.url)).text()).toBe("ok");
  expect(hub.requests()).toBe(3);
});

test("a POST on a kept connection the hub dropped is not sent again", async () => {
  const hub = await startDroppingServer();
  expect(await (await fetchFromHub(hub.url, { method: "POST", body: "x" })).text()).toBe("ok");
  await connectionReleased();
  await expect(fetchFromHub(hub.url, { method: "POST", body: "y" })).rejects.toThrow();
  expect(hub.requests()).toBe(2);
});
