// Brings the pinned Node.js binary for one Linux platform from the npm registry (`npm pack`), checks it, caches it.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The Node.js the executables embed: the registry's `node-linux-<arch>` packages carry a plain `bin/node`. */
export const NODE_VERSION = "20.20.2";

export type TargetArch = "x64" | "arm64";

/** The registry's own integrity of each pinned tarball: a tampered or substituted download is refused. */
const INTEGRITY: Record<TargetArch, string> = {
  x64: "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
  arm64: "sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==",
};

export type FetchNodeBinaryOptions = { arch: TargetArch; cacheDir: string };

/** The path of `node` for `arch`, fetched once into `cacheDir` and reused after. */
export async function fetchNodeBinary({ arch, cacheDir }: FetchNodeBinaryOptions): Promise<string> {
  const dir = join(cacheDir, `node-v${NODE_VERSION}-linux-${arch}`);
  const binary = join(dir, "node");
  if (await exists(binary)) return binary;
  await mkdir(cacheDir, { recursive: true });
  const spec = `node-linux-${arch}@${NODE_VERSION}`;
  let tarball: string;
  try {
    const { stdout } = await run("npm", ["pack", spec, "--pack-destination", cacheDir, "--json"], {
      maxBuffer: 16 * 1024 * 1024,
    });
    tarball = join(cacheDir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  } catch (error) {
    throw new Error(
      `cannot fetch ${spec} from the npm registry (npm pack failed); check npm's registry access`,
      {
        cause: error,
      },
    );
  }
  const integrity = `sha512-${createHash("sha512")
    .update(await readFile(tarball))
    .digest("base64")}`;
  if (integrity !== INTEGRITY[arch]) {
    await rm(tarball, { force: true });
    throw new Error(
      `${spec}: tarball integrity ${integrity} is not the pinned ${INTEGRITY[arch]}; refusing it`,
    );
  }
  const staging = `${dir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", staging, "--strip-components=2", "package/bin/node"]);
  await rm(tarball, { force: true });
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  return binary;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
