// The initial-sync verdict from issue 10's targets table: ≥ 2× Syncthing's throughput and ≥ rsync `-a --fsync`'s.

export const SYNCTHING_FACTOR = 2;

export type InitialSyncFigures = {
  fleetsyncMiBPerS: number | null;
  syncthingMiBPerS: number | null;
  rsyncFsyncMiBPerS: number | null;
};

const round2 = (n: number) => Math.round(n * 100) / 100;

/** pass is null when a peer was not measured; each missed part says how many times faster fleetsync must get. */
export function initialSyncTarget(figures: InitialSyncFigures) {
  const { fleetsyncMiBPerS: ours, syncthingMiBPerS: syncthing, rsyncFsyncMiBPerS: rsync } = figures;
  const part = (peer: number | null, factor: number) => {
    if (peer === null) return { pass: null, note: "peer not measured" };
    const needed = peer * factor;
    if (ours === null)
      return { pass: false, neededMiBPerS: round2(needed), note: "fleetsync did not finish" };
    return ours >= needed
      ? { pass: true, neededMiBPerS: round2(needed) }
      : { pass: false, neededMiBPerS: round2(needed), missedBy: `${round2(needed / ours)}× too slow` };
  };
  const vsSyncthing = part(syncthing, SYNCTHING_FACTOR);
  const vsRsyncFsync = part(rsync, 1);
  return {
    target: `initial sync throughput ≥ ${SYNCTHING_FACTOR}× Syncthing's and ≥ rsync -a --fsync's (same durability), same tree, same run`,
    fleetsyncMiBPerS: ours,
    syncthingMiBPerS: syncthing,
    rsyncFsyncMiBPerS: rsync,
    vsSyncthing,
    vsRsyncFsync,
    pass:
      vsSyncthing.pass === false || vsRsyncFsync.pass === false
        ? false
        : vsSyncthing.pass === null || vsRsyncFsync.pass === null
          ? null
          : true,
  };
}
