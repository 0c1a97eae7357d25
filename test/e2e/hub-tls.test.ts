// The hub over HTTPS (--tls-cert/--tls-key): agents enroll and sync through TLS with a self-signed certificate.
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { parse, stringify } from "yaml";
import {
  makeTempDir,
  ON_WORKERS_HUB,
  type RunningProcess,
  runCliCaptured,
  spawnCli,
  startAgent,
  waitFor,
} from "../support/fleet.ts";

const running: RunningProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A self-signed certificate for 127.0.0.1, made the way a person would (openssl req). */
function makeCertificate(dir: string) {
  const cert = join(dir, "hub.crt");
  const key = join(dir, "hub.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

test("an agent enrolls and syncs over https with the hub's self-signed certificate trusted (NODE_EXTRA_CA_CERTS)", async ({
  skip,
}) => {
  skip(
    ON_WORKERS_HUB,
    "TLS termination is the Node hub's; on Workers it is Cloudflare's (--workers refuses --tls-cert)",
  );
  const base = await makeTempDir("fleetsync-tls-");
  dirs.push(base);
  const { cert, key } = makeCertificate(base);
  const dataDir = join(base, "data");
  const hub = spawnCli(["hub", "--data", dataDir, "--port", "0", "--tls-cert", cert, "--tls-key", key]);
  running.push(hub);
  const url = await waitFor(() => /ready at (https:\/\/\S+)/.exec(hub.output())?.[1], {
    timeoutMs: 20_000,
    what: "the hub to start on https",
  });
  const adminToken = (await readFile(join(dataDir, "admin.token"), "utf8")).trim();
  const env = { NODE_EXTRA_CA_CERTS: cert };
  const admin = ["--hub", url, "--admin-token", adminToken];

  // Without the certificate trusted, a client refuses the hub: TLS is really in the way.
  const untrusted = await runCliCaptured(["share", "list", ...admin]);
  expect(untrusted.code).toBe(1);
  expect(untrusted.stderr).toMatch(/unreachable \((SELF_SIGNED|DEPTH_ZERO_SELF_SIGNED|UNABLE_TO_VERIFY)/);

  expect((await runCliCaptured(["share", "create", "docs", ...admin], { env })).code).toBe(0);
  const roots = { source: join(base, "source"), replica: join(base, "replica") };
  await mkdir(roots.source);
  await writeFile(join(roots.source, "hello.txt"), "over TLS\n");
  for (const role of ["source", "replica"] as const) {
    const token = await runCliCaptured(["token", "create", "--share", `docs:${role}`, ...admin], { env });
    expect(token.code, token.stderr).toBe(0);
    const stateDir = join(base, `${role}-state`);
    const enrolled = await runCliCaptured(
      [
        "agent",
        "enroll",
        "--hub",
        url,
        "--token",
        token.stdout.trim(),
        "--state",
        stateDir,
        "--name",
        role,
        "--path",
        `docs=${roots[role]}`,
      ],
      { env },
    );
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const file = join(stateDir, "agent.yaml");
    const config = parse(await readFile(file, "utf8"));
    config.defaults = { debounceMs: 100 };
    await writeFile(file, stringify(config));
    running.push(startAgent(stateDir, env));
  }

  await waitFor(
    async () => (await readFile(join(roots.replica, "hello.txt"), "utf8").catch(() => "")) === "over TLS\n",
    { timeoutMs: 30_000, what: "hello.txt to reach the replica over https" },
  );
  await writeFile(join(roots.source, "second.txt"), "live change\n");
  await waitFor(
    async () =>
      (await readFile(join(roots.replica, "second.txt"), "utf8").catch(() => "")) === "live change\n",
    { timeoutMs: 30_000, what: "a live change to reach the replica over https" },
  );
}, 90_000);
