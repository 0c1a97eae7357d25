// The Pi-hole share kind: a local Pi-hole's synced items as canonical JSON documents, applied row by row.

import type { OperationResult } from "../../../shared/protocol/messages.ts";
import type { IndexEntry } from "../../state/share-state.ts";
import { collectBlocks } from "../collect-blocks.ts";
import type { ApplyRequest, KindDeps, KindScanResult, ScanRequest, ShareKind } from "../share-kind.ts";
import { backUpPiholeOnce } from "./back-up-pihole-once.ts";
import { documentEntry, encodeDocuments, sha256 } from "./document-entry.ts";
import { executePiholePlan } from "./execute-pihole-plan.ts";
import { toLocalKeys } from "./map-renamed-config-keys.ts";
import { type PiholeApi, type PiholeCredential, withPiholeApi } from "./pihole-api.ts";
import {
  DOCUMENT_FILES,
  decodeDocument,
  documentOfFile,
  type PiholeDocumentName,
  type PiholeState,
} from "./pihole-documents.ts";
import { type PiholeShareSettings, PiholeShareSettingsSchema } from "./pihole-share-settings.ts";
import { planPiholeChanges } from "./plan-pihole-changes.ts";
import { readPiholeState } from "./read-pihole-state.ts";
import { watchPiholeDir } from "./watch-pihole-dir.ts";

const CONFIG_DOCS: PiholeDocumentName[] = ["hosts", "cnameRecords", "config"];

