// The share kinds this agent knows: the one place outside a kind's folder that imports it.
import { describeZodError, FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import type { ResolvedShare } from "../config/agent-config.ts";
import { createFolderKind } from "./folder/folder-kind.ts";
import { createPiholeKind } from "./pihole/create-pihole-kind.ts";
import { PiholeShareSettingsSchema } from "./pihole/pihole-share-settings.ts";
import type { KindDeps, ShareKind } from "./share-kind.ts";

type KindFactory = (share: ResolvedShare, deps: KindDeps) => ShareKind;

const KINDS: Record<string, KindFactory> = {
  folder: (share, deps) =>
    createFolderKind(
      {
        path: share.path,
        ignore: share.ignore,
        specialModeBits: share.specialModeBits,
        retentionDays: share.retentionDays,
      },
      deps,
    ),
  pihole: (share, deps) => {
    const local = (share.settings ?? {}) as Record<string, unknown>;
    for (const key of ["sync", "config"])
      if (key in local)
        throw new FleetsyncError(
          "invalid",
          `agent.yaml shares.${share.name}.pihole.${key}: what a Pi-hole share syncs is set on the hub, the same for every member; remove ${key} here and use fleetsync share set ${share.name} --pihole-${key} …`,
        );
    const parsed = PiholeShareSettingsSchema.safeParse(share.settings ?? {});
    if (!parsed.success) {
      throw new FleetsyncError(
        "invalid",
        `${describeZodError(parsed.error, `agent.yaml shares.${share.name}.pihole`)}; see the README's "Pi-hole shares"`,
      );
    }
    return createPiholeKind(parsed.data, deps);
  },
};

/** The kind of `share`; a kind this agent does not have is a clear error naming the share. */
export function createShareKind(share: ResolvedShare, deps: KindDeps): ShareKind {
  const create = KINDS[share.kind];
  if (!create) {
    throw new FleetsyncError(
      "invalid",
      `share "${share.name}" is of kind "${share.kind}", which this agent version does not support (it knows: ${Object.keys(KINDS).join(", ")}); upgrade the agent`,
    );
  }
  return create(share, deps);
}