export function createPiholeKind(config: unknown, deps: KindDeps): ShareKind {
  let settings = PiholeShareSettingsSchema.parse(config);
  let heardFromHub = false;
  const log = deps.log.child({ kind: "pihole" });
  const credential: PiholeCredential = {
    password: settings.password,
    passwordFile: settings.passwordFile,
    shareName: deps.shareName,
  };
  const run = <T>(work: (api: PiholeApi) => Promise<T>) =>
    withPiholeApi({ url: settings.url, credential }, work);
  let documents = new Map<string, Uint8Array>();

  /**
   * What the share syncs is the hub's word, read before each scan and apply (so `share set` reaches every member
   * at its next run). With the hub away the last answer stands; before any answer there is nothing to go on.
   */
  async function refreshItems(): Promise<void> {
    if (!deps.describeShare) return;
    try {
      const share = await deps.describeShare();
      if (share?.pihole) settings = { ...settings, sync: share.pihole.sync, config: share.pihole.config };
      heardFromHub = true;
    } catch (error) {
      if (heardFromHub) return;
      throw new Error(
        `cannot read from the hub what this share syncs (${(error as Error).message}); retrying later`,
        { cause: error },
      );
    }
  }

  async function readDocuments(api: PiholeApi): Promise<Map<string, Uint8Array>> {
    const { state } = await readPiholeState(api, settings);
    documents = encodeDocuments(state, settings);
    return documents;
  }

  return {
    kind: "pihole",

    async prepare() {
      try {
        // Only the first answer matters here (prepare runs before every scan); scan and apply read it afresh.
        if (!heardFromHub) await refreshItems();
        await run(async (api) => {
          await api.request({ method: "GET", path: "/groups" });
        });
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: `share "${deps.shareName}": ${(error as Error).message}` };
      }
    },

    async scan(request: ScanRequest): Promise<KindScanResult> {
      await refreshItems();
      const docs = await run(readDocuments);
      const result: KindScanResult = {
        updates: new Map(),
        changed: new Set(),
        unstable: new Set(),
        hashedBytes: 0,
      };
      for (const [path, bytes] of docs) {
        const entry = await documentEntry(bytes);
        result.hashedBytes += bytes.length;
        result.updates.set(path, entry);
        if (request.index[path]?.hash !== entry.hash) result.changed.add(path);
      }
      for (const path of Object.keys(request.index)) {
        if (docs.has(path)) continue;
        result.updates.set(path, undefined);
        result.changed.add(path);
      }
      return result;
    },

    async readBlock({ path, offset, length }) {
      let bytes = documents.get(path);
      if (!bytes) bytes = (await run(readDocuments)).get(path);
      if (!bytes)
        throw new Error(
          `share "${deps.shareName}" has no document ${path} (this Pi-hole share syncs ${[...documents.keys()].join(", ")})`,
        );
      return bytes.slice(offset, offset + length);
    },

    async apply(request: ApplyRequest): Promise<OperationResult[]> {
      let gravityRunAt: number | undefined;
      const results = new Map<string, OperationResult>();
      const wanted: PiholeState = {};
      const entries = new Map<PiholeDocumentName, { seq: number; path: string; entry: IndexEntry }>();
      const fail = (seq: number, path: string, action: string, error: string) =>
        results.set(path, { seq, path, action, ok: false, bytes: 0, error });
      const latest = new Map(request.ops.map((op) => [op.path, op]));
      for (const op of latest.values()) {
        const name = documentOfFile(op.path);
        const action = op.type === "deleted" ? "delete" : "write";
        if (!name) {
          fail(
            op.seq,
            op.path,
            action,
            `${op.path} is not a Pi-hole share document (expected one of ${Object.values(DOCUMENT_FILES).join(", ")}); nothing applied`,
          );
          continue;
        }
        if (op.type === "deleted") {
          // The source stopped syncing this item: what is on this Pi-hole stays as it is.
          if (!request.dryRun) delete request.index[op.path];
          results.set(op.path, { seq: op.seq, path: op.path, action, ok: true, bytes: 0 });
          continue;
        }
        if (op.type !== "file") {
          fail(op.seq, op.path, action, `${op.path} arrived as a ${op.type}, not a file; nothing applied`);
          continue;
        }
        const blocks = await collectBlocks(request.fetchBlocks, op.blocks, request.signal);
        const parts: Uint8Array[] = [];
        const missing = op.blocks.filter(
          (hash) => !blocks.has(hash) || sha256(blocks.get(hash) as Uint8Array) !== hash,
        );
        if (missing.length > 0) {
          fail(
            op.seq,
            op.path,
            action,
            `the hub lacks ${missing.length} block(s) of ${op.path} (or they failed verification); retrying later`,
          );
          continue;
        }
        for (const hash of op.blocks) parts.push(blocks.get(hash) as Uint8Array);
        const bytes = Buffer.concat(parts);
        const decoded = decodeDocument(name, bytes);
        if (!decoded.ok) {
          fail(op.seq, op.path, action, `${decoded.reason}; nothing applied`);
          continue;
        }
        (wanted as Record<string, unknown>)[name] = decoded.items;
        entries.set(name, { seq: op.seq, path: op.path, entry: await documentEntry(bytes) });
        results.set(op.path, { seq: op.seq, path: op.path, action, ok: true, bytes: bytes.length });
      }
      if (entries.size > 0) {
        try {
          await refreshItems();
          await run(async (api) => {
            if (!request.dryRun)
              await backUpPiholeOnce({ api, stateDir: deps.stateDir, shareName: deps.shareName, log }).catch(
                (error) =>
                  log.warn("could not save a Teleporter backup before the first sync", {
                    error: (error as Error).message,
                  }),
              );
            const syncGroups: PiholeShareSettings = {
              ...settings,
              sync: [...new Set([...settings.sync, "groups" as const])],
            };
            const current = await readPiholeState(api, syncGroups);
            const planned = planPiholeChanges({ wanted, current: current.state, deletes: request.deletes });
            const plan = {
              ...planned,
              steps: planned.steps.map((step) =>
                step.do === "patchConfig"
                  ? { ...step, config: toLocalKeys(step.config, current.legacyKeys) }
                  : step,
              ),
            };
            for (const [name, reason] of Object.entries(plan.problems)) {
              const e = entries.get(name as PiholeDocumentName);
              if (e) fail(e.seq, e.path, "write", `${e.path} ${reason}; nothing of it applied`);
            }
            log.info(request.dryRun ? "dry run: planned Pi-hole changes" : "applying Pi-hole changes", {
              steps: plan.steps.length,
              gravity: plan.runGravity,
            });
            const done = await executePiholePlan({
              api,
              plan,
              groupIds: current.groupIds,
              dryRun: request.dryRun,
              log,
              configDocs: CONFIG_DOCS,
            });
            for (const [name, reason] of done.failed) {
              const e = entries.get(name);
              if (e) fail(e.seq, e.path, "write", reason);
            }
            if (done.gravityRan) gravityRunAt = Date.now();
          });
        } catch (error) {
          for (const e of entries.values()) fail(e.seq, e.path, "write", (error as Error).message);
        }
        if (!request.dryRun)
          for (const e of entries.values()) if (results.get(e.path)?.ok) request.index[e.path] = e.entry;
      }
      // An operation a later one in the same batch replaced shares that one's outcome, under its own sequence.
      const perOp = request.ops.map((op) => ({ ...(results.get(op.path) as OperationResult), seq: op.seq }));
      // A gravity run is recorded in the hub's op log beside the documents that needed it.
      const last = request.ops.at(-1);
      return gravityRunAt !== undefined && last
        ? [...perOp, { seq: last.seq, path: "(gravity)", action: "gravity", ok: true, bytes: 0 }]
        : perOp;
    },

    watch(onDirty) {
      return watchPiholeDir({
        configDir: settings.configDir,
        pollMs: settings.pollMinutes * 60_000,
        onDirty,
        onError: (error) =>
          log.warn("cannot watch the Pi-hole directory; relying on the API poll", {
            dir: settings.configDir,
            error: error.message,
          }),
      });
    },

    async close() {
      documents = new Map();
    },
  };
}
