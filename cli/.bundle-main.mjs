var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// shared/errors/fleetsync-error.ts
import { z } from "zod";
function describeZodError(error, where = "body") {
  const issue = error.issues[0];
  if (!issue) return `${where} is invalid`;
  const field2 = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  return `${where} field "${field2}": ${issue.message}`;
}
var ERROR_CODES, STATUS_BY_CODE, FleetsyncError, ErrorBodySchema;
var init_fleetsync_error = __esm({
  "shared/errors/fleetsync-error.ts"() {
    "use strict";
    ERROR_CODES = [
      "bad_request",
      "unauthenticated",
      "token_expired",
      "forbidden",
      "awaiting_approval",
      "not_found",
      "conflict",
      "token_used",
      "payload_too_large",
      "invalid",
      "rate_limited",
      "internal",
      "unavailable",
      "insufficient_storage"
    ];
    STATUS_BY_CODE = {
      bad_request: 400,
      unauthenticated: 401,
      token_expired: 401,
      forbidden: 403,
      awaiting_approval: 403,
      not_found: 404,
      conflict: 409,
      token_used: 409,
      payload_too_large: 413,
      invalid: 422,
      rate_limited: 429,
      internal: 500,
      unavailable: 503,
      insufficient_storage: 507
    };
    FleetsyncError = class extends Error {
      code;
      retryable;
      /** How long the caller should wait before trying again (sent as Retry-After), when that is known. */
      retryAfterSeconds;
      constructor(code, message, options = {}) {
        super(message, { cause: options.cause });
        this.name = "FleetsyncError";
        this.code = code;
        this.retryable = options.retryable ?? (code === "internal" || code === "unavailable" || code === "rate_limited" || code === "awaiting_approval" || code === "insufficient_storage");
        this.retryAfterSeconds = options.retryAfterSeconds;
      }
      get status() {
        return STATUS_BY_CODE[this.code];
      }
    };
    ErrorBodySchema = z.object({
      error: z.object({
        code: z.string(),
        message: z.string(),
        requestId: z.string()
      })
    });
  }
});

// cli/cli-error.ts
function reportFailure(error) {
  if (error instanceof UsageError) {
    process.stderr.write(`fleetsync: ${error.message}
`);
    return 2;
  }
  if (error instanceof FleetsyncError) {
    process.stderr.write(`fleetsync: ${error.message}
`);
    return 1;
  }
  const code = error?.code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" || code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const message = error.message.replace(/\. To specify a positional argument.*$/s, "");
    process.stderr.write(`fleetsync: ${message}; see --help
`);
    return 2;
  }
  process.stderr.write(`fleetsync: ${error?.message ?? String(error)}
`);
  return 1;
}
var UsageError;
var init_cli_error = __esm({
  "cli/cli-error.ts"() {
    "use strict";
    init_fleetsync_error();
    UsageError = class extends Error {
      name = "UsageError";
    };
  }
});

// shared/protocol/pihole-items.ts
import { z as z2 } from "zod";
function refusalOfConfigKey(key) {
  const lower = key.toLowerCase();
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(key))
    return "is not a dotted pihole.toml key such as dns.queryLogging";
  if (/password|pwhash|totp|secret/.test(lower))
    return "is a password, hash or secret and never leaves its Pi-hole";
  for (const prefix of REFUSED_KEY_PREFIXES) {
    if (key === prefix || key.startsWith(`${prefix}.`) || prefix.startsWith(`${key}.`))
      return `is host-specific (${prefix}) and never copied between Pi-holes`;
  }
  if (key === "dns.hosts" || key === "dns.cnameRecords")
    return "is a sync item: list it under sync, not config";
  return void 0;
}
function splitList(text2) {
  return text2.split(",").map((part) => part.trim()).filter((part) => part.length > 0);
}
var PIHOLE_SYNC_ITEMS, REFUSED_KEY_PREFIXES, syncList, configKeyList, PiholeSyncSchema, PiholeConfigKeysSchema, PiholeItemsSchema, PiholeItemsChangeSchema;
var init_pihole_items = __esm({
  "shared/protocol/pihole-items.ts"() {
    "use strict";
    PIHOLE_SYNC_ITEMS = [
      "groups",
      "lists",
      "domains",
      "clients",
      "dns.hosts",
      "dns.cnameRecords"
    ];
    REFUSED_KEY_PREFIXES = ["webserver", "files", "dns.interface", "dhcp.leaseFile", "dhcp.leases"];
    syncList = z2.array(z2.enum(PIHOLE_SYNC_ITEMS, { error: `use some of ${PIHOLE_SYNC_ITEMS.join(", ")}` })).min(1, "name at least one item").transform((items) => [...new Set(items)]);
    configKeyList = z2.array(z2.string()).max(100).superRefine((keys, ctx) => {
      keys.forEach((key, i) => {
        const refusal = refusalOfConfigKey(key);
        if (refusal) ctx.addIssue({ code: "custom", path: [i], message: `config key "${key}" ${refusal}` });
      });
    }).transform((keys) => [...new Set(keys)].sort());
    PiholeSyncSchema = syncList.default([...PIHOLE_SYNC_ITEMS]);
    PiholeConfigKeysSchema = configKeyList.default([]);
    PiholeItemsSchema = z2.strictObject({ sync: PiholeSyncSchema, config: PiholeConfigKeysSchema });
    PiholeItemsChangeSchema = z2.strictObject({ sync: syncList.optional(), config: configKeyList.optional() }).refine((change) => change.sync !== void 0 || change.config !== void 0, {
      message: "name the items (sync) or the config keys (config) to set"
    });
  }
});

// shared/protocol/shares.ts
import { z as z3 } from "zod";
function parseShareGrant(text2) {
  const [name, role, ...rest] = text2.split(":");
  const parsed = ShareGrantSchema.safeParse({ name, role });
  return rest.length === 0 && parsed.success ? parsed.data : void 0;
}
var SHARE_KINDS, ROLES, DELETE_POLICIES, CONFLICT_POLICIES, ShareNameSchema, ShareGrantSchema, SharePolicySchema, DeviceShareSchema;
var init_shares = __esm({
  "shared/protocol/shares.ts"() {
    "use strict";
    init_pihole_items();
    SHARE_KINDS = ["folder", "pihole"];
    ROLES = ["source", "replica", "peer"];
    DELETE_POLICIES = ["propagate", "keep"];
    CONFLICT_POLICIES = ["keep-both", "newest-wins"];
    ShareNameSchema = z3.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "use 1-63 lowercase letters, digits, '.', '_' or '-'");
    ShareGrantSchema = z3.strictObject({ name: ShareNameSchema, role: z3.enum(ROLES) });
    SharePolicySchema = z3.strictObject({
      kind: z3.enum(SHARE_KINDS),
      deletes: z3.enum(DELETE_POLICIES),
      conflicts: z3.enum(CONFLICT_POLICIES),
      /** A Pi-hole share's items and config keys; every member syncs exactly these. */
      pihole: PiholeItemsSchema.optional()
    });
    DeviceShareSchema = SharePolicySchema.extend({
      name: ShareNameSchema,
      role: z3.enum(ROLES),
      /** The share's head sequence and this member's cursor, as the hub sees them. */
      head: z3.number().int().optional(),
      cursor: z3.number().int().optional(),
      /** How far this member is behind the head in files and bytes, where the hub reports it. */
      lagFiles: z3.number().int().min(0).optional(),
      lagBytes: z3.number().int().min(0).optional(),
      /** The error this member last told the hub about, if it has not told it that it recovered. */
      lastError: z3.string().nullable().optional()
    });
  }
});

// shared/time/parse-duration.ts
function parseDurationMs(text2) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text2.trim());
  if (!match) return void 0;
  const value = Math.round(Number(match[1]) * (UNIT_MS[match[2]] ?? 0));
  return Number.isSafeInteger(value) && value > 0 ? value : void 0;
}
var UNIT_MS;
var init_parse_duration = __esm({
  "shared/time/parse-duration.ts"() {
    "use strict";
    UNIT_MS = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 };
  }
});

// shared/auth/device-jwt.ts
import { SignJWT } from "jose";
async function signDeviceJwt(key, claims) {
  const lifetime = claims.lifetimeSeconds ?? DEVICE_JWT_LIFETIME_SECONDS;
  return new SignJWT({ htm: claims.method.toUpperCase(), htu: claims.path }).setProtectedHeader({ alg: "EdDSA", typ: "JWT" }).setSubject(claims.deviceId).setAudience(claims.hubId).setIssuedAt(claims.nowSeconds).setExpirationTime(claims.nowSeconds + lifetime).setJti(crypto.randomUUID()).sign(key);
}
var DEVICE_JWT_MAX_LIFETIME_SECONDS, DEVICE_JWT_LIFETIME_SECONDS;
var init_device_jwt = __esm({
  "shared/auth/device-jwt.ts"() {
    "use strict";
    DEVICE_JWT_MAX_LIFETIME_SECONDS = 300;
    DEVICE_JWT_LIFETIME_SECONDS = 120;
  }
});

// shared/blocks/block-size.ts
function blockSizeFor(fileBytes) {
  let size = MIN_BLOCK_BYTES;
  while (size < MAX_BLOCK_BYTES && fileBytes > size * TARGET_MAX_BLOCKS) size *= 2;
  return size;
}
var MIN_BLOCK_BYTES, MAX_BLOCK_BYTES, TARGET_MAX_BLOCKS;
var init_block_size = __esm({
  "shared/blocks/block-size.ts"() {
    "use strict";
    MIN_BLOCK_BYTES = 128 * 1024;
    MAX_BLOCK_BYTES = 16 * 1024 * 1024;
    TARGET_MAX_BLOCKS = 2e3;
  }
});

// shared/blocks/hex.ts
function toHex(bytes2) {
  let out = "";
  for (const byte of bytes2) out += byte.toString(16).padStart(2, "0");
  return out;
}
function fromHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
async function sha256Hex(bytes2) {
  const digest = await crypto.subtle.digest("SHA-256", bytes2);
  return toHex(new Uint8Array(digest));
}
var init_hex = __esm({
  "shared/blocks/hex.ts"() {
    "use strict";
  }
});

// shared/blocks/block-frames.ts
function encodeBlockFrameHeader(hash, length) {
  const header = new Uint8Array(BLOCK_FRAME_HEADER_BYTES);
  header.set(fromHex(hash), 0);
  new DataView(header.buffer).setUint32(32, length, false);
  return header;
}
function encodeBlockFrames(frames) {
  const total = frames.reduce((sum, f) => sum + BLOCK_FRAME_HEADER_BYTES + f.bytes.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const frame of frames) {
    out.set(encodeBlockFrameHeader(frame.hash, frame.bytes.length), offset);
    out.set(frame.bytes, offset + BLOCK_FRAME_HEADER_BYTES);
    offset += BLOCK_FRAME_HEADER_BYTES + frame.bytes.length;
  }
  return out;
}
async function* decodeBlockFrames(stream) {
  const reader = stream.getReader();
  const chunks = [];
  let buffered = 0;
  let done = false;
  const fill = async (need) => {
    while (buffered < need && !done) {
      const chunk2 = await reader.read();
      if (chunk2.done) done = true;
      else if (chunk2.value.length > 0) {
        chunks.push(chunk2.value);
        buffered += chunk2.value.length;
      }
    }
    return buffered >= need;
  };
  const take = (length) => {
    const first = chunks[0];
    if (first.length >= length) {
      const out2 = new Uint8Array(first.buffer, first.byteOffset, length);
      if (first.length === length) chunks.shift();
      else chunks[0] = first.subarray(length);
      buffered -= length;
      return out2;
    }
    const out = new Uint8Array(length);
    let offset = 0;
    while (offset < length) {
      const head = chunks[0];
      const n = Math.min(head.length, length - offset);
      out.set(head.subarray(0, n), offset);
      offset += n;
      if (n === head.length) chunks.shift();
      else chunks[0] = head.subarray(n);
    }
    buffered -= length;
    return out;
  };
  try {
    while (true) {
      if (!await fill(BLOCK_FRAME_HEADER_BYTES)) {
        if (buffered > 0) throw new BlockFrameError("block batch ends inside a frame header");
        return;
      }
      const header = take(BLOCK_FRAME_HEADER_BYTES);
      const hash = toHex(header.subarray(0, 32));
      const length = new DataView(header.buffer, header.byteOffset, header.length).getUint32(32, false);
      if (length > MAX_BLOCK_BYTES) {
        throw new BlockFrameError(`block ${hash} claims ${length} bytes (max ${MAX_BLOCK_BYTES})`);
      }
      if (!await fill(length)) throw new BlockFrameError(`block ${hash} is truncated`);
      yield { hash, bytes: length === 0 ? new Uint8Array(0) : take(length) };
    }
  } finally {
    reader.releaseLock();
  }
}
var BLOCK_FRAME_HEADER_BYTES, BLOCKS_CONTENT_TYPE, BlockFrameError;
var init_block_frames = __esm({
  "shared/blocks/block-frames.ts"() {
    "use strict";
    init_block_size();
    init_hex();
    BLOCK_FRAME_HEADER_BYTES = 36;
    BLOCKS_CONTENT_TYPE = "application/vnd.fleetsync.blocks";
    BlockFrameError = class extends Error {
      name = "BlockFrameError";
    };
  }
});

// shared/paths/normalize-share-path.ts
function normalizeSharePath(input) {
  if (typeof input !== "string" || input.length === 0) return { ok: false, reason: "path is empty" };
  if (input.includes("\0")) return { ok: false, reason: "path contains a NUL byte" };
  if (input.includes("\\")) return { ok: false, reason: "path contains a backslash" };
  if (/\p{Surrogate}/u.test(input)) return { ok: false, reason: "path is not well-formed Unicode" };
  if (input.startsWith("/")) return { ok: false, reason: "path is absolute" };
  if (/^[A-Za-z]:/.test(input)) return { ok: false, reason: "path starts with a drive letter" };
  const path = input.normalize("NFC");
  if (encoder.encode(path).length > MAX_PATH_BYTES) {
    return { ok: false, reason: `path is longer than ${MAX_PATH_BYTES} bytes` };
  }
  const segments = path.split("/");
  for (const segment of segments) {
    if (segment === "") return { ok: false, reason: "path has an empty segment" };
    if (segment === "." || segment === "..") return { ok: false, reason: `path has a "${segment}" segment` };
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) {
      return { ok: false, reason: `path segment is longer than ${MAX_SEGMENT_BYTES} bytes` };
    }
    if (isReservedSegment(segment)) {
      return {
        ok: false,
        reason: `path segment ${JSON.stringify(segment.slice(0, 64))} is reserved for fleetsync's own files`
      };
    }
  }
  return { ok: true, path };
}
function isReservedSegment(segment) {
  return segment.startsWith(RESERVED_SEGMENT_PREFIX);
}
function isSameOrBelow(path, ancestor) {
  return ancestor === "" || path === ancestor || path.startsWith(`${ancestor}/`);
}
function parentOf(path) {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}
var MAX_PATH_BYTES, MAX_SEGMENT_BYTES, SHARE_META_DIR, RESERVED_SEGMENT_PREFIX, encoder;
var init_normalize_share_path = __esm({
  "shared/paths/normalize-share-path.ts"() {
    "use strict";
    MAX_PATH_BYTES = 4096;
    MAX_SEGMENT_BYTES = 255;
    SHARE_META_DIR = ".fleetsync";
    RESERVED_SEGMENT_PREFIX = ".fleetsync";
    encoder = new TextEncoder();
  }
});

// shared/protocol/entry.ts
import { z as z4 } from "zod";
function isSameEntry(a, b) {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case "file":
      return a.hash === b.hash && a.mode === b.mode && a.mtimeMs === b.mtimeMs && a.size === b.size;
    case "dir":
      return a.mode === b.mode;
    case "symlink":
      return a.target === b.target;
    case "deleted":
      return true;
  }
}
var HashSchema, SharePathSchema, ENTRY_TYPES, EntrySchema, ReportedEntrySchema, SequencedEntrySchema;
var init_entry = __esm({
  "shared/protocol/entry.ts"() {
    "use strict";
    init_block_size();
    init_normalize_share_path();
    HashSchema = z4.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256");
    SharePathSchema = z4.string().transform((value, ctx) => {
      const check = normalizeSharePath(value);
      if (!check.ok) {
        ctx.addIssue({ code: "custom", message: `${check.reason}: ${JSON.stringify(value.slice(0, 200))}` });
        return z4.NEVER;
      }
      return check.path;
    });
    ENTRY_TYPES = ["file", "dir", "symlink", "deleted"];
    EntrySchema = z4.strictObject({
      path: SharePathSchema,
      type: z4.enum(ENTRY_TYPES),
      size: z4.number().int().min(0).default(0),
      mode: z4.number().int().min(0).max(4095).default(0),
      mtimeMs: z4.number().int().min(0).default(0),
      blockSize: z4.number().int().min(MIN_BLOCK_BYTES).max(MAX_BLOCK_BYTES).default(MIN_BLOCK_BYTES),
      blocks: z4.array(HashSchema).max(1e5).default([]),
      target: z4.string().max(4096).refine((t) => !t.includes("\0"), "symlink target contains NUL").optional(),
      hash: z4.string().max(64).default("")
    });
    ReportedEntrySchema = EntrySchema.extend({ baseSeq: z4.number().int().min(0).optional() });
    SequencedEntrySchema = EntrySchema.extend({ seq: z4.number().int().min(1) });
  }
});

// shared/protocol/messages.ts
import { z as z5 } from "zod";
var MAX_ENTRIES_PER_REPORT, PRESENCE_HEADER, MAX_HASHES_PER_FETCH, PublicJwkSchema, EnrollRequestSchema, JwksSchema, EnrollResponseSchema, DeviceConfigSchema, ScanTotalsSchema, ConflictOutcomeSchema, ReportRequestSchema, ReportResponseSchema, BlockUploadResponseSchema, InstructionsResponseSchema, OperationResultSchema, AckRequestSchema, AckResponseSchema, CursorRequestSchema, CursorResponseSchema, StatusRequestSchema, StatusResponseSchema;
var init_messages = __esm({
  "shared/protocol/messages.ts"() {
    "use strict";
    init_entry();
    init_shares();
    MAX_ENTRIES_PER_REPORT = 5e3;
    PRESENCE_HEADER = "x-fleetsync-presence";
    MAX_HASHES_PER_FETCH = 100;
    PublicJwkSchema = z5.object({
      kty: z5.literal("OKP"),
      crv: z5.literal("Ed25519"),
      x: z5.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a base64url Ed25519 public key")
    });
    EnrollRequestSchema = z5.strictObject({
      token: z5.string().min(1).max(8192),
      publicKey: PublicJwkSchema,
      /** An explicit device name (`agent enroll --name`); without it the token's label, then `hostname`, names it. */
      name: z5.string().min(1).max(128).optional(),
      /** The machine's host name: the device's name when neither `name` nor the token's label gives one. */
      hostname: z5.string().min(1).max(255).optional()
    });
    JwksSchema = z5.object({ keys: z5.array(z5.record(z5.string(), z5.unknown())).min(1) });
    EnrollResponseSchema = z5.object({
      deviceId: z5.string(),
      /** The name the hub gave the device (older hubs leave it out). */
      name: z5.string().optional(),
      hubId: z5.string(),
      jwks: JwksSchema,
      shares: z5.array(DeviceShareSchema)
    });
    DeviceConfigSchema = z5.object({
      deviceId: z5.string(),
      hubId: z5.string(),
      shares: z5.array(DeviceShareSchema)
    });
    ScanTotalsSchema = z5.strictObject({
      deletes: z5.number().int().min(0),
      creates: z5.number().int().min(0)
    });
    ConflictOutcomeSchema = z5.object({
      path: z5.string(),
      /** Whose version holds the path now. */
      winner: z5.enum(["reported", "hub"]),
      /** Where the other version survives, when it does (keep-both, a type clash). */
      copy: z5.string().optional(),
      reason: z5.string()
    });
    ReportRequestSchema = z5.strictObject({
      entries: z5.array(ReportedEntrySchema).min(1).max(MAX_ENTRIES_PER_REPORT),
      scan: ScanTotalsSchema.optional()
    });
    ReportResponseSchema = z5.discriminatedUnion("status", [
      z5.object({ status: z5.literal("missing"), missing: z5.array(z5.string()) }),
      z5.object({
        status: z5.literal("accepted"),
        accepted: z5.number().int(),
        head: z5.number().int(),
        /** Paths whose change was concurrent with another device's, and how the hub settled each. */
        conflicts: z5.array(ConflictOutcomeSchema).optional()
      }),
      /** A mass delete the hub held: nothing was committed; the agent keeps the paths pending and retries. */
      z5.object({
        status: z5.literal("held"),
        deletes: z5.number().int(),
        live: z5.number().int(),
        reason: z5.string()
      })
    ]);
    BlockUploadResponseSchema = z5.object({ stored: z5.number().int(), bytes: z5.number().int() });
    InstructionsResponseSchema = z5.object({ instructions: z5.array(z5.string()) });
    OperationResultSchema = z5.strictObject({
      seq: z5.number().int().min(1),
      path: z5.string().max(4096),
      action: z5.string().max(32),
      ok: z5.boolean(),
      bytes: z5.number().int().min(0).default(0),
      error: z5.string().max(2e3).optional()
    });
    AckRequestSchema = z5.strictObject({
      reachedSeq: z5.number().int().min(0),
      dryRun: z5.boolean().default(false),
      results: z5.array(OperationResultSchema).max(2e4).default([])
    });
    AckResponseSchema = z5.object({
      cursor: z5.number().int(),
      recorded: z5.boolean(),
      note: z5.string().optional()
    });
    CursorRequestSchema = z5.strictObject({
      cursor: z5.number().int().min(0),
      dryRun: z5.boolean().default(false)
    });
    CursorResponseSchema = z5.object({ cursor: z5.number().int(), head: z5.number().int() });
    StatusRequestSchema = z5.strictObject({ lastError: z5.string().min(1).max(2e3).nullable() });
    StatusResponseSchema = z5.object({
      share: z5.string(),
      lastError: z5.string().nullable(),
      lastErrorAt: z5.string().nullable()
    });
  }
});

// package.json
var package_default;
var init_package = __esm({
  "package.json"() {
    package_default = {
      name: "fleetsync",
      version: "0.1.0",
      description: "Replicate folders and Pi-hole configuration from one machine to many, steered by a hub you can see.",
      type: "module",
      license: "MIT",
      engines: {
        node: ">=20.19"
      },
      bin: {
        fleetsync: "./bin/fleetsync.js"
      },
      scripts: {
        start: "tsx cli/main.ts hub",
        demo: "tsx demo/run-demo.ts",
        test: "vitest run",
        typecheck: "tsc --noEmit -p .",
        lint: "biome check .",
        check: "npm run typecheck && npm run lint && npm test",
        bench: "tsx bench/run-bench.ts",
        "bench:fleet": "tsx bench/fleet-bench.ts",
        "db:generate": "drizzle-kit generate",
        "dev:worker": "wrangler dev --local",
        "db:migrate:worker": "wrangler d1 migrations apply DB --local",
        deploy: "wrangler deploy",
        build: "tsx scripts/build.ts"
      },
      dependencies: {
        "@hono/node-server": "^1.19.19",
        "@libsql/client": "^0.18.0",
        chokidar: "^5.0.0",
        "drizzle-orm": "^0.45.4",
        hono: "^4.13.19",
        ignore: "^7.0.16",
        jose: "^6.2.17",
        tsx: "^4.23.15",
        yaml: "^2.9.1",
        zod: "^4.6.7"
      },
      devDependencies: {
        "@biomejs/biome": "2.5.15",
        "@cloudflare/workers-types": "^4.20260702.1",
        "@types/node": "^20.19.43",
        "drizzle-kit": "^0.31.11",
        esbuild: "0.28.2",
        "fast-check": "^4.10.2",
        miniflare: "4.20260426.0",
        "playwright-core": "1.65.1",
        postject: "1.0.0-alpha.6",
        typescript: "~5.9",
        vitest: "^4.1.12",
        wrangler: "^4.86.0"
      }
    };
  }
});

// agent/hub/agent-user-agent.ts
var AGENT_USER_AGENT;
var init_agent_user_agent = __esm({
  "agent/hub/agent-user-agent.ts"() {
    "use strict";
    init_package();
    AGENT_USER_AGENT = `fleetsync-agent/${package_default.version} node/${process.versions.node}`;
  }
});

// agent/hub/hub-client.ts
async function readHubError(response, what) {
  const text2 = await response.text().catch(() => "");
  let code = response.status >= 500 ? "unavailable" : "bad_request";
  let message = text2.slice(0, 300) || response.statusText;
  try {
    const parsed = ErrorBodySchema.parse(JSON.parse(text2));
    if (ERROR_CODES.includes(parsed.error.code)) code = parsed.error.code;
    message = parsed.error.message;
  } catch {
  }
  const retryable = response.status >= 500 || response.status === 429 || code === "awaiting_approval";
  return new FleetsyncError(code, `${what}: hub answered ${response.status}: ${message}`, { retryable });
}
function unreachable(url, error) {
  const cause = error.cause?.code ?? error.message;
  return new FleetsyncError("unavailable", `hub ${url} is unreachable (${cause})`, {
    cause: error,
    retryable: true
  });
}
async function parseBody(response, schema, what) {
  const parsed = schema.safeParse(await response.json().catch(() => void 0));
  if (!parsed.success)
    throw new FleetsyncError("internal", `${what}: the hub's answer does not match the protocol`);
  return parsed.data;
}
async function enrollWithHub(hubUrl, request) {
  const url = new URL("/v1/enroll", hubUrl);
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request)
    });
  } catch (error) {
    throw unreachable(hubUrl, error);
  }
  if (!response.ok) throw await readHubError(response, "enrolment");
  return parseBody(response, EnrollResponseSchema, "enrolment");
}
var HubClient;
var init_hub_client = __esm({
  "agent/hub/hub-client.ts"() {
    "use strict";
    init_device_jwt();
    init_block_frames();
    init_fleetsync_error();
    init_messages();
    init_agent_user_agent();
    HubClient = class {
      constructor(options) {
        this.options = options;
      }
      options;
      get hubUrl() {
        return this.options.hubUrl;
      }
      async request(method, path, what, options = {}) {
        const url = new URL(path, this.options.hubUrl);
        for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
        const token = await signDeviceJwt(this.options.key, {
          deviceId: this.options.deviceId,
          hubId: this.options.hubId,
          nowSeconds: Math.floor(Date.now() / 1e3),
          method,
          path: url.pathname
        });
        const headers = {
          ...this.options.headers,
          ...options.headers,
          authorization: `Bearer ${token}`,
          "user-agent": AGENT_USER_AGENT
        };
        let body;
        if (options.json !== void 0) {
          headers["content-type"] = "application/json";
          body = JSON.stringify(options.json);
        } else if (options.body) {
          headers["content-type"] = BLOCKS_CONTENT_TYPE;
          body = options.body;
        }
        let response;
        try {
          response = await fetch(url, {
            method,
            headers,
            body,
            signal: options.signal
          });
        } catch (error) {
          if (options.signal?.aborted)
            throw new FleetsyncError("unavailable", `${what}: cancelled`, { retryable: true });
          throw unreachable(this.options.hubUrl, error);
        }
        if (!response.ok) throw await readHubError(response, what);
        return response;
      }
      /** The device's shares. `touchLastSeen: false` (agent status) leaves the hub's "last seen" as it was. */
      async config(options = {}) {
        const headers = options.touchLastSeen === false ? { [PRESENCE_HEADER]: "none" } : void 0;
        return parseBody(
          await this.request("GET", "/v1/config", "reading config", headers ? { headers } : {}),
          DeviceConfigSchema,
          "config"
        );
      }
      async report(share, entries2, scan) {
        const what = `reporting ${entries2.length} changes to "${share}"`;
        const response = await this.request("POST", `/v1/shares/${encodeURIComponent(share)}/reports`, what, {
          json: scan ? { entries: entries2, scan } : { entries: entries2 }
        });
        return parseBody(response, ReportResponseSchema, what);
      }
      async uploadBlocks(body) {
        return parseBody(
          await this.request("POST", "/v1/blocks", "uploading blocks", { body }),
          BlockUploadResponseSchema,
          "upload"
        );
      }
      async *fetchBlocks(hashes, signal) {
        const response = await this.request("GET", "/v1/blocks", "fetching blocks", {
          query: { hashes: hashes.join(",") },
          signal
        });
        if (!response.body) return;
        yield* decodeBlockFrames(response.body);
      }
      async instructions(waitSeconds, signal) {
        const response = await this.request("GET", "/v1/instructions", "waiting for instructions", {
          query: { wait: String(waitSeconds) },
          signal
        });
        return (await parseBody(response, InstructionsResponseSchema, "instructions")).instructions;
      }
      async ack(instructionId, ack) {
        const response = await this.request(
          "POST",
          `/v1/instructions/${encodeURIComponent(instructionId)}/ack`,
          "acknowledging",
          {
            json: ack
          }
        );
        return parseBody(response, AckResponseSchema, "ack");
      }
      /** Tells the hub why this device is not syncing `share` (shown in `share show`), or null once it is again. */
      async reportStatus(share, lastError) {
        const what = `reporting the status of "${share}"`;
        const response = await this.request("PUT", `/v1/shares/${encodeURIComponent(share)}/status`, what, {
          json: { lastError }
        });
        return parseBody(response, StatusResponseSchema, what);
      }
      async setCursor(share, cursor, dryRun) {
        const what = `setting the cursor of "${share}"`;
        const response = await this.request("PUT", `/v1/shares/${encodeURIComponent(share)}/cursor`, what, {
          json: { cursor, dryRun }
        });
        return parseBody(response, CursorResponseSchema, what);
      }
    };
  }
});

// cli/admin-client.ts
import { readFile } from "node:fs/promises";
import { join } from "node:path";
async function resolveAdmin(flags, env) {
  let hub = flags.hub ?? env.FLEETSYNC_HUB;
  let token = flags["admin-token"] ?? env.FLEETSYNC_ADMIN_TOKEN;
  const dataDir = flags.data ?? (hub && token ? void 0 : "./data");
  if (dataDir && !token)
    token = (await readFile(join(dataDir, "admin.token"), "utf8").catch(() => "")).trim() || void 0;
  if (dataDir && !hub) {
    const info = await readFile(join(dataDir, HUB_INFO_FILE), "utf8").catch(() => "");
    hub = info ? JSON.parse(info).url : void 0;
  }
  if (!hub)
    throw new UsageError("no hub given: use --hub URL, FLEETSYNC_HUB, or --data DIR on the hub's machine");
  if (!/^https?:\/\/[^/]/.test(hub) || !URL.canParse(hub))
    throw new UsageError(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(hub) ? `--hub ${hub} is not an http(s) URL; e.g. --hub http://hub.lan:8787 (or https:// for a hub with --tls-cert)` : `--hub ${hub} is not an http(s) URL (no scheme); use --hub http://${hub} (or https://${hub} for a hub with --tls-cert)`
    );
  if (!token)
    throw new UsageError(
      "no admin token: use --admin-token, FLEETSYNC_ADMIN_TOKEN, or --data DIR on the hub's machine"
    );
  return { hub, token };
}
async function adminRequest(admin, method, path, body) {
  let response;
  try {
    response = await fetch(new URL(path, admin.hub), {
      method,
      headers: {
        authorization: `Bearer ${admin.token}`,
        ...body ? { "content-type": "application/json" } : {}
      },
      body: body ? JSON.stringify(body) : void 0
    });
  } catch (error) {
    const cause = error.cause;
    const reason = cause?.code ?? cause?.message ?? error.message;
    throw new FleetsyncError("unavailable", `hub ${admin.hub} is unreachable (${reason}); is it running?`);
  }
  if (!response.ok) throw await readHubError(response, `${method} ${path}`);
  return await response.json();
}
var ADMIN_OPTIONS, HUB_INFO_FILE;
var init_admin_client = __esm({
  "cli/admin-client.ts"() {
    "use strict";
    init_hub_client();
    init_fleetsync_error();
    init_cli_error();
    ADMIN_OPTIONS = {
      hub: { type: "string" },
      "admin-token": { type: "string" },
      data: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false }
    };
    HUB_INFO_FILE = "hub.json";
  }
});

// cli/format-table.ts
function formatTable(headers, rows) {
  const cells = [
    headers,
    ...rows.map((row) => row.map((v) => v === null || v === void 0 ? "-" : String(v)))
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells.map(
    (row) => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()
  ).join("\n");
}
var init_format_table = __esm({
  "cli/format-table.ts"() {
    "use strict";
  }
});

// cli/admin-commands.ts
var admin_commands_exports = {};
__export(admin_commands_exports, {
  ADMIN_FLAGS_HELP: () => ADMIN_FLAGS_HELP,
  DEVICE_COMMANDS: () => DEVICE_COMMANDS,
  SHARE_COMMANDS: () => SHARE_COMMANDS,
  TOKEN_COMMANDS: () => TOKEN_COMMANDS,
  adminCommand: () => adminCommand,
  one: () => one,
  print: () => print
});
import { parseArgs } from "node:util";
function formatBytes(bytes2) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes2;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
function formatPiholeItems(items) {
  return `syncs ${items.sync.join(", ")}; config keys ${items.config.length > 0 ? items.config.join(", ") : "none"}`;
}
function piholeItemsFlags(values) {
  const change = {};
  if (typeof values["pihole-sync"] === "string") change.sync = splitList(values["pihole-sync"]);
  if (typeof values["pihole-config"] === "string") change.config = splitList(values["pihole-config"]);
  if (Object.keys(change).length === 0) return void 0;
  const parsed = PiholeItemsChangeSchema.safeParse(change);
  if (!parsed.success) {
    const flag = (path) => path[0] === "sync" ? "--pihole-sync" : "--pihole-config";
    const issue = parsed.error.issues[0];
    throw new UsageError(
      issue ? `${flag(issue.path)}: ${issue.message}` : describeZodError(parsed.error, "Pi-hole items")
    );
  }
  return parsed.data;
}
function formatShare(share) {
  const lines = [
    `share ${share.name}: ${share.kind}, deletes ${share.deletes}, conflicts ${share.conflicts}, head ${share.head}, ${share.entries} entries`
  ];
  if (share.pihole) lines.push(`pihole: ${formatPiholeItems(share.pihole)}`);
  const held = share.heldDelete;
  if (held) {
    lines.push(
      `held delete: ${held.deletes} entries (of ${held.live}) from device ${held.deviceId}, since ${held.since}; nothing was deleted. If intended, confirm with: ${held.confirm}`
    );
  }
  const copies = share.conflictCopies;
  if (copies && copies.count > 0) {
    lines.push(
      `conflict copies: ${copies.count} (the losing side of concurrent edits; keep what you need and delete the rest): ${copies.paths.join(", ")}${copies.count > copies.paths.length ? ", \u2026" : ""}`
    );
  }
  if (share.deleteConfirmedUntil)
    lines.push(`mass delete confirmed: mass deletes are let through until ${share.deleteConfirmedUntil}`);
  lines.push(
    "",
    formatTable(
      ["DEVICE", "NAME", "ROLE", "LAST SEEN", "CURSOR", "LAG", "LAST ERROR"],
      share.members.map((m) => [
        m.deviceId,
        `${m.name}${m.revoked ? " (revoked)" : ""}`,
        `${m.role}${m.dryRun ? " (dry run)" : ""}`,
        m.lastSeenAt,
        m.cursor,
        `${m.lag} (${m.lagFiles} files, ${formatBytes(Number(m.lagBytes))})`,
        m.lastError ? `${m.lastError}${m.lastErrorAt ? ` (at ${m.lastErrorAt})` : ""}` : null
      ])
    )
  );
  if (share.recentRuns.length > 0) {
    lines.push(
      "",
      "recent runs (newest first):",
      formatTable(
        ["AT", "DEVICE", "KIND", "SEQ", "FILES", "BYTES", "RESULT", "ERROR"],
        share.recentRuns.map((r) => [
          r.at,
          r.deviceId,
          r.kind,
          `${r.fromSeq}..${r.toSeq}`,
          r.files,
          formatBytes(Number(r.bytes)),
          r.result,
          r.error
        ])
      )
    );
  }
  return lines.join("\n");
}
function print(json, value, table) {
  console.log(json ? JSON.stringify(value, null, 2) : table());
}
function adminCommand(help, extraOptions, body) {
  return {
    help,
    async run(args, env) {
      const { values, positionals } = parseArgs({
        args,
        options: { ...ADMIN_OPTIONS, ...extraOptions },
        allowPositionals: true
      });
      if (values.help) {
        console.log(help);
        return 0;
      }
      const admin = await resolveAdmin(
        values,
        env
      );
      return body(admin, values, positionals);
    }
  };
}
function oneOf(flag, value, allowed) {
  if (!allowed.includes(value))
    throw new UsageError(`--${flag} ${String(value)}: use one of ${allowed.join(", ")}`);
}
function one(positionals, what) {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}; see --help`);
  return positionals[0];
}
var ADMIN_FLAGS_HELP, SHARE_COMMANDS, DEVICE_COMMANDS, TOKEN_COMMANDS;
var init_admin_commands = __esm({
  "cli/admin-commands.ts"() {
    "use strict";
    init_fleetsync_error();
    init_pihole_items();
    init_shares();
    init_parse_duration();
    init_admin_client();
    init_cli_error();
    init_format_table();
    ADMIN_FLAGS_HELP = `Finding the hub: --hub URL and --admin-token T, or env FLEETSYNC_HUB and FLEETSYNC_ADMIN_TOKEN,
or --data DIR (default ./data) on the hub's machine. --json prints the hub's answer for scripts.`;
    SHARE_COMMANDS = {
      create: adminCommand(
        `Usage: fleetsync share create NAME [--kind folder|pihole] [--deletes propagate|keep] [--conflicts keep-both|newest-wins] [--approval none|required]
                              [--pihole-sync ITEMS] [--pihole-config KEYS]

Creates a share. Defaults: --kind folder --deletes propagate --conflicts keep-both --approval none.
With --approval required every device that joins it waits for 'fleetsync device approve ID'.
A Pi-hole share (--kind pihole) syncs the comma-separated ITEMS (default all of
${PIHOLE_SYNC_ITEMS.join(",")}) and the further pihole.toml KEYS of --pihole-config
(default none; dns.upstreams only when named). Never synced, and refused: webserver.*, files.*,
passwords and hashes, dns.interface, DHCP leases. Change them later with 'share set'.
${ADMIN_FLAGS_HELP}

Examples:
  npx fleetsync share create configs --deletes keep
  npx fleetsync share create dns --kind pihole --pihole-sync groups,lists,domains --pihole-config dns.upstreams`,
        {
          kind: { type: "string", default: "folder" },
          deletes: { type: "string", default: "propagate" },
          conflicts: { type: "string", default: "keep-both" },
          approval: { type: "string", default: "none" },
          "pihole-sync": { type: "string" },
          "pihole-config": { type: "string" }
        },
        async (admin, values, positionals) => {
          const name = one(positionals, "share name");
          oneOf("kind", values.kind, SHARE_KINDS);
          oneOf("approval", values.approval, ["none", "required"]);
          oneOf("deletes", values.deletes, DELETE_POLICIES);
          oneOf("conflicts", values.conflicts, CONFLICT_POLICIES);
          const pihole = piholeItemsFlags(values);
          if (pihole && values.kind !== "pihole")
            throw new UsageError(
              "--pihole-sync and --pihole-config belong to a Pi-hole share: add --kind pihole"
            );
          const share = await adminRequest(admin, "POST", "/v1/admin/shares", {
            name,
            kind: values.kind,
            deletes: values.deletes,
            conflicts: values.conflicts,
            approval: values.approval,
            ...pihole ? { pihole } : {}
          });
          print(
            values.json,
            share,
            () => `share "${name}" created (${values.kind}, deletes ${values.deletes}, conflicts ${values.conflicts}${values.approval === "required" ? ", approval required" : ""})${share.pihole ? `; it ${formatPiholeItems(share.pihole)}` : ""}`
          );
          return 0;
        }
      ),
      set: adminCommand(
        `Usage: fleetsync share set NAME [--pihole-sync ITEMS] [--pihole-config KEYS]

Changes what a Pi-hole share syncs (see share create); what you do not name stays. Its members
read the new choice at their next scan or apply. --pihole-config "" syncs no further keys.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share set dns --pihole-config dns.upstreams,dns.queryLogging`,
        { "pihole-sync": { type: "string" }, "pihole-config": { type: "string" } },
        async (admin, values, positionals) => {
          const name = one(positionals, "share name");
          const pihole = piholeItemsFlags(values);
          if (!pihole) throw new UsageError("share set: name --pihole-sync ITEMS or --pihole-config KEYS");
          const answer = await adminRequest(admin, "PATCH", `/v1/admin/shares/${encodeURIComponent(name)}`, {
            pihole
          });
          print(values.json, answer, () => `share "${name}" now ${formatPiholeItems(answer.pihole)}`);
          return 0;
        }
      ),
      list: adminCommand(
        `Usage: fleetsync share list [--json]

Lists shares with their kind, policies, head sequence and member count.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share list --data ./data`,
        {},
        async (admin, values) => {
          const answer = await adminRequest(admin, "GET", "/v1/admin/shares");
          print(
            values.json,
            answer,
            () => formatTable(
              ["NAME", "KIND", "DELETES", "CONFLICTS", "HEAD", "MEMBERS"],
              answer.shares.map((s) => [s.name, s.kind, s.deletes, s.conflicts, s.head, s.members])
            )
          );
          return 0;
        }
      ),
      show: adminCommand(
        `Usage: fleetsync share show NAME [--json]

Shows a share: policies, head, a held mass delete if any, per member its role (revoked ones marked),
last seen, cursor, lag (sequence numbers, files, bytes) and last error with its time, and the newest
20 runs (newest first).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share show configs`,
        {},
        async (admin, values, positionals) => {
          const name = one(positionals, "share name");
          const share = await adminRequest(
            admin,
            "GET",
            `/v1/admin/shares/${encodeURIComponent(name)}`
          );
          print(values.json, share, () => formatShare(share));
          return 0;
        }
      ),
      delete: adminCommand(
        `Usage: fleetsync share delete NAME --yes

Deletes a share from the hub: its entries, members, instructions and block index. Files on the
machines are not touched; blocks no other share uses go at the next garbage collection. Without
--yes it only says what would be deleted.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share delete old-configs --yes`,
        { yes: { type: "boolean", default: false } },
        async (admin, values, positionals) => {
          const name = one(positionals, "share name");
          if (!values.yes) {
            const share = await adminRequest(
              admin,
              "GET",
              `/v1/admin/shares/${encodeURIComponent(name)}`
            );
            throw new UsageError(
              `share delete ${name} would delete share "${name}" from the hub: ${share.entries} entries, ${share.members.length} members and their pending instructions (files on the machines stay); run it again with --yes`
            );
          }
          const answer = await adminRequest(
            admin,
            "DELETE",
            `/v1/admin/shares/${encodeURIComponent(name)}`
          );
          print(
            values.json,
            answer,
            () => `share "${name}" deleted (${answer.entries} entries, ${answer.members} members); files on the machines are untouched`
          );
          return 0;
        }
      ),
      "confirm-delete": adminCommand(
        `Usage: fleetsync share confirm-delete NAME

Lets reports of share NAME through that would delete at least half of its entries (a mass delete
the hub held; see share show), for the next 15 minutes: a large delete may arrive in several reports.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync share confirm-delete configs`,
        {},
        async (admin, values, positionals) => {
          const name = one(positionals, "share name");
          const answer = await adminRequest(
            admin,
            "POST",
            `/v1/admin/shares/${encodeURIComponent(name)}/confirm-delete`
          );
          print(
            values.json,
            answer,
            () => `share "${name}": the next mass delete is allowed until ${answer.until}${answer.held ? ` (held: ${answer.held})` : ""}`
          );
          return 0;
        }
      )
    };
    DEVICE_COMMANDS = {
      list: adminCommand(
        `Usage: fleetsync device list [--json]

Lists enrolled devices: id, name, state, shares and roles, last seen.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device list`,
        {},
        async (admin, values) => {
          const answer = await adminRequest(admin, "GET", "/v1/admin/devices");
          print(
            values.json,
            answer,
            () => formatTable(
              ["ID", "NAME", "STATE", "SHARES", "LAST SEEN"],
              answer.devices.map((d) => [d.id, d.name, d.state, d.shares.join(","), d.lastSeenAt])
            )
          );
          return 0;
        }
      ),
      revoke: adminCommand(
        `Usage: fleetsync device revoke ID

Revokes a device: its next request is refused. Enroll it again with a new token to bring it back.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device revoke dev_3f2a9c`,
        {},
        async (admin, values, positionals) => {
          const id = one(positionals, "device id");
          const answer = await adminRequest(admin, "POST", `/v1/admin/devices/${encodeURIComponent(id)}/revoke`);
          print(values.json, answer, () => `device ${id} revoked`);
          return 0;
        }
      ),
      approve: adminCommand(
        `Usage: fleetsync device approve ID

Lets a device that enrolled with an approval token (or into a share with --approval required) sync.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device approve dev_3f2a9c`,
        {},
        async (admin, values, positionals) => {
          const id = one(positionals, "device id");
          const answer = await adminRequest(admin, "POST", `/v1/admin/devices/${encodeURIComponent(id)}/approve`);
          print(
            values.json,
            answer,
            () => `device ${id} approved; it starts syncing on its next poll`
          );
          return 0;
        }
      ),
      rename: adminCommand(
        `Usage: fleetsync device rename ID NAME

Changes the name the hub shows for a device (device list, share show).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device rename dev_3f2a9c pi-kitchen`,
        {},
        async (admin, values, positionals) => {
          if (positionals.length !== 2) throw new UsageError("expected a device id and a new name; see --help");
          const [id, name] = positionals;
          const answer = await adminRequest(admin, "PATCH", `/v1/admin/devices/${encodeURIComponent(id)}`, {
            name
          });
          print(values.json, answer, () => `device ${id} is now called ${name}`);
          return 0;
        }
      ),
      remove: adminCommand(
        `Usage: fleetsync device remove ID

Forgets a revoked device: its memberships, pending instructions and token records go; its
history in the op log stays. Revoke it first (fleetsync device revoke ID).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device remove dev_3f2a9c`,
        {},
        async (admin, values, positionals) => {
          const id = one(positionals, "device id");
          const answer = await adminRequest(admin, "DELETE", `/v1/admin/devices/${encodeURIComponent(id)}`);
          print(
            values.json,
            answer,
            () => `device ${id} removed${answer.shares.length > 0 ? ` (was in ${answer.shares.join(", ")})` : ""}; its history stays in the op log`
          );
          return 0;
        }
      ),
      deny: adminCommand(
        `Usage: fleetsync device deny ID

Refuses a device that is waiting for approval, for good (it would have to enroll again with a new token).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync device deny dev_3f2a9c`,
        {},
        async (admin, values, positionals) => {
          const id = one(positionals, "device id");
          const answer = await adminRequest(admin, "POST", `/v1/admin/devices/${encodeURIComponent(id)}/deny`);
          print(values.json, answer, () => `device ${id} denied`);
          return 0;
        }
      )
    };
    TOKEN_COMMANDS = {
      create: adminCommand(
        `Usage: fleetsync token create --share NAME:ROLE [--share NAME:ROLE ...] [--ttl 24h] [--label TEXT] [--approval] [--command]
       fleetsync token create --metrics [--label TEXT]

Mints a single-use enrolment token. ROLE is source, replica or peer. Prints only the token,
or with --command the whole 'agent enroll' line to paste on the device. With --approval the device
waits after enrolling until 'fleetsync device approve ID'.
With --metrics it mints instead a read-only token for GET /metrics (Prometheus: authorization bearer).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync token create --share configs:replica --ttl 1h --label pi-kitchen --command`,
        {
          share: { type: "string", multiple: true },
          ttl: { type: "string", default: "24h" },
          label: { type: "string", default: "" },
          command: { type: "boolean", default: false },
          approval: { type: "boolean", default: false },
          metrics: { type: "boolean", default: false }
        },
        async (admin, values) => {
          if (values.metrics) {
            if (values.share) throw new UsageError("--metrics mints a metrics token; it takes no --share");
            const minted = await adminRequest(admin, "POST", "/v1/admin/metrics-tokens", {
              label: values.label
            });
            print(values.json, minted, () => minted.token);
            return 0;
          }
          const grants = (values.share ?? []).map((text2) => {
            const grant = parseShareGrant(text2);
            if (!grant)
              throw new UsageError(`--share ${text2}: expected NAME:ROLE with ROLE source, replica or peer`);
            return grant;
          });
          if (grants.length === 0) throw new UsageError("name at least one --share NAME:ROLE");
          if (parseDurationMs(values.ttl) === void 0)
            throw new UsageError(`--ttl ${String(values.ttl)}: use a duration such as 30m, 24h or 7d`);
          const answer = await adminRequest(admin, "POST", "/v1/admin/tokens", {
            shares: grants,
            ttl: values.ttl,
            label: values.label,
            approval: values.approval
          });
          if (values.json) console.log(JSON.stringify(answer, null, 2));
          else if (values.command) {
            const paths = grants.map((g) => ` --path ${g.name}=/path/to/${g.name}`).join("");
            const host = new URL(admin.hub).hostname;
            if (host === "0.0.0.0" || host === "[::]") {
              process.stderr.write(
                `note: the hub listens on every address (${host}); replace it with one the device can reach
`
              );
            }
            console.log(
              `npx fleetsync agent enroll --hub ${admin.hub} --token ${answer.token} --state ./fleetsync-agent${paths}`
            );
          } else console.log(answer.token);
          return 0;
        }
      ),
      list: adminCommand(
        `Usage: fleetsync token list [--json]

Lists enrolment tokens: id (jti), label, shares, state (unused, used, expired, revoked), expiry;
then metrics tokens (id mt_\u2026, label, state).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync token list`,
        {},
        async (admin, values) => {
          const answer = await adminRequest(admin, "GET", "/v1/admin/tokens");
          const metrics = await adminRequest(admin, "GET", "/v1/admin/metrics-tokens");
          answer.metricsTokens = metrics.tokens;
          const metricsTable = () => metrics.tokens.length === 0 ? "" : `

${formatTable(
            ["ID", "LABEL", "KIND", "STATE", "CREATED"],
            metrics.tokens.map((t) => [t.id, t.label, t.kind, t.state, t.createdAt])
          )}`;
          print(
            values.json,
            answer,
            () => formatTable(
              ["JTI", "LABEL", "SHARES", "STATE", "EXPIRES", "USED BY"],
              answer.tokens.map(
                (t) => [
                  t.jti,
                  t.label,
                  t.shares.map((s) => `${s.name}:${s.role}`).join(","),
                  t.state,
                  t.expiresAt,
                  t.usedBy
                ]
              )
            ) + metricsTable()
          );
          return 0;
        }
      ),
      revoke: adminCommand(
        `Usage: fleetsync token revoke JTI

Revokes an unused enrolment token so nobody can enroll with it, or a metrics token (id mt_\u2026).
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync token revoke 0b6c3c1e-7d1e-4b8e-9a53-1f0f2c1d9e77`,
        {},
        async (admin, values, positionals) => {
          const jti = one(positionals, "token id");
          const kind = jti.startsWith("mt_") ? "metrics-tokens" : "tokens";
          const answer = await adminRequest(admin, "POST", `/v1/admin/${kind}/${encodeURIComponent(jti)}/revoke`);
          print(values.json, answer, () => `token ${jti} revoked`);
          return 0;
        }
      )
    };
  }
});

// cli/alert-commands.ts
var alert_commands_exports = {};
__export(alert_commands_exports, {
  ALERT_COMMANDS: () => ALERT_COMMANDS
});
function formatSeconds(seconds) {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
var EVENTS, ALERT_COMMANDS;
var init_alert_commands = __esm({
  "cli/alert-commands.ts"() {
    "use strict";
    init_parse_duration();
    init_admin_client();
    init_admin_commands();
    init_cli_error();
    init_format_table();
    EVENTS = ["error", "offline", "conflict", "recovered"];
    ALERT_COMMANDS = {
      add: adminCommand(
        `Usage: fleetsync alert add --url URL [--on error,offline,conflict,recovered] [--offline-after 5m]

Makes the hub POST an event to URL whenever a device fails to apply changes (error, with the agent's
reason), is silent longer than --offline-after (offline, 1m to 30d), a conflict is recorded, or a problem
clears (recovered). Default: all four events, --offline-after 5m. The body is JSON
{ what, share, device: { id, name }, why, when, hubId, alertId }, or plain text for an ntfy topic
(https://ntfy.sh/TOPIC or an ntfy.* host). Failed deliveries are retried; each alert sends at most
30 events a minute.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync alert add --url https://ntfy.sh/my-fleet --on error,offline --offline-after 10m`,
        { url: { type: "string" }, on: { type: "string" }, "offline-after": { type: "string" } },
        async (admin, values) => {
          const url = values.url;
          if (!url) throw new UsageError("name the URL to call: --url https://\u2026");
          if (!/^https?:\/\//.test(url) || !URL.canParse(url))
            throw new UsageError(`--url ${url}: use an http(s) URL, e.g. https://ntfy.sh/my-fleet`);
          const on = values.on === void 0 ? void 0 : String(values.on).split(",").map((s) => s.trim());
          const unknown = on?.find((e) => !EVENTS.includes(e));
          if (unknown !== void 0)
            throw new UsageError(`--on ${String(values.on)}: "${unknown}" is not one of ${EVENTS.join(", ")}`);
          const offlineAfter = values["offline-after"];
          if (offlineAfter !== void 0 && parseDurationMs(offlineAfter) === void 0)
            throw new UsageError(`--offline-after ${offlineAfter}: use a duration such as 5m, 1h or 1d`);
          const answer = await adminRequest(admin, "POST", "/v1/admin/alerts", {
            url,
            ...on ? { on } : {},
            ...offlineAfter ? { offlineAfter } : {}
          });
          print(
            values.json,
            answer,
            () => `alert ${answer.id} added: ${answer.on.join(",")} \u2192 ${answer.url} (offline after ${formatSeconds(answer.offlineAfterSeconds)})`
          );
          return 0;
        }
      ),
      list: adminCommand(
        `Usage: fleetsync alert list [--json]

Lists alerts: id, events, offline limit, URL.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync alert list`,
        {},
        async (admin, values) => {
          const answer = await adminRequest(admin, "GET", "/v1/admin/alerts");
          print(
            values.json,
            answer,
            () => formatTable(
              ["ID", "ON", "OFFLINE AFTER", "URL"],
              answer.alerts.map((a) => [a.id, a.on.join(","), formatSeconds(a.offlineAfterSeconds), a.url])
            )
          );
          return 0;
        }
      ),
      remove: adminCommand(
        `Usage: fleetsync alert remove ID

Stops an alert: the hub calls its URL no more.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync alert remove al_3f2a9c0d1e2b`,
        {},
        async (admin, values, positionals) => {
          const id = one(positionals, "alert id");
          const answer = await adminRequest(admin, "DELETE", `/v1/admin/alerts/${encodeURIComponent(id)}`);
          print(values.json, answer, () => `alert ${id} removed`);
          return 0;
        }
      )
    };
  }
});

// cli/check-hub-url.ts
function checkHubUrl(value, flag = "--hub") {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    throw new UsageError(
      `${flag} ${value}: give the scheme, e.g. ${flag} http://${value.replace(/^\/+/, "")}`
    );
  if (!/^https?:\/\//i.test(value))
    throw new UsageError(
      `${flag} ${value}: use an http:// or https:// URL, e.g. ${flag} http://hub.lan:8787`
    );
  if (!URL.canParse(value) || new URL(value).hostname === "")
    throw new UsageError(`${flag} ${value}: not a valid URL; e.g. ${flag} http://hub.lan:8787`);
  return value;
}
var init_check_hub_url = __esm({
  "cli/check-hub-url.ts"() {
    "use strict";
    init_cli_error();
  }
});

// agent/config/resolve-real-path.ts
import { realpath } from "node:fs/promises";
import { basename, dirname, join as join2, resolve } from "node:path";
async function resolveRealPath(path) {
  const absolute = resolve(path);
  const missing = [];
  let current = absolute;
  for (; ; ) {
    try {
      return join2(await realpath(current), ...missing.reverse());
    } catch (error) {
      const code = error.code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
      const parent = dirname(current);
      if (parent === current) return absolute;
      missing.push(basename(current));
      current = parent;
    }
  }
}
var init_resolve_real_path = __esm({
  "agent/config/resolve-real-path.ts"() {
    "use strict";
  }
});

// cli/package-version.ts
var package_version_exports = {};
__export(package_version_exports, {
  packageVersion: () => packageVersion
});
import { readFileSync } from "node:fs";
function packageVersion() {
  cached ??= JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
  return cached;
}
var cached;
var init_package_version = __esm({
  "cli/package-version.ts"() {
    "use strict";
  }
});

// cli/process-lock.ts
import { createHash } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join as join3 } from "node:path";
async function socketAddress(kind, dir) {
  const real = await resolveRealPath(dir);
  const digest = createHash("sha256").update(real).digest("hex").slice(0, 32);
  const name = `fleetsync-${kind}-${digest}`;
  return process.platform === "linux" ? `\0${name}` : join3(tmpdir(), `${name}.sock`);
}
async function readLockState(kind, dir) {
  const answer = await ask(await socketAddress(kind, dir));
  if (answer === "nobody") return { running: false };
  return answer === "silent" ? { running: true } : { running: true, holder: answer };
}
function ask(address) {
  return new Promise((resolveAnswer) => {
    let text2 = "";
    const socket = connect({ path: address });
    const timer = setTimeout(() => finish("silent"), ASK_TIMEOUT_MS);
    function finish(answer) {
      clearTimeout(timer);
      socket.destroy();
      resolveAnswer(answer);
    }
    socket.setEncoding("utf8");
    socket.on("data", (chunk2) => {
      text2 += chunk2;
      if (text2.includes("\n")) socket.end();
    });
    socket.on("end", () => {
      try {
        const holder = JSON.parse(text2.split("\n")[0] ?? "");
        finish(typeof holder.pid === "number" ? holder : "silent");
      } catch {
        finish("silent");
      }
    });
    socket.on(
      "error",
      (error) => finish(error.code === "ECONNREFUSED" || error.code === "ENOENT" ? "nobody" : "silent")
    );
  });
}
function listen(server, address) {
  return new Promise((done) => {
    const onError = (error) => done(error);
    server.once("error", onError);
    server.listen({ path: address, exclusive: true }, () => {
      server.off("error", onError);
      done(void 0);
    });
  });
}
async function acquireProcessLock(options) {
  const address = await socketAddress(options.kind, options.dir);
  const holder = {
    pid: process.pid,
    startedAt: (/* @__PURE__ */ new Date()).toISOString(),
    version: packageVersion()
  };
  const server = createServer((socket) => {
    socket.unref();
    socket.on("error", () => {
    });
    socket.end(`${JSON.stringify(holder)}
`);
  });
  let failure = await listen(server, address);
  if (failure?.code === "EADDRINUSE" && !address.startsWith("\0") && await ask(address) === "nobody") {
    await rm(address, { force: true });
    failure = await listen(server, address);
  }
  if (failure) {
    if (failure.code !== "EADDRINUSE") {
      throw new FleetsyncError("internal", `cannot lock ${options.dir}: ${failure.message}`, {
        cause: failure
      });
    }
    const other = await ask(address);
    const who = typeof other === "object" ? `another ${options.kind} (pid ${other.pid}, since ${other.startedAt})` : `another ${options.kind}`;
    const what = options.kind === "agent" ? options.dir : `data dir ${options.dir}`;
    throw new FleetsyncError("conflict", `${who} runs on ${what}; stop it first`);
  }
  server.unref();
  const pidFile = options.pidFile ? join3(options.dir, options.pidFile) : void 0;
  if (pidFile)
    await writeFile(pidFile, `${process.pid}
`, { mode: 420 }).catch((error) => {
      if (error.code !== "ENOENT") throw error;
    });
  let released;
  return {
    holder,
    release() {
      released ??= (async () => {
        await new Promise((done) => server.close(() => done()));
        if (pidFile) await rm(pidFile, { force: true });
      })();
      return released;
    }
  };
}
var ASK_TIMEOUT_MS;
var init_process_lock = __esm({
  "cli/process-lock.ts"() {
    "use strict";
    init_resolve_real_path();
    init_fleetsync_error();
    init_package_version();
    ASK_TIMEOUT_MS = 2e3;
  }
});

// agent/hooks/on-apply-setting.ts
import { z as z6 } from "zod";
function resolveOnApply(setting) {
  if (typeof setting === "string")
    return { command: setting, timeoutMs: DEFAULT_HOOK_TIMEOUT_SECONDS * 1e3 };
  return {
    command: setting.command,
    timeoutMs: (setting.timeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS) * 1e3
  };
}
var DEFAULT_HOOK_TIMEOUT_SECONDS, MAX_HOOK_TIMEOUT_SECONDS, OnApplySchema;
var init_on_apply_setting = __esm({
  "agent/hooks/on-apply-setting.ts"() {
    "use strict";
    DEFAULT_HOOK_TIMEOUT_SECONDS = 30;
    MAX_HOOK_TIMEOUT_SECONDS = 3600;
    OnApplySchema = z6.union([
      z6.string().trim().min(1, "must be a shell command, e.g. systemctl reload nginx"),
      z6.strictObject({
        command: z6.string().trim().min(1, "must be a shell command, e.g. systemctl reload nginx"),
        timeoutSeconds: z6.number().positive().max(MAX_HOOK_TIMEOUT_SECONDS).optional()
      })
    ]);
  }
});

// agent/config/agent-config.ts
var agent_config_exports = {};
__export(agent_config_exports, {
  AgentConfigSchema: () => AgentConfigSchema,
  CONFIG_FILE: () => CONFIG_FILE,
  SHARE_DEFAULTS: () => SHARE_DEFAULTS,
  loadAgentConfig: () => loadAgentConfig,
  parseAgentConfig: () => parseAgentConfig,
  resolveShares: () => resolveShares,
  saveAgentConfig: () => saveAgentConfig
});
import { readFile as readFile2, rename, writeFile as writeFile2 } from "node:fs/promises";
import { join as join4 } from "node:path";
import { parse, stringify } from "yaml";
import { z as z7 } from "zod";
function resolveShares(config) {
  return Object.entries(config.shares).map(([name, share]) => ({
    name,
    path: share.path,
    role: share.role,
    kind: share.kind,
    deletes: share.deletes,
    debounceMs: share.debounceMs ?? config.defaults.debounceMs ?? SHARE_DEFAULTS.debounceMs,
    maxDebounceMs: share.maxDebounceMs ?? config.defaults.maxDebounceMs ?? SHARE_DEFAULTS.maxDebounceMs,
    rescanMinutes: share.rescanMinutes ?? config.defaults.rescanMinutes ?? SHARE_DEFAULTS.rescanMinutes,
    retentionDays: share.retentionDays ?? config.defaults.retentionDays ?? SHARE_DEFAULTS.retentionDays,
    ignore: [...config.defaults.ignore ?? [], ...share.ignore ?? []],
    dryRun: share.dryRun ?? config.defaults.dryRun ?? SHARE_DEFAULTS.dryRun,
    specialModeBits: share.specialModeBits ?? config.defaults.specialModeBits ?? SHARE_DEFAULTS.specialModeBits,
    ...share.kind === "pihole" ? { settings: share.pihole } : {},
    ...share.onApply ? { onApply: share.onApply } : {}
  }));
}
function firstLine(text2) {
  return text2.split("\n")[0] ?? text2;
}
function parseAgentConfig(text2, source) {
  let raw;
  try {
    raw = parse(text2);
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `${source} is not valid YAML: ${firstLine(error.message)}; ${CONFIG_FIX}`,
      { cause: error }
    );
  }
  const parsed = AgentConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new FleetsyncError("invalid", `${describeZodError(parsed.error, source)}; ${CONFIG_FIX}`);
  return parsed.data;
}
async function loadAgentConfig(stateDir) {
  const file = join4(stateDir, CONFIG_FILE);
  let text2;
  try {
    text2 = await readFile2(file, "utf8");
  } catch (error) {
    throw new FleetsyncError(
      "not_found",
      `cannot read ${file} (${error.code}); enroll first: fleetsync agent enroll --help`
    );
  }
  return parseAgentConfig(text2, file);
}
async function saveAgentConfig(stateDir, config) {
  const file = join4(stateDir, CONFIG_FILE);
  await writeFile2(`${file}.tmp`, stringify(config), { mode: 384 });
  await rename(`${file}.tmp`, file);
}
var CONFIG_FILE, SyncSettingsSchema, ShareBaseSchema, ShareConfigSchema, AgentConfigSchema, SHARE_DEFAULTS, CONFIG_FIX;
var init_agent_config = __esm({
  "agent/config/agent-config.ts"() {
    "use strict";
    init_fleetsync_error();
    init_shares();
    init_on_apply_setting();
    CONFIG_FILE = "agent.yaml";
    SyncSettingsSchema = z7.strictObject({
      debounceMs: z7.number().int().min(0).max(6e4).optional(),
      maxDebounceMs: z7.number().int().min(0).max(6e5).optional(),
      rescanMinutes: z7.number().min(0).max(10080).optional(),
      retentionDays: z7.number().min(0).max(3650).optional(),
      ignore: z7.array(z7.string()).optional(),
      dryRun: z7.boolean().optional(),
      /** Replicate setuid, setgid and sticky bits too (off: replicas apply permission bits only, 0o777). */
      specialModeBits: z7.boolean().optional()
    });
    ShareBaseSchema = SyncSettingsSchema.extend({
      role: z7.enum(ROLES),
      /** A command run after each applied instruction that changed something (this device's own config only). */
      onApply: OnApplySchema.optional(),
      deletes: z7.enum(DELETE_POLICIES).default("propagate")
    });
    ShareConfigSchema = z7.preprocess(
      (raw) => raw && typeof raw === "object" && !("kind" in raw) ? { ...raw, kind: "folder" } : raw,
      z7.discriminatedUnion("kind", [
        ShareBaseSchema.extend({ kind: z7.literal("folder"), path: z7.string() }),
        ShareBaseSchema.extend({
          kind: z7.literal("pihole"),
          path: z7.string().default(""),
          pihole: z7.record(z7.string(), z7.unknown()).default({})
        })
      ])
    );
    AgentConfigSchema = z7.strictObject({
      hub: z7.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL, e.g. http://hub.lan:8787" }),
      hubId: z7.string().min(1),
      deviceId: z7.string().min(1),
      name: z7.string().min(1),
      defaults: SyncSettingsSchema.default({}),
      log: z7.strictObject({
        level: z7.enum(["debug", "info", "warn", "error"]).default("info"),
        destination: z7.string().default("stdout"),
        /** Unset or auto: text on a terminal or under journald, JSON lines elsewhere. */
        format: z7.enum(["auto", "text", "json"]).optional()
      }).default({ level: "info", destination: "stdout" }),
      shares: z7.record(ShareNameSchema, ShareConfigSchema).default({})
    });
    SHARE_DEFAULTS = {
      debounceMs: 200,
      maxDebounceMs: 2e3,
      rescanMinutes: 60,
      retentionDays: 30,
      ignore: [],
      dryRun: false,
      specialModeBits: false
    };
    CONFIG_FIX = "fix the file, or re-enroll with a new token: fleetsync agent enroll --force --help";
  }
});

// agent/config/check-share-paths.ts
import { sep } from "node:path";
function isInside(inner, outer) {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}
async function checkSharePaths(input) {
  const stateDir = await resolveRealPath(input.stateDir);
  const shares2 = await Promise.all(
    Object.entries(input.shares).filter(([, path]) => path !== "").map(async ([name, path]) => ({ name, path, real: await resolveRealPath(path) }))
  );
  const real = (path, resolved) => path === resolved ? path : `${path} (really ${resolved})`;
  for (const share of shares2) {
    const folder = `${describe(share.name)} folder ${real(share.path, share.real)}`;
    const state = `the state dir ${real(input.stateDir, stateDir)}`;
    const fix = "keep the state dir outside every share folder (e.g. --state /var/lib/fleetsync-agent)";
    if (share.real === stateDir)
      throw new FleetsyncError(
        "invalid",
        `${state} is the ${folder}: the agent would sync its own key and state; ${fix}`
      );
    if (isInside(stateDir, share.real))
      throw new FleetsyncError(
        "invalid",
        `${state} lies inside the ${folder}: the agent would sync its own key and state; ${fix}`
      );
    if (isInside(share.real, stateDir))
      throw new FleetsyncError(
        "invalid",
        `the ${folder} lies inside ${state}: the agent would sync its own key and state; ${fix}`
      );
  }
  for (const [i, a] of shares2.entries()) {
    for (const b of shares2.slice(i + 1)) {
      const [outer, inner] = isInside(b.real, a.real) ? [a, b] : [b, a];
      if (!isInside(inner.real, outer.real)) continue;
      const how = inner.real === outer.real ? "is the same folder as" : "lies inside";
      throw new FleetsyncError(
        "invalid",
        `${describe(inner.name)} folder ${real(inner.path, inner.real)} ${how} ${describe(outer.name)} folder ${real(outer.path, outer.real)}: one folder would be synced twice; give each share its own folder, side by side`
      );
    }
  }
}
var describe;
var init_check_share_paths = __esm({
  "agent/config/check-share-paths.ts"() {
    "use strict";
    init_fleetsync_error();
    init_resolve_real_path();
    describe = (share) => `share "${share}"`;
  }
});

// agent/identity/device-identity.ts
import { chmod, readFile as readFile3, rename as rename2, writeFile as writeFile3 } from "node:fs/promises";
import { join as join5 } from "node:path";
import { exportJWK, generateKeyPair, importJWK } from "jose";
import { z as z8 } from "zod";
async function createDeviceKey() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const { kty, crv, x } = await exportJWK(publicKey);
  return {
    publicJwk: { kty, crv, x },
    async save(stateDir) {
      const file = join5(stateDir, PRIVATE_KEY_FILE);
      await writeFile3(`${file}.tmp`, JSON.stringify(await exportJWK(privateKey)), { mode: 384 });
      await chmod(`${file}.tmp`, 384);
      await rename2(`${file}.tmp`, file);
    }
  };
}
function reEnroll(stateDir) {
  return `re-enroll with a new token: fleetsync agent enroll --force --state ${stateDir} --hub URL --token TOKEN (then revoke the old device)`;
}
async function readIdentityFile(stateDir, name, what) {
  const file = join5(stateDir, name);
  let text2;
  try {
    text2 = await readFile3(file, "utf8");
  } catch (error) {
    const code = error.code;
    throw new FleetsyncError(
      "invalid",
      `cannot read ${what} ${file} (${code === "ENOENT" ? "missing" : code}); ${reEnroll(stateDir)}`,
      { cause: error }
    );
  }
  try {
    return JSON.parse(text2);
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `${what} ${file} is damaged (not JSON: ${error.message}); ${reEnroll(stateDir)}`,
      { cause: error }
    );
  }
}
async function loadDeviceKey(stateDir) {
  const jwk = await readIdentityFile(stateDir, PRIVATE_KEY_FILE, "the device key");
  const file = join5(stateDir, PRIVATE_KEY_FILE);
  const parsed = PrivateJwkSchema.safeParse(jwk);
  if (!parsed.success)
    throw new FleetsyncError(
      "invalid",
      `the device key ${file} is damaged (not an Ed25519 private key); ${reEnroll(stateDir)}`
    );
  try {
    return await importJWK(parsed.data, "EdDSA");
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `the device key ${file} is damaged (${error.message}); ${reEnroll(stateDir)}`,
      { cause: error }
    );
  }
}
async function savePinnedJwks(stateDir, jwks) {
  await writeFile3(join5(stateDir, PINNED_JWKS_FILE), JSON.stringify(jwks, null, 2), { mode: 384 });
}
async function loadPinnedJwks(stateDir) {
  const jwks = await readIdentityFile(stateDir, PINNED_JWKS_FILE, "the pinned hub keys");
  const parsed = JwksSchema.safeParse(jwks);
  if (!parsed.success)
    throw new FleetsyncError(
      "invalid",
      `the pinned hub keys ${join5(stateDir, PINNED_JWKS_FILE)} are damaged (${describeZodError(parsed.error, "the file")}); ${reEnroll(stateDir)}`
    );
  return parsed.data;
}
var PRIVATE_KEY_FILE, PINNED_JWKS_FILE, PrivateJwkSchema;
var init_device_identity = __esm({
  "agent/identity/device-identity.ts"() {
    "use strict";
    init_fleetsync_error();
    init_messages();
    PRIVATE_KEY_FILE = "device.key.json";
    PINNED_JWKS_FILE = "hub.jwks.json";
    PrivateJwkSchema = z8.object({
      kty: z8.literal("OKP"),
      crv: z8.literal("Ed25519"),
      x: z8.string().min(1),
      d: z8.string().min(1)
    });
  }
});

// agent/enroll-device.ts
var enroll_device_exports = {};
__export(enroll_device_exports, {
  enrollDevice: () => enrollDevice
});
import { chmod as chmod2, mkdir, rename as rename3, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join as join6, resolve as resolve2 } from "node:path";
import { decodeJwt } from "jose";
async function enrollDevice(options) {
  const stateDir = resolve2(options.stateDir);
  const replaced = await findExistingIdentity(stateDir);
  if (replaced && !options.force) {
    throw new FleetsyncError(
      "conflict",
      `${stateDir} already holds the identity of device ${replaced.deviceId} ("${replaced.name}"); to run it: fleetsync agent run --state ${stateDir}; to replace it with a new device: add --force, then revoke the old one: fleetsync device revoke ${replaced.deviceId}`
    );
  }
  const granted = sharesNamedBy(options.token);
  for (const [flag, named] of [
    ["--path", options.paths],
    ["--pihole", options.pihole ?? {}]
  ]) {
    const unknown = granted && Object.keys(named).find((share) => !granted.has(share));
    if (unknown) {
      throw new FleetsyncError(
        "invalid",
        `${flag} names share "${unknown}", but the token grants only: ${[...granted?.keys() ?? []].join(", ")}`
      );
    }
  }
  await checkSharePaths({ stateDir, shares: options.paths });
  if (granted) await prepareShareFolders(granted, options.paths);
  await mkdir(stateDir, { recursive: true, mode: 448 });
  const deviceKey = await createDeviceKey();
  const answer = await enrollWithHub(options.hub, {
    token: options.token,
    ...options.name ? { name: options.name } : {},
    hostname: hostname().slice(0, 128) || "unknown",
    publicKey: deviceKey.publicJwk
  });
  const name = answer.name ?? options.name ?? hostname();
  if (!granted) await prepareShareFolders(new Map(answer.shares.map((s) => [s.name, s.role])), options.paths);
  if (replaced) await setAsideShareStates(stateDir);
  await deviceKey.save(stateDir);
  await savePinnedJwks(stateDir, answer.jwks);
  const config = {
    hub: options.hub,
    hubId: answer.hubId,
    deviceId: answer.deviceId,
    name,
    defaults: {},
    log: { level: "info", destination: "stdout" },
    shares: Object.fromEntries(
      answer.shares.map((share) => [
        share.name,
        share.kind === "pihole" ? (
          // The local Pi-hole's API settings are the device's own (its password never goes to the hub).
          {
            kind: "pihole",
            role: share.role,
            deletes: share.deletes,
            path: "",
            pihole: { ...options.pihole?.[share.name] }
          }
        ) : {
          kind: "folder",
          path: options.paths[share.name] ? resolve2(options.paths[share.name]) : "",
          role: share.role,
          deletes: share.deletes
        }
      ])
    )
  };
  await saveAgentConfig(stateDir, config);
  return { deviceId: answer.deviceId, name, stateDir, shares: answer.shares, config, replaced };
}
async function findExistingIdentity(stateDir) {
  const has = async (file) => await stat(join6(stateDir, file)).catch(() => void 0) !== void 0;
  if (!await has(CONFIG_FILE) && !await has(PRIVATE_KEY_FILE)) return void 0;
  try {
    const config = await loadAgentConfig(stateDir);
    return { deviceId: config.deviceId, name: config.name };
  } catch {
    return { deviceId: "(unknown: agent.yaml is missing or damaged)", name: "?" };
  }
}
async function prepareShareFolders(roles, paths) {
  for (const [share, given] of Object.entries(paths)) {
    const role = roles.get(share);
    if (!role) continue;
    const folder = resolve2(given);
    const found = await stat(folder).catch((error) => {
      if (error.code === "ENOENT") return void 0;
      throw new FleetsyncError("invalid", `--path ${share}=${given}: cannot read ${folder} (${error.code})`);
    });
    if (found && !found.isDirectory())
      throw new FleetsyncError("invalid", `--path ${share}=${given}: ${folder} is not a directory`);
    if (found) continue;
    if (role === "source") {
      throw new FleetsyncError(
        "invalid",
        `--path ${share}=${given}: ${folder} does not exist; a source shares an existing folder \u2014 create it or fix the path`
      );
    }
    try {
      await mkdir(folder, { recursive: true });
      await chmod2(folder, 493);
    } catch (error) {
      throw new FleetsyncError(
        "invalid",
        `--path ${share}=${given}: cannot create ${folder} (${error.code}); create it or fix the path`,
        { cause: error }
      );
    }
  }
}
async function setAsideShareStates(stateDir) {
  const stamp2 = (/* @__PURE__ */ new Date()).toISOString().replaceAll(":", "-");
  await rename3(join6(stateDir, "shares"), join6(stateDir, `shares.replaced-${stamp2}`)).catch(
    (error) => {
      if (error.code !== "ENOENT") throw error;
    }
  );
}
function sharesNamedBy(token) {
  try {
    const shares2 = decodeJwt(token).shares;
    return Array.isArray(shares2) ? new Map(shares2.map((s) => [String(s.name), s.role])) : void 0;
  } catch {
    return void 0;
  }
}
var init_enroll_device = __esm({
  "agent/enroll-device.ts"() {
    "use strict";
    init_fleetsync_error();
    init_agent_config();
    init_check_share_paths();
    init_hub_client();
    init_device_identity();
  }
});

// agent/hub/backoff.ts
function backoffMs(attempt, random, options = DEFAULT_BACKOFF) {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + ceiling / 2 * random);
}
function sleep(ms, signal) {
  return new Promise((resolve7) => {
    if (signal?.aborted) return resolve7();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve7();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
var DEFAULT_BACKOFF;
var init_backoff = __esm({
  "agent/hub/backoff.ts"() {
    "use strict";
    DEFAULT_BACKOFF = { baseMs: 250, capMs: 3e4 };
  }
});

// agent/hub/run-heartbeat.ts
async function runHeartbeat(deps) {
  let failing = false;
  while (!deps.signal.aborted) {
    try {
      await deps.client.config();
      if (failing) deps.log.info("the hub answers again");
      failing = false;
    } catch (error) {
      if (!failing)
        deps.log.warn("could not reach the hub; will keep trying", { error: error.message });
      failing = true;
    }
    await sleep(deps.intervalMs ?? HEARTBEAT_INTERVAL_MS, deps.signal);
  }
}
var HEARTBEAT_INTERVAL_MS;
var init_run_heartbeat = __esm({
  "agent/hub/run-heartbeat.ts"() {
    "use strict";
    init_backoff();
    HEARTBEAT_INTERVAL_MS = 3e4;
  }
});

// shared/blocks/content-hash.ts
function contentHash(size, blockSize, blocks2) {
  return sha256Hex(new TextEncoder().encode(`${size}:${blockSize}:${blocks2.join("")}`));
}
var init_content_hash = __esm({
  "shared/blocks/content-hash.ts"() {
    "use strict";
    init_hex();
  }
});

// agent/kinds/folder/fs/share-fs.ts
function errnoOf(error) {
  if (error instanceof FsError) return error.errno;
  return error?.code;
}
function joinSharePath(dir, name) {
  return dir === "" ? name : `${dir}/${name}`;
}
function parentOf2(path) {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}
function baseName(path) {
  return path.slice(path.lastIndexOf("/") + 1);
}
var CODE_HINTS, FsError;
var init_share_fs = __esm({
  "agent/kinds/folder/fs/share-fs.ts"() {
    "use strict";
    init_fleetsync_error();
    CODE_HINTS = {
      ENOSPC: "disk full (ENOSPC); free space and the agent will retry",
      EACCES: "permission denied (EACCES)",
      EPERM: "operation not permitted (EPERM)",
      EROFS: "read-only file system (EROFS)",
      ENOTDIR: "a symlink or a file stands where a directory is needed; not looking through it",
      ELOOP: "it is a symlink; not following it"
    };
    FsError = class extends FleetsyncError {
      constructor(op, path, errno, detail) {
        const reason = CODE_HINTS[errno] ?? detail ?? errno;
        super("unavailable", `cannot ${op} ${path === "" ? "the share root" : path}: ${reason}`, {
          retryable: true
        });
        this.op = op;
        this.path = path;
        this.errno = errno;
        this.reason = reason;
      }
      op;
      path;
      errno;
      name = "FsError";
      /** Why, without the operation and path (for a result that names its path already). */
      reason;
    };
  }
});

// agent/kinds/folder/fs/temp-name.ts
import { randomBytes } from "node:crypto";
function newTempName() {
  return `${TEMP_PREFIX}${randomBytes(12).toString("hex")}${TEMP_SUFFIX}`;
}
function isTempName(name) {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX);
}
var TEMP_PREFIX, TEMP_SUFFIX;
var init_temp_name = __esm({
  "agent/kinds/folder/fs/temp-name.ts"() {
    "use strict";
    TEMP_PREFIX = ".fleetsync.";
    TEMP_SUFFIX = ".tmp";
  }
});

// agent/blocks/hash-blocks.ts
import { createHash as createHash2 } from "node:crypto";
function sha256(bytes2) {
  return createHash2("sha256").update(bytes2).digest("hex");
}
var init_hash_blocks = __esm({
  "agent/blocks/hash-blocks.ts"() {
    "use strict";
    init_block_size();
    init_content_hash();
  }
});

// agent/kinds/folder/scan/hash-file.ts
async function hashFile(fs, path, size) {
  const blockSize = blockSizeFor(size);
  const buffer = Buffer.allocUnsafe(blockSize);
  const blocks2 = [];
  const handle = await fs.openRead(path);
  let total = 0;
  try {
    while (true) {
      let filled = 0;
      while (filled < buffer.length) {
        const bytesRead = await handle.read(buffer, filled, buffer.length - filled, total + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) break;
      blocks2.push(sha256(buffer.subarray(0, filled)));
      total += filled;
      if (filled < buffer.length) break;
    }
  } finally {
    await handle.close();
  }
  return { size: total, blockSize, blocks: blocks2, hash: await contentHash(total, blockSize, blocks2) };
}
var init_hash_file = __esm({
  "agent/kinds/folder/scan/hash-file.ts"() {
    "use strict";
    init_block_size();
    init_content_hash();
    init_hash_blocks();
  }
});

// agent/kinds/folder/apply/block-prefetcher.ts
var SMALL_FILE_BYTES, GROUP_BYTES, BlockPrefetcher;
var init_block_prefetcher = __esm({
  "agent/kinds/folder/apply/block-prefetcher.ts"() {
    "use strict";
    init_fleetsync_error();
    init_messages();
    init_hash_blocks();
    SMALL_FILE_BYTES = 1024 * 1024;
    GROUP_BYTES = 16 * 1024 * 1024;
    BlockPrefetcher = class {
      constructor(fs, ops, index2, localBlocks, fetchBlocks, signal) {
        this.fs = fs;
        this.ops = ops;
        this.index = index2;
        this.localBlocks = localBlocks;
        this.fetchBlocks = fetchBlocks;
        this.signal = signal;
      }
      fs;
      ops;
      index;
      localBlocks;
      fetchBlocks;
      signal;
      cache = /* @__PURE__ */ new Map();
      groupEnd = -1;
      /** Blocks fetched ahead for the op at `position` (and the small files after it), by hash. */
      async blocksFor(position) {
        const op = this.ops[position];
        if (op?.type !== "file" || op.size > SMALL_FILE_BYTES) return /* @__PURE__ */ new Map();
        if (position > this.groupEnd) await this.fetchGroup(position);
        return this.cache;
      }
      async fetchGroup(start) {
        this.cache = /* @__PURE__ */ new Map();
        const wanted = /* @__PURE__ */ new Set();
        let bytes2 = 0;
        let position = start;
        for (; position < this.ops.length && bytes2 < GROUP_BYTES; position++) {
          const op = this.ops[position];
          if (op.type !== "file" || op.size > SMALL_FILE_BYTES) break;
          if (await this.isAlreadyThere(op)) continue;
          for (const hash of op.blocks) {
            if (wanted.has(hash) || this.localBlocks(hash)) continue;
            wanted.add(hash);
            bytes2 += Math.min(op.blockSize, op.size);
          }
        }
        this.groupEnd = position - 1;
        const hashes = [...wanted];
        for (let i = 0; i < hashes.length; i += MAX_HASHES_PER_FETCH) {
          const batch = new Set(hashes.slice(i, i + MAX_HASHES_PER_FETCH));
          for await (const frame of this.fetchBlocks([...batch], this.signal)) {
            if (batch.has(frame.hash) && sha256(frame.bytes) === frame.hash)
              this.cache.set(frame.hash, frame.bytes);
          }
        }
      }
      async isAlreadyThere(op) {
        const known = this.index[op.path];
        if (known?.type !== "file" || known.blocks.join() !== op.blocks.join()) return false;
        const st = await this.fs.stat(op.path).catch(() => void 0);
        return st?.type === "file" && st.size === known.size && st.mtimeMs === known.mtimeMs && st.ino === known.ino;
      }
    };
  }
});

// agent/kinds/folder/apply/plan-operation.ts
function orderOperations(ops) {
  const writes = ops.filter((op) => op.type !== "deleted").sort((a, b) => a.seq - b.seq);
  const deletes = ops.filter((op) => op.type === "deleted").sort((a, b) => a.path < b.path ? 1 : a.path > b.path ? -1 : 0);
  return [...writes, ...deletes];
}
function isUnreportedLocalChange(stat6, known) {
  if (!stat6) return known !== void 0;
  if (!known || known.type !== stat6.type) return true;
  if (stat6.type === "file") {
    return stat6.size !== known.size || stat6.mtimeMs !== known.mtimeMs || stat6.ino !== known.ino;
  }
  return stat6.type === "dir" ? stat6.mode !== known.mode : stat6.ino !== known.ino;
}
function inTheWay(stat6) {
  return !stat6 ? "nothing" : stat6.type === "file" ? "file" : "other";
}
function planOperation(op, facts, known, policy, expectedHash = "") {
  const { stat: stat6 } = facts;
  if (op.type === "deleted") {
    if (policy.deletes === "keep") return { action: "skip", reason: "deletes: keep" };
    if (facts.blockedAncestor || !stat6) return { action: "unchanged" };
    if (policy.unreportedLocalChange === "report" && isUnreportedLocalChange(stat6, known)) {
      return { action: "defer", reason: DEFER_REASON };
    }
    return { action: "delete" };
  }
  const mode = op.mode & policy.modeMask;
  if (!facts.blockedAncestor) {
    const same = matches(op, facts, mode, expectedHash);
    if (same === "equal") return { action: "unchanged" };
    if (same === "metadata") {
      return {
        action: "metadata",
        ...stat6.mode !== mode ? { mode } : {},
        ...op.type === "file" && stat6.mtimeMs !== op.mtimeMs ? { mtimeMs: op.mtimeMs } : {}
      };
    }
    if (policy.unreportedLocalChange === "report" && stat6 && isUnreportedLocalChange(stat6, known)) {
      return { action: "defer", reason: DEFER_REASON };
    }
  }
  const way = facts.blockedAncestor ? "nothing" : inTheWay(stat6);
  switch (op.type) {
    case "file":
      return { action: stat6 && !facts.blockedAncestor ? "update" : "create", inTheWay: way, mode };
    case "dir":
      return { action: "mkdir", inTheWay: way, mode };
    case "symlink":
      return { action: "symlink", inTheWay: way };
  }
}
function matches(op, facts, mode, expectedHash) {
  const { stat: stat6 } = facts;
  if (!stat6 || stat6.type !== op.type) return "different";
  switch (op.type) {
    case "file":
      if (facts.hash !== expectedHash) return "different";
      return stat6.mode === mode && stat6.mtimeMs === op.mtimeMs ? "equal" : "metadata";
    case "dir":
      return stat6.mode === mode ? "equal" : "metadata";
    case "symlink":
      return facts.target === (op.target ?? "") ? "equal" : "different";
    default:
      return "different";
  }
}
var PERMISSION_BITS, DEFER_REASON;
var init_plan_operation = __esm({
  "agent/kinds/folder/apply/plan-operation.ts"() {
    "use strict";
    PERMISSION_BITS = 511;
    DEFER_REASON = "changed here since the last report; reporting it first";
  }
});

// agent/kinds/folder/apply/trash.ts
function trashStamp(date) {
  const iso = date.toISOString();
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}-${iso.slice(20, 23)}`;
}
function stampTime(stamp2) {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{3})/.exec(stamp2);
  if (!m) return void 0;
  return Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
    Number(m[7])
  );
}
async function makeTrashDirs(fs, dir) {
  let at = "";
  for (const part of dir.split("/")) {
    at = at ? `${at}/${part}` : part;
    await fs.mkdir(at, 448).catch((error) => {
      if (errnoOf(error) !== "EEXIST") throw error;
    });
  }
}
async function withTrashTarget(fs, path, stamp2, act) {
  const inTrash = `${TRASH_DIR}/${stamp2}/${path}`;
  await makeTrashDirs(fs, parentOf2(inTrash));
  let name = inTrash;
  for (let n = 1; await fs.stat(name); n++) name = `${inTrash}~${n}`;
  await act(name);
  return name;
}
async function moveToTrash(fs, path, stamp2) {
  return withTrashTarget(fs, path, stamp2, (target) => fs.rename(path, target));
}
async function copyToTrash(fs, path, stamp2) {
  return withTrashTarget(fs, path, stamp2, (target) => fs.copyFile(path, target));
}
async function cleanTrash(fs, retentionDays, nowMs) {
  const stamps = await fs.list(TRASH_DIR).catch(() => []);
  let removed = 0;
  for (const { name } of stamps) {
    const at = stampTime(name);
    if (at !== void 0 && nowMs - at > retentionDays * 864e5) {
      await fs.remove(`${TRASH_DIR}/${name}`);
      removed++;
    }
  }
  return removed;
}
var TRASH_DIR;
var init_trash = __esm({
  "agent/kinds/folder/apply/trash.ts"() {
    "use strict";
    init_normalize_share_path();
    init_share_fs();
    TRASH_DIR = `${SHARE_META_DIR}/trash`;
  }
});

// agent/kinds/folder/apply/write-file-atomically.ts
async function writeTempFile(options) {
  const { fs, op, fetchBlocks, localBlocks, prefetched, signal } = options;
  const stats = { fetchedBlocks: 0, fetchedBytes: 0, reusedBlocks: 0 };
  const offsets = /* @__PURE__ */ new Map();
  op.blocks.forEach((hash, i) => {
    const list = offsets.get(hash) ?? [];
    list.push(i * op.blockSize);
    offsets.set(hash, list);
  });
  const lengthAt = (offset) => Math.min(op.blockSize, op.size - offset);
  const { path: temp, file } = await fs.createTemp(options.dir, 384);
  try {
    const writeBlock = async (hash, bytes2) => {
      for (const offset of offsets.get(hash) ?? []) {
        if (bytes2.length !== lengthAt(offset)) {
          throw new FleetsyncError(
            "invalid",
            `block ${hash} of ${op.path} has ${bytes2.length} bytes, expected ${lengthAt(offset)}`
          );
        }
        await file.write(bytes2, offset);
      }
    };
    const toFetch = [];
    for (const hash of offsets.keys()) {
      const source = localBlocks(hash);
      const bytes2 = source ? await readLocalBlock(fs, source) : void 0;
      if (bytes2 && sha256(bytes2) === hash) {
        await writeBlock(hash, bytes2);
        stats.reusedBlocks++;
        continue;
      }
      const fetched = prefetched.get(hash);
      if (fetched) {
        await writeBlock(hash, fetched);
        stats.fetchedBlocks++;
        stats.fetchedBytes += fetched.length;
      } else toFetch.push(hash);
    }
    const maxPerBatch = Math.max(
      1,
      Math.min(MAX_HASHES_PER_FETCH, Math.floor(FETCH_BATCH_BYTES / op.blockSize))
    );
    for (let i = 0; i < toFetch.length; i += maxPerBatch) {
      const batch = new Set(toFetch.slice(i, i + maxPerBatch));
      for await (const frame of fetchBlocks([...batch], signal)) {
        if (!batch.has(frame.hash))
          throw new FleetsyncError("invalid", `hub sent block ${frame.hash}, which was not asked for`);
        if (sha256(frame.bytes) !== frame.hash) {
          throw new FleetsyncError(
            "invalid",
            `block ${frame.hash} of ${op.path} does not match its hash; refused it`,
            {
              retryable: true
            }
          );
        }
        await writeBlock(frame.hash, frame.bytes);
        batch.delete(frame.hash);
        stats.fetchedBlocks++;
        stats.fetchedBytes += frame.bytes.length;
      }
      if (batch.size > 0) {
        throw new FleetsyncError(
          "unavailable",
          `${batch.size} blocks of ${op.path} are not on the hub (yet); will retry`,
          {
            retryable: true
          }
        );
      }
    }
    await file.setMode(options.mode);
    await file.setMtime(op.mtimeMs);
    await file.sync();
    await file.close();
    return { temp, stats };
  } catch (error) {
    await file.close().catch(() => {
    });
    await fs.remove(temp).catch(() => {
    });
    throw error;
  }
}
async function readLocalBlock(fs, source) {
  const file = await fs.openRead(source.path).catch(() => void 0);
  if (!file) return void 0;
  try {
    const buffer = new Uint8Array(source.length);
    const read = await file.read(buffer, 0, source.length, source.offset);
    return read === source.length ? buffer : void 0;
  } catch {
    return void 0;
  } finally {
    await file.close();
  }
}
var FETCH_BATCH_BYTES;
var init_write_file_atomically = __esm({
  "agent/kinds/folder/apply/write-file-atomically.ts"() {
    "use strict";
    init_fleetsync_error();
    init_messages();
    init_hash_blocks();
    FETCH_BATCH_BYTES = 32 * 1024 * 1024;
  }
});

// agent/kinds/folder/apply/execute-operations.ts
async function executeOperations(ctx, ops) {
  const localBlocks = buildLocalBlockIndex(ctx.index);
  const run2 = {
    stamp: trashStamp((ctx.now ?? (() => /* @__PURE__ */ new Date()))()),
    localBlocks,
    renamedInto: /* @__PURE__ */ new Set()
  };
  const results = [];
  const ordered = orderOperations(ops);
  const prefetcher = new BlockPrefetcher(
    ctx.fs,
    ordered,
    ctx.index,
    localBlocks,
    ctx.fetchBlocks,
    ctx.signal
  );
  const applyOne = async (op, prefetched) => {
    try {
      const action = await applyOperation(ctx, run2, op, prefetched);
      ctx.onDone?.(op, action === "create" || action === "update" ? op.size : 0);
      results.push({
        seq: op.seq,
        path: op.path,
        action,
        ok: true,
        bytes: action === "create" || action === "update" ? op.size : 0
      });
      if (ctx.dryRun && action !== "unchanged") {
        ctx.log.info(`dry run: would ${action} ${op.path}`, {
          seq: op.seq,
          bytes: op.type === "file" ? op.size : 0
        });
      } else if (action !== "unchanged" && action !== "skip" && action !== "defer") {
        ctx.log.info(`${action} ${op.path}`, {
          seq: op.seq,
          ...op.type === "file" ? { bytes: op.size } : {}
        });
      }
    } catch (error) {
      ctx.onDone?.(op, 0);
      const reason = describeFailure(error, op.path);
      ctx.log.warn("operation failed; will retry", { path: op.path, seq: op.seq, error: reason });
      results.push({
        seq: op.seq,
        path: op.path,
        action: op.type === "deleted" ? "delete" : "write",
        ok: false,
        bytes: 0,
        error: reason
      });
    }
  };
  const inFlight = /* @__PURE__ */ new Set();
  for (const [position, op] of ordered.entries()) {
    if (ctx.signal?.aborted) break;
    const concurrent = op.type === "file" && !ctx.dryRun;
    if (!concurrent) await Promise.all(inFlight);
    let prefetched;
    try {
      prefetched = concurrent ? await prefetcher.blocksFor(position) : /* @__PURE__ */ new Map();
    } catch {
      prefetched = /* @__PURE__ */ new Map();
    }
    const task = applyOne(op, prefetched).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (!concurrent) await task;
    else if (inFlight.size >= FILE_CONCURRENCY) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  for (const dir of run2.renamedInto) await ctx.fs.syncDir(dir).catch(() => {
  });
  return results;
}
function describeFailure(error, path) {
  if (error instanceof FsError) {
    return error.path === path || isTempName(baseName(error.path)) ? error.reason : error.message;
  }
  return error.message;
}
function buildLocalBlockIndex(index2) {
  let map;
  return (hash) => {
    if (!map) {
      map = /* @__PURE__ */ new Map();
      for (const [path, entry] of Object.entries(index2)) {
        if (entry.type !== "file") continue;
        entry.blocks.forEach((h, i) => {
          const offset = i * entry.blockSize;
          if (!map.has(h))
            map.set(h, { path, offset, length: Math.min(entry.blockSize, entry.size - offset) });
        });
      }
    }
    return map.get(hash);
  };
}
async function gatherFacts(fs, op, known) {
  let stat6;
  try {
    stat6 = await fs.stat(op.path);
  } catch (error) {
    if (errnoOf(error) === "ENOTDIR") return { stat: void 0, blockedAncestor: true };
    throw error;
  }
  const facts = { stat: stat6, blockedAncestor: false };
  if (stat6?.type === "file" && op.type === "file") {
    const sameStat = known?.type === "file" && known.size === stat6.size && known.mtimeMs === stat6.mtimeMs && known.ino === stat6.ino;
    if (sameStat) facts.hash = known.hash;
    else if (stat6.size === op.size) facts.hash = (await hashFile(fs, op.path, stat6.size)).hash;
  } else if (stat6?.type === "symlink" && op.type === "symlink") {
    facts.target = await fs.readlink(op.path);
  }
  return facts;
}
async function applyOperation(ctx, run2, op, prefetched) {
  let expected = "";
  if (op.type === "file") {
    if (op.blocks.length !== Math.ceil(op.size / op.blockSize)) {
      throw new FleetsyncError(
        "invalid",
        `instruction for ${op.path}: ${op.blocks.length} blocks cannot hold ${op.size} bytes`
      );
    }
    expected = await contentHash(op.size, op.blockSize, op.blocks);
  }
  let facts = await gatherFacts(ctx.fs, op, ctx.index[op.path]);
  let plan = planOperation(op, facts, ctx.index[op.path], ctx, expected);
  if (plan.action === "skip" || plan.action === "defer") {
    ctx.log.info(`not applying ${op.path}: ${plan.reason}`, { seq: op.seq });
    return plan.action;
  }
  if (ctx.dryRun) return plan.action;
  if (facts.blockedAncestor && plan.action !== "unchanged") {
    await makeParentDirs(ctx, run2.stamp, op.path);
    facts = await gatherFacts(ctx.fs, op, ctx.index[op.path]);
    plan = planOperation(op, facts, ctx.index[op.path], ctx, expected);
  }
  await carryOut(ctx, run2, op, plan, { prefetched, expected, stat: facts.stat });
  if (op.type === "deleted") forgetBelow(ctx.index, op.path);
  return plan.action;
}
async function makeParentDirs(ctx, stamp2, path) {
  const parts = parentOf2(path).split("/");
  let at = "";
  for (const part of parts) {
    at = at ? `${at}/${part}` : part;
    const st = await ctx.fs.stat(at);
    if (st?.type === "dir") continue;
    if (st) {
      await moveToTrash(ctx.fs, at, stamp2);
      forgetBelow(ctx.index, at);
    }
    await ctx.fs.mkdir(at, 493).catch(async (error) => {
      if (errnoOf(error) !== "EEXIST" || (await ctx.fs.stat(at))?.type !== "dir") throw error;
    });
  }
}
async function carryOut(ctx, run2, op, plan, more) {
  const { fs, index: index2 } = ctx;
  const record = async (entry) => {
    const after = await fs.stat(op.path);
    index2[op.path] = { ...entry, ino: after?.ino ?? 0, seq: op.seq };
  };
  switch (plan.action) {
    case "unchanged":
      if (more.stat) await record(indexEntryFor(op, more.stat.mode, more.expected));
      return;
    case "skip":
    case "defer":
      return;
    case "metadata":
      if (plan.mode !== void 0) await fs.setMode(op.path, plan.mode);
      if (plan.mtimeMs !== void 0) await fs.setMtime(op.path, plan.mtimeMs);
      await record(indexEntryFor(op, plan.mode ?? more.stat.mode, more.expected));
      return;
    case "create":
    case "update": {
      const { temp } = await writeTempFile({
        fs,
        dir: parentOf2(op.path),
        op,
        mode: plan.mode,
        fetchBlocks: ctx.fetchBlocks,
        localBlocks: run2.localBlocks,
        prefetched: more.prefetched,
        signal: ctx.signal
      });
      try {
        await makeRoom(ctx, run2.stamp, op.path, plan.inTheWay);
        await fs.rename(temp, op.path);
      } catch (error) {
        await fs.remove(temp).catch(() => {
        });
        throw error;
      }
      run2.renamedInto.add(parentOf2(op.path));
      await record(indexEntryFor(op, plan.mode, more.expected));
      return;
    }
    case "mkdir":
      await makeRoom(ctx, run2.stamp, op.path, plan.inTheWay === "file" ? "other" : plan.inTheWay);
      await fs.mkdir(op.path, plan.mode);
      await record(indexEntryFor(op, plan.mode, ""));
      return;
    case "symlink": {
      const dir = parentOf2(op.path);
      const temp = dir === "" ? newTempName() : `${dir}/${newTempName()}`;
      await fs.symlink(op.target ?? "", temp);
      try {
        await makeRoom(ctx, run2.stamp, op.path, plan.inTheWay === "file" ? "other" : plan.inTheWay);
        await fs.rename(temp, op.path);
      } catch (error) {
        await fs.remove(temp).catch(() => {
        });
        throw error;
      }
      await record(indexEntryFor(op, 0, ""));
      return;
    }
    case "delete":
      await moveToTrash(fs, op.path, run2.stamp);
      return;
  }
}
async function makeRoom(ctx, stamp2, path, way) {
  if (way === "file") await copyToTrash(ctx.fs, path, stamp2);
  else if (way === "other") {
    await moveToTrash(ctx.fs, path, stamp2);
    forgetBelow(ctx.index, path);
  }
}
function forgetBelow(index2, path) {
  for (const key of Object.keys(index2)) if (isSameOrBelow(key, path)) delete index2[key];
}
function indexEntryFor(op, mode, hash) {
  switch (op.type) {
    case "file":
      return {
        type: "file",
        size: op.size,
        mtimeMs: op.mtimeMs,
        mode,
        blockSize: op.blockSize,
        blocks: op.blocks,
        hash
      };
    case "dir":
      return { type: "dir", size: 0, mtimeMs: 0, mode, blockSize: op.blockSize, blocks: [], hash: "" };
    default:
      return {
        type: "symlink",
        size: 0,
        mtimeMs: 0,
        mode: 0,
        blockSize: op.blockSize,
        blocks: [],
        hash: "",
        target: op.target ?? ""
      };
  }
}
var FILE_CONCURRENCY;
var init_execute_operations = __esm({
  "agent/kinds/folder/apply/execute-operations.ts"() {
    "use strict";
    init_content_hash();
    init_fleetsync_error();
    init_normalize_share_path();
    init_share_fs();
    init_temp_name();
    init_hash_file();
    init_block_prefetcher();
    init_plan_operation();
    init_trash();
    init_write_file_atomically();
    FILE_CONCURRENCY = 8;
  }
});

// agent/kinds/folder/apply/remove-temp-files.ts
async function removeTempFiles(fs) {
  const removed = [];
  const stack = [""];
  while (stack.length > 0) {
    const dir = stack.pop();
    const entries2 = await fs.list(dir).catch(() => []);
    for (const { name, stat: stat6 } of entries2) {
      const path = joinSharePath(dir, name);
      if (stat6.type === "dir") {
        if (path !== SHARE_META_DIR) stack.push(path);
      } else if (isTempName(name)) {
        await fs.remove(path);
        removed.push(path);
      }
    }
  }
  return removed;
}
var init_remove_temp_files = __esm({
  "agent/kinds/folder/apply/remove-temp-files.ts"() {
    "use strict";
    init_normalize_share_path();
    init_share_fs();
    init_temp_name();
  }
});

// agent/kinds/folder/fs/confined-path.ts
import { constants } from "node:fs";
import { open } from "node:fs/promises";
function fdPath(handle, name) {
  return name === void 0 ? `/proc/self/fd/${handle.fd}` : `/proc/self/fd/${handle.fd}/${name}`;
}
async function openShareDir(root, dir, create) {
  let handle = await open(root, DIR_FLAGS);
  let rel = "";
  try {
    for (const part of dir === "" ? [] : dir.split("/")) {
      rel = rel ? `${rel}/${part}` : part;
      const at = fdPath(handle, part);
      let next;
      try {
        next = await open(at, DIR_FLAGS);
      } catch (error) {
        const code = error.code;
        if (code !== "ENOENT" && code !== "ENOTDIR" && code !== "ELOOP") throw error;
        if (!create) throw new NotADirectoryError(rel);
        await create(rel, at);
        next = await open(at, DIR_FLAGS);
      }
      await handle.close();
      handle = next;
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}
async function confinePath(root, path, create) {
  const slash = path.lastIndexOf("/");
  const parent = await openShareDir(root, slash < 0 ? "" : path.slice(0, slash), create);
  return {
    abs: fdPath(parent, path.slice(slash + 1)),
    dir: fdPath(parent),
    close: () => parent.close()
  };
}
var O_DIRECTORY, O_NOFOLLOW, O_RDONLY, DIR_FLAGS, NotADirectoryError;
var init_confined_path = __esm({
  "agent/kinds/folder/fs/confined-path.ts"() {
    "use strict";
    init_fleetsync_error();
    ({ O_DIRECTORY, O_NOFOLLOW, O_RDONLY } = constants);
    DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
    NotADirectoryError = class extends FleetsyncError {
      constructor(path) {
        super(
          "invalid",
          `${path} is not a real directory (a symlink or a file is in its place); not looking through it`
        );
        this.path = path;
      }
      path;
    };
  }
});

// agent/kinds/folder/fs/open-no-follow.ts
import { constants as constants2 } from "node:fs";
import { open as open2 } from "node:fs/promises";
function openNoFollow(path, options = {}) {
  return open2(path, O_RDONLY2 | O_NOFOLLOW2 | (options.directory ? O_DIRECTORY2 : 0));
}
function createExclusive(path, mode = 384) {
  return open2(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW2, mode);
}
var O_CREAT, O_DIRECTORY2, O_EXCL, O_NOFOLLOW2, O_RDONLY2, O_WRONLY;
var init_open_no_follow = __esm({
  "agent/kinds/folder/fs/open-no-follow.ts"() {
    "use strict";
    ({ O_CREAT, O_DIRECTORY: O_DIRECTORY2, O_EXCL, O_NOFOLLOW: O_NOFOLLOW2, O_RDONLY: O_RDONLY2, O_WRONLY } = constants2);
  }
});

// agent/kinds/folder/fs/set-mtime.ts
function mtimeSeconds(ms) {
  return (ms + 5e-4) / 1e3;
}
var init_set_mtime = __esm({
  "agent/kinds/folder/fs/set-mtime.ts"() {
    "use strict";
  }
});

// agent/kinds/folder/fs/node-share-fs.ts
import {
  link,
  lstat,
  mkdir as mkdir2,
  opendir,
  readlink,
  rename as rename4,
  rm as rm2,
  symlink
} from "node:fs/promises";
function toFsStat(st) {
  const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
  return { type, size: st.size, mtimeMs: Math.floor(st.mtimeMs), ino: st.ino, mode: st.mode & 4095 };
}
async function wrap(op, path, act) {
  try {
    return await act();
  } catch (error) {
    if (error instanceof FsError) throw error;
    if (error instanceof NotADirectoryError) throw new FsError(op, path, "ENOTDIR");
    const code = error.code ?? "EIO";
    throw new FsError(op, path, code, error.message);
  }
}
function createNodeShareFs(root) {
  const at = async (path, act) => {
    if (path === "") return act(root, { abs: root, dir: root, close: async () => {
    } });
    const confined = await confinePath(root, path);
    try {
      return await act(confined.abs, confined);
    } finally {
      await confined.close();
    }
  };
  const onHandle = async (path, act) => at(path, async (abs) => {
    const handle = await openNoFollow(abs);
    try {
      return await act(handle);
    } finally {
      await handle.close();
    }
  });
  return {
    stat: (path) => wrap(
      "stat",
      path,
      () => at(path, async (abs) => {
        const st = await lstat(abs).catch((error) => {
          if (error.code === "ENOENT") return void 0;
          throw error;
        });
        return st && toFsStat(st);
      })
    ),
    list: (path) => wrap("list", path, async () => {
      const handle = await openShareDir(root, path);
      const base = `/proc/self/fd/${handle.fd}`;
      try {
        const entries2 = [];
        for await (const dirent of await opendir(base)) {
          const st = await lstat(`${base}/${dirent.name}`).catch(() => void 0);
          if (st) entries2.push({ name: dirent.name, stat: toFsStat(st) });
        }
        return entries2;
      } finally {
        await handle.close();
      }
    }),
    readlink: (path) => wrap("readlink", path, () => at(path, (abs) => readlink(abs))),
    openRead: (path) => wrap("open", path, () => at(path, async (abs) => readableFile(path, await openNoFollow(abs)))),
    createTemp: (dir, mode) => wrap("create", dir, async () => {
      const handle = await openShareDir(root, dir);
      try {
        const name = newTempName();
        const file = await createExclusive(`/proc/self/fd/${handle.fd}/${name}`, mode);
        const path = joinSharePath(dir, name);
        return { path, file: writableFile(path, file) };
      } finally {
        await handle.close();
      }
    }),
    mkdir: (path, mode) => wrap(
      "mkdir",
      path,
      () => at(path, async (abs) => {
        await mkdir2(abs, { mode: 448 });
        const handle = await openNoFollow(abs, { directory: true });
        try {
          await handle.chmod(mode);
        } finally {
          await handle.close();
        }
      })
    ),
    symlink: (target, path) => wrap("symlink", path, () => at(path, (abs) => symlink(target, abs))),
    rename: (from, to) => wrap("rename", from, () => at(from, (fromAbs) => at(to, (toAbs) => rename4(fromAbs, toAbs)))),
    copyFile: (from, to) => wrap(
      "copy",
      from,
      () => at(
        from,
        (fromAbs) => (
          // link() never follows a symlink at `from`; across a mount inside the share, copy without following.
          at(to, (toAbs) => link(fromAbs, toAbs).catch(() => copyNoFollow(fromAbs, toAbs)))
        )
      )
    ),
    remove: (path) => wrap(
      "remove",
      path,
      () => at(path, async (abs) => {
        if (path === "") throw new FsError("remove", path, "EPERM", "the share root is never removed");
        await rm2(abs, { recursive: true, force: true });
      })
    ),
    setMode: (path, mode) => wrap("chmod", path, () => onHandle(path, (h) => h.chmod(mode))),
    setMtime: (path, ms) => wrap("utimes", path, () => onHandle(path, (h) => h.utimes(mtimeSeconds(ms), mtimeSeconds(ms)))),
    syncDir: (dir) => wrap("sync", dir, async () => {
      const handle = await openShareDir(root, dir);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    })
  };
}
function readableFile(path, handle) {
  return {
    read: (buffer, offset, length, position) => wrap("read", path, async () => (await handle.read(buffer, offset, length, position)).bytesRead),
    stat: () => wrap("stat", path, async () => toFsStat(await handle.stat())),
    close: () => handle.close()
  };
}
function writableFile(path, handle) {
  return {
    write: (bytes2, position) => wrap("write", path, async () => {
      for (let done = 0; done < bytes2.byteLength; ) {
        const { bytesWritten } = await handle.write(bytes2, done, bytes2.byteLength - done, position + done);
        done += bytesWritten;
      }
    }),
    sync: () => wrap("sync", path, () => handle.sync()),
    setMode: (mode) => wrap("chmod", path, () => handle.chmod(mode)),
    setMtime: (ms) => wrap("utimes", path, () => handle.utimes(mtimeSeconds(ms), mtimeSeconds(ms))),
    close: () => handle.close()
  };
}
async function copyNoFollow(from, to) {
  const source = await openNoFollow(from);
  try {
    const target = await createExclusive(to);
    try {
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      for (let position = 0; ; ) {
        const { bytesRead } = await source.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        await target.write(buffer, 0, bytesRead, position);
        position += bytesRead;
      }
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
var init_node_share_fs = __esm({
  "agent/kinds/folder/fs/node-share-fs.ts"() {
    "use strict";
    init_confined_path();
    init_open_no_follow();
    init_set_mtime();
    init_share_fs();
    init_temp_name();
  }
});

// agent/kinds/folder/fs/share-root.ts
import { lstat as lstat2, mkdir as mkdir3, realpath as realpath2, stat as stat2 } from "node:fs/promises";
import { join as join7 } from "node:path";
async function checkShareRoot(options) {
  const { share, path, isFirstRun } = options;
  if (path === "") {
    return { ok: false, reason: `share "${share}" has no path; set shares.${share}.path in agent.yaml` };
  }
  const where = options.resolved ?? path;
  let rootStat = await (options.resolved ? lstat2(where) : stat2(where)).catch(() => void 0);
  if (!rootStat && isFirstRun && options.resolved === void 0) {
    if (options.role === "source") {
      return {
        ok: false,
        reason: `share "${share}": root ${path} does not exist; a source shares an existing folder \u2014 create it or fix shares.${share}.path in agent.yaml`
      };
    }
    await mkdir3(path, { recursive: true, mode: 493 });
    rootStat = await stat2(path).catch(() => void 0);
  }
  if (!rootStat) {
    return {
      ok: false,
      reason: `share "${share}": root ${where} is missing (disk not mounted?); not syncing it until it is back`
    };
  }
  if (!rootStat.isDirectory())
    return { ok: false, reason: `share "${share}": root ${where} is not a directory` };
  const root = options.resolved ?? await realpath2(path);
  const marker = join7(root, SHARE_META_DIR);
  const markerStat = await lstat2(marker).catch(() => void 0);
  if (isFirstRun && !markerStat) {
    await mkdir3(marker);
    return { ok: true, root };
  }
  if (!markerStat?.isDirectory()) {
    return {
      ok: false,
      reason: `share "${share}": ${marker} is missing, so ${root} may not be the disk that was synced (not mounted?); not syncing it until the marker is back (mkdir ${marker} if this is the right folder)`
    };
  }
  return { ok: true, root };
}
var init_share_root = __esm({
  "agent/kinds/folder/fs/share-root.ts"() {
    "use strict";
    init_normalize_share_path();
  }
});

// agent/kinds/folder/scan/ignore-rules.ts
import ignore from "ignore";
function compileIgnoreRules(patterns) {
  const matcher = ignore().add([...DEFAULT_IGNORES, ...patterns]);
  return (path, isDir) => {
    if (path === SHARE_META_DIR || path.startsWith(`${SHARE_META_DIR}/`)) return true;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (isTempName(name)) return true;
    return matcher.ignores(isDir ? `${path}/` : path);
  };
}
var DEFAULT_IGNORES;
var init_ignore_rules = __esm({
  "agent/kinds/folder/scan/ignore-rules.ts"() {
    "use strict";
    init_normalize_share_path();
    init_temp_name();
    DEFAULT_IGNORES = ["*.swp", "*.swo", "*~", ".DS_Store", "Thumbs.db"];
  }
});

// agent/kinds/folder/scan/measure-share.ts
async function measureShare(fs, isIgnored, log) {
  let files = 0;
  let bytes2 = 0;
  const stack = [""];
  while (stack.length > 0) {
    const dir = stack.pop();
    const entries2 = await fs.list(dir).catch((error) => {
      log.debug("cannot read directory while measuring the share", { path: dir, error: error.message });
      return [];
    });
    for (const { name, stat: stat6 } of entries2) {
      const path = joinSharePath(dir, name);
      if (isIgnored(path, stat6.type === "dir")) continue;
      if (stat6.type === "dir") stack.push(path);
      if (stat6.type === "file") bytes2 += stat6.size;
      if (stat6.type === "dir" || stat6.type === "file" || stat6.type === "symlink") files++;
    }
  }
  return { files, bytes: bytes2 };
}
var init_measure_share = __esm({
  "agent/kinds/folder/scan/measure-share.ts"() {
    "use strict";
    init_share_fs();
  }
});

// agent/kinds/folder/scan/scan-share.ts
function scanRootFor(path) {
  let good = "";
  for (const segment of path === "" ? [] : path.split("/")) {
    const candidate = good ? `${good}/${segment}` : segment;
    const check = normalizeSharePath(candidate);
    if (!check.ok || check.path !== candidate) return good;
    good = candidate;
  }
  return good;
}
function collapsePaths(paths) {
  const sorted = [...new Set(paths)].sort();
  const kept = [];
  for (const path of sorted) {
    if (!kept.some((k) => isSameOrBelow(path, k))) kept.push(path);
  }
  return kept;
}
function statEntry(st) {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode };
}
function isSameIndexEntry(a, b) {
  if (!a || a.type !== b.type || a.mode !== b.mode) return false;
  if (b.type === "file") return a.hash === b.hash && a.mtimeMs === b.mtimeMs && a.size === b.size;
  if (b.type === "symlink") return a.target === b.target;
  return true;
}
async function scanShare(fs, index2, dirty, isIgnored, log, options = {}) {
  const result = { updates: /* @__PURE__ */ new Map(), changed: /* @__PURE__ */ new Set(), unstable: /* @__PURE__ */ new Set(), hashedBytes: 0 };
  const seen = /* @__PURE__ */ new Set();
  const tops = collapsePaths([...dirty].map(scanRootFor));
  let changedBytes = 0;
  const maybeFlush = async () => {
    const limits = {
      bytes: options.flushBytes ?? DEFAULT_FLUSH_BYTES,
      entries: options.flushEntries ?? DEFAULT_FLUSH_ENTRIES
    };
    if (!options.flush || changedBytes < limits.bytes && result.changed.size < limits.entries) return;
    const part = { ...result, unstable: /* @__PURE__ */ new Set() };
    result.updates = /* @__PURE__ */ new Map();
    result.changed = /* @__PURE__ */ new Set();
    result.hashedBytes = 0;
    changedBytes = 0;
    await options.flush(part);
  };
  const record = (path, next) => {
    seen.add(path);
    const previous = index2[path];
    if (isSameIndexEntry(previous, next)) {
      if (previous?.ino !== next.ino) result.updates.set(path, next);
      return;
    }
    result.updates.set(path, next);
    result.changed.add(path);
    if (next.type === "file") changedBytes += next.size;
  };
  const visitFile = async (path, st) => {
    const previous = index2[path];
    const stat6 = statEntry(st);
    if (previous?.type === "file" && previous.size === stat6.size && previous.mtimeMs === stat6.mtimeMs && previous.ino === stat6.ino) {
      record(path, { ...previous, mode: stat6.mode });
      return;
    }
    const hashes = await hashFile(fs, path, st.size).catch(() => void 0);
    if (!hashes) {
      result.unstable.add(path);
      seen.add(path);
      return;
    }
    result.hashedBytes += hashes.size;
    const after = await fs.stat(path).catch(() => void 0);
    if (!after || after.size !== st.size || after.mtimeMs !== stat6.mtimeMs || hashes.size !== st.size) {
      log.debug("file changed during hashing; will rescan", { path });
      result.unstable.add(path);
      seen.add(path);
      return;
    }
    record(path, { type: "file", ...stat6, ...hashes });
  };
  const stack = [];
  for (const top of tops) {
    const st = await fs.stat(top).catch(() => void 0);
    if (!st || top !== "" && isIgnored(top, st.type === "dir")) continue;
    await visit(top, st);
  }
  while (stack.length > 0) {
    const dir = stack.pop();
    let entries2;
    try {
      entries2 = await fs.list(dir);
    } catch (error) {
      log.warn("cannot read directory; skipping it this scan", {
        path: dir,
        error: error.message
      });
      markSubtreeSeen(dir);
      continue;
    }
    for (const entry of entries2) {
      await visitChild(dir, entry);
      await maybeFlush();
    }
  }
  for (const path of Object.keys(index2)) {
    if (!seen.has(path) && tops.some((top) => isSameOrBelow(path, top))) {
      result.updates.set(path, void 0);
      result.changed.add(path);
    }
  }
  return result;
  function markSubtreeSeen(dir) {
    for (const path of Object.keys(index2)) if (isSameOrBelow(path, dir)) seen.add(path);
  }
  async function visitChild(dir, entry) {
    let st = entry.stat;
    const rawPath = joinSharePath(dir, entry.name);
    if (isIgnored(rawPath, st.type === "dir")) return;
    const check = normalizeSharePath(rawPath);
    if (!check.ok) {
      log.warn("skipping a name that cannot be synced", { path: rawPath, reason: check.reason });
      return;
    }
    if (check.path !== rawPath) {
      const to = joinSharePath(dir, entry.name.normalize("NFC"));
      if (!await fs.stat(to).catch(() => void 0)) {
        await fs.rename(rawPath, to);
        log.info("renamed a non-NFC name to its NFC form", { path: check.path });
        const renamed = await fs.stat(to).catch(() => void 0);
        if (!renamed) return;
        st = renamed;
      } else {
        log.warn("skipping a non-NFC name whose NFC form also exists", { path: rawPath });
        return;
      }
    }
    await visit(check.path, st);
  }
  async function visit(path, st) {
    if (st.type === "dir") {
      if (path !== "") {
        const previous = index2[path];
        record(path, {
          type: "dir",
          ...statEntry(st),
          size: 0,
          mtimeMs: 0,
          blockSize: previous?.blockSize ?? 131072,
          blocks: [],
          hash: ""
        });
      }
      stack.push(path);
    } else if (st.type === "file") {
      await visitFile(path, st);
    } else if (st.type === "symlink") {
      const target = await fs.readlink(path).catch(() => void 0);
      if (target === void 0) return;
      record(path, {
        type: "symlink",
        ...statEntry(st),
        size: 0,
        mtimeMs: 0,
        mode: 0,
        blockSize: 131072,
        blocks: [],
        hash: "",
        target
      });
    }
  }
}
var DEFAULT_FLUSH_BYTES, DEFAULT_FLUSH_ENTRIES;
var init_scan_share = __esm({
  "agent/kinds/folder/scan/scan-share.ts"() {
    "use strict";
    init_normalize_share_path();
    init_share_fs();
    init_hash_file();
    DEFAULT_FLUSH_BYTES = 64 * 1024 * 1024;
    DEFAULT_FLUSH_ENTRIES = 2e3;
  }
});

// agent/kinds/folder/watch-share.ts
import { basename as basename2, join as join8, relative, sep as sep2 } from "node:path";
import { watch } from "chokidar";
function watchShare(root, isIgnored, onPath, log, options = {}) {
  let watcher;
  let closed = false;
  let markReady = () => {
  };
  const ready = new Promise((resolve7) => {
    markReady = resolve7;
  });
  const readyTimer = setTimeout(() => {
    log.warn(
      "the file watcher is slow to start; scanning anyway (the periodic rescan catches what it misses)",
      {
        root
      }
    );
    markReady();
  }, READY_TIMEOUT_MS);
  void ready.then(() => clearTimeout(readyTimer));
  const toRelative = (abs) => relative(root, abs).split(sep2).join("/");
  const start = (usePolling) => {
    watcher = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      usePolling,
      interval: 1e3,
      atomic: false,
      ignored: (abs, stats) => {
        const path = toRelative(abs);
        return path !== "" && !path.startsWith("..") && isIgnored(path, stats?.isDirectory() ?? false);
      }
    });
    watcher.once("ready", () => markReady());
    watcher.on("all", (_event, abs) => {
      const path = toRelative(abs);
      if (!path.startsWith("..")) onPath(path);
    });
    watcher.on("raw", (_event, name, details) => {
      const watched = details?.watchedPath;
      if (!watched) return;
      const abs = typeof name === "string" && name !== "" && basename2(watched) !== name ? join8(watched, name) : watched;
      const path = toRelative(abs);
      if (path !== "" && !path.startsWith("..") && !isIgnored(path, false)) onPath(path);
    });
    watcher.on("error", (error) => {
      const code = error.code;
      if ((code === "ENOSPC" || code === "EMFILE") && !usePolling && !closed) {
        log.warn(
          "inotify watch limit reached; falling back to polling for this share (raise it: sudo sysctl fs.inotify.max_user_watches=524288)",
          { root, code }
        );
        void watcher.close().then(() => {
          if (!closed) start(true);
        });
        onPath("");
        return;
      }
      log.warn("file watcher error; the periodic rescan will catch what it misses", {
        root,
        error: String(error)
      });
    });
  };
  start(options.forcePolling ?? false);
  return {
    ready,
    async close() {
      closed = true;
      markReady();
      await watcher.close();
    }
  };
}
var READY_TIMEOUT_MS;
var init_watch_share = __esm({
  "agent/kinds/folder/watch-share.ts"() {
    "use strict";
    READY_TIMEOUT_MS = 6e4;
  }
});

// agent/kinds/folder/folder-kind.ts
function createFolderKind(settings, deps) {
  const { log } = deps;
  const isIgnored = compileIgnoreRules(settings.ignore);
  let root;
  let fs;
  let tempFilesChecked = false;
  const usableRoot = () => {
    if (root === void 0) throw new Error(`share "${deps.shareName}": its root was not checked yet`);
    return root;
  };
  const usableFs = () => {
    usableRoot();
    return fs;
  };
  return {
    kind: "folder",
    async prepare({ isFirstRun, role }) {
      const check = await checkShareRoot({
        share: deps.shareName,
        path: settings.path,
        resolved: root,
        isFirstRun,
        role
      });
      if (!check.ok) return check;
      if (root !== check.root) fs = createNodeShareFs(check.root);
      root = check.root;
      if (role !== "source" && !tempFilesChecked) {
        const removed = await removeTempFiles(usableFs());
        if (removed.length > 0)
          log.info("removed temp files left by an interrupted apply", { count: removed.length });
        tempFilesChecked = true;
      }
      return { ok: true };
    },
    scan({ dirty, index: index2, flush: flush2 }) {
      return scanShare(usableFs(), index2, dirty, isIgnored, log, { flush: flush2 });
    },
    measure() {
      return measureShare(usableFs(), isIgnored, log);
    },
    async readBlock({ path, offset, length }) {
      const file = await usableFs().openRead(path);
      try {
        const buffer = new Uint8Array(length);
        const read = await file.read(buffer, 0, length, offset);
        return buffer.subarray(0, read);
      } finally {
        await file.close();
      }
    },
    async apply({ ops, index: index2, fetchBlocks, onDone, deletes, localChange, dryRun, signal }) {
      return executeOperations(
        {
          fs: usableFs(),
          deletes,
          modeMask: settings.specialModeBits ? 4095 : PERMISSION_BITS,
          unreportedLocalChange: localChange,
          dryRun,
          index: index2,
          fetchBlocks,
          onDone,
          log,
          signal
        },
        ops
      );
    },
    watch(onDirty) {
      return watchShare(usableRoot(), isIgnored, onDirty, log);
    },
    async maintain() {
      if (fs) await cleanTrash(fs, settings.retentionDays, Date.now());
    },
    async close() {
    }
  };
}
var init_folder_kind = __esm({
  "agent/kinds/folder/folder-kind.ts"() {
    "use strict";
    init_execute_operations();
    init_plan_operation();
    init_remove_temp_files();
    init_trash();
    init_node_share_fs();
    init_share_root();
    init_ignore_rules();
    init_measure_share();
    init_scan_share();
    init_watch_share();
  }
});

// agent/kinds/collect-blocks.ts
async function collectBlocks(fetchBlocks, hashes, signal) {
  const wanted = [...new Set(hashes)];
  const out = /* @__PURE__ */ new Map();
  for (let i = 0; i < wanted.length; i += MAX_HASHES_PER_FETCH) {
    const batch = new Set(wanted.slice(i, i + MAX_HASHES_PER_FETCH));
    for await (const frame of fetchBlocks([...batch], signal))
      if (batch.has(frame.hash)) out.set(frame.hash, frame.bytes);
  }
  return out;
}
var init_collect_blocks = __esm({
  "agent/kinds/collect-blocks.ts"() {
    "use strict";
    init_messages();
  }
});

// agent/kinds/pihole/back-up-pihole-once.ts
import { mkdir as mkdir4, stat as stat3, writeFile as writeFile4 } from "node:fs/promises";
import { join as join9 } from "node:path";
async function backUpPiholeOnce(options) {
  const { api, stateDir, shareName, log } = options;
  const dir = join9(stateDir, "pihole-backups");
  const file = join9(dir, `${shareName}-before-first-sync.zip`);
  const exists = await stat3(file).then(
    () => true,
    () => false
  );
  if (exists) return;
  const zip = await api.request({
    method: "GET",
    path: "/teleporter",
    asBytes: true,
    timeoutMs: 6e4
  });
  await mkdir4(dir, { recursive: true });
  await writeFile4(file, zip, { mode: 384 });
  log.info("saved this Pi-hole's state before its first sync", { file });
}
var init_back_up_pihole_once = __esm({
  "agent/kinds/pihole/back-up-pihole-once.ts"() {
    "use strict";
  }
});

// agent/kinds/pihole/pihole-documents.ts
import { z as z9 } from "zod";
function documentOfFile(path) {
  return Object.keys(DOCUMENT_FILES).find((name) => DOCUMENT_FILES[name] === path);
}
function stableJson(value) {
  return JSON.stringify(
    value,
    (_key, v) => v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(
      Object.keys(v).sort().map((k) => [k, v[k]])
    ) : v
  );
}
function encodeDocument(name, items) {
  const body = Array.isArray(items) ? `[
${items.map((item) => `  ${stableJson(item)}`).join(",\n")}
]` : stableJson(items);
  return new TextEncoder().encode(`{"format":"${FORMAT}","document":"${name}","items":${body}}
`);
}
function decodeDocument(name, bytes2) {
  let raw;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes2));
  } catch (error) {
    return { ok: false, reason: `${DOCUMENT_FILES[name]} is not JSON (${error.message})` };
  }
  const parsed = z9.strictObject({ format: z9.literal(FORMAT), document: z9.literal(name), items: DOCUMENT_SCHEMAS[name] }).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `${DOCUMENT_FILES[name]} is not a ${FORMAT} ${name} document: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`
    };
  }
  return { ok: true, items: parsed.data.items };
}
function canonicalizeState(state) {
  const out = {};
  if (state.groups)
    out.groups = state.groups.map((g) => ({ name: g.name, comment: normalizeComment(g.comment), enabled: g.enabled })).sort(byKey(groupKey));
  if (state.lists)
    out.lists = state.lists.map((l) => ({
      address: l.address,
      type: l.type,
      comment: normalizeComment(l.comment),
      enabled: l.enabled,
      groups: sortedUnique(l.groups)
    })).sort(byKey(listKey));
  if (state.domains)
    out.domains = state.domains.map((d) => ({
      domain: d.domain,
      type: d.type,
      kind: d.kind,
      comment: normalizeComment(d.comment),
      enabled: d.enabled,
      groups: sortedUnique(d.groups)
    })).sort(byKey(domainKey));
  if (state.clients)
    out.clients = state.clients.map((c) => ({
      client: c.client,
      comment: normalizeComment(c.comment),
      groups: sortedUnique(c.groups)
    })).sort(byKey(clientKey));
  if (state.hosts) out.hosts = sortedUnique(state.hosts.map((h) => h.trim().replace(/\s+/g, " ")));
  if (state.cnameRecords) out.cnameRecords = sortedUnique(state.cnameRecords.map((c) => c.trim()));
  if (state.config) out.config = { ...state.config };
  return out;
}
var Comment, GroupNames, PiholeGroupSchema, PiholeListSchema, PiholeDomainSchema, PiholeClientSchema, DOCUMENT_SCHEMAS, DOCUMENT_FILES, DOCUMENT_BY_ITEM, FORMAT, byKey, groupKey, listKey, domainKey, clientKey, normalizeComment, sortedUnique;
var init_pihole_documents = __esm({
  "agent/kinds/pihole/pihole-documents.ts"() {
    "use strict";
    Comment = z9.string().nullable();
    GroupNames = z9.array(z9.string());
    PiholeGroupSchema = z9.strictObject({
      name: z9.string().min(1),
      comment: Comment,
      enabled: z9.boolean()
    });
    PiholeListSchema = z9.strictObject({
      address: z9.string().min(1),
      type: z9.enum(["allow", "block"]),
      comment: Comment,
      enabled: z9.boolean(),
      groups: GroupNames
    });
    PiholeDomainSchema = z9.strictObject({
      domain: z9.string().min(1),
      type: z9.enum(["allow", "deny"]),
      kind: z9.enum(["exact", "regex"]),
      comment: Comment,
      enabled: z9.boolean(),
      groups: GroupNames
    });
    PiholeClientSchema = z9.strictObject({
      client: z9.string().min(1),
      comment: Comment,
      groups: GroupNames
    });
    DOCUMENT_SCHEMAS = {
      groups: z9.array(PiholeGroupSchema),
      lists: z9.array(PiholeListSchema),
      domains: z9.array(PiholeDomainSchema),
      clients: z9.array(PiholeClientSchema),
      hosts: z9.array(z9.string()),
      cnameRecords: z9.array(z9.string()),
      config: z9.record(z9.string(), z9.unknown())
    };
    DOCUMENT_FILES = {
      groups: "groups.json",
      lists: "lists.json",
      domains: "domains.json",
      clients: "clients.json",
      hosts: "dns-hosts.json",
      cnameRecords: "dns-cnames.json",
      config: "config.json"
    };
    DOCUMENT_BY_ITEM = {
      groups: "groups",
      lists: "lists",
      domains: "domains",
      clients: "clients",
      "dns.hosts": "hosts",
      "dns.cnameRecords": "cnameRecords"
    };
    FORMAT = "fleetsync.pihole/1";
    byKey = (key) => (a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
    groupKey = (g) => g.name;
    listKey = (l) => `${l.type} ${l.address}`;
    domainKey = (d) => `${d.type} ${d.kind} ${d.domain}`;
    clientKey = (c) => c.client;
    normalizeComment = (comment) => comment ? comment : null;
    sortedUnique = (values) => [...new Set(values)].sort();
  }
});

// agent/kinds/pihole/document-entry.ts
import { createHash as createHash3 } from "node:crypto";
function sha2562(bytes2) {
  return createHash3("sha256").update(bytes2).digest("hex");
}
async function documentEntry(bytes2) {
  const blockSize = blockSizeFor(bytes2.length);
  const blocks2 = [];
  for (let offset = 0; offset < bytes2.length; offset += blockSize)
    blocks2.push(sha2562(bytes2.subarray(offset, offset + blockSize)));
  return {
    type: "file",
    size: bytes2.length,
    mtimeMs: 0,
    ino: 0,
    mode: DOCUMENT_MODE,
    blockSize,
    blocks: blocks2,
    hash: await contentHash(bytes2.length, blockSize, blocks2)
  };
}
function encodeDocuments(state, settings) {
  const names = settings.sync.map((item) => DOCUMENT_BY_ITEM[item]);
  if (settings.config.length > 0) names.push("config");
  const out = /* @__PURE__ */ new Map();
  for (const name of names) out.set(DOCUMENT_FILES[name], encodeDocument(name, state[name] ?? []));
  return out;
}
var DOCUMENT_MODE;
var init_document_entry = __esm({
  "agent/kinds/pihole/document-entry.ts"() {
    "use strict";
    init_block_size();
    init_content_hash();
    init_pihole_documents();
    DOCUMENT_MODE = 420;
  }
});

// agent/kinds/pihole/render-pihole-requests.ts
function chunk(values, wrap2) {
  const bodies = [];
  let part = [];
  let bytes2 = 0;
  for (const value of values) {
    const size = JSON.stringify(value).length + 1;
    if (part.length > 0 && bytes2 + size > MAX_BODY_BYTES) {
      bodies.push(wrap2(part));
      part = [];
      bytes2 = 0;
    }
    part.push(value);
    bytes2 += size;
  }
  if (part.length > 0) bodies.push(wrap2(part));
  return bodies;
}
function batches(rows, attrs) {
  const out = /* @__PURE__ */ new Map();
  for (const row of rows) {
    const k = JSON.stringify(attrs(row));
    const run2 = out.get(k);
    if (run2) run2.push(row);
    else out.set(k, [row]);
  }
  return [...out.values()];
}
function nested(config) {
  const root = {};
  for (const [key, value] of Object.entries(config)) {
    const parts = key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      if (!node[part] || typeof node[part] !== "object") node[part] = {};
      node = node[part];
    }
    node[parts[parts.length - 1]] = value;
  }
  return root;
}
function renderPiholeRequests(step, groupId) {
  const ids = (names) => names.map(groupId);
  switch (step.do) {
    case "patchConfig":
      return [{ method: "PATCH", path: "/config", body: { config: nested(step.config) }, timeoutMs: 6e4 }];
    case "update":
      switch (step.item) {
        case "groups": {
          const g = step.row;
          return [{ method: "PUT", path: `/groups/${enc(g.name)}`, body: g }];
        }
        case "lists": {
          const l = step.row;
          return [
            {
              method: "PUT",
              path: `/lists/${enc(l.address)}?type=${l.type}`,
              body: { comment: l.comment, enabled: l.enabled, groups: ids(l.groups) }
            }
          ];
        }
        case "domains": {
          const d = step.row;
          return [
            {
              method: "PUT",
              path: `/domains/${d.type}/${d.kind}/${enc(d.domain)}`,
              body: { comment: d.comment, enabled: d.enabled, groups: ids(d.groups) }
            }
          ];
        }
        case "clients": {
          const c = step.row;
          return [
            {
              method: "PUT",
              path: `/clients/${enc(c.client)}`,
              body: { comment: c.comment, groups: ids(c.groups) }
            }
          ];
        }
      }
      break;
    case "delete": {
      const items = step.rows.map((row) => {
        switch (step.item) {
          case "groups":
            return { item: row.name };
          case "lists":
            return { item: row.address, type: row.type };
          case "domains":
            return {
              item: row.domain,
              type: row.type,
              kind: row.kind
            };
          default:
            return { item: row.client };
        }
      });
      return chunk(items, (part) => part).map((body) => ({
        method: "POST",
        path: `/${step.item}:batchDelete`,
        body,
        timeoutMs: BATCH_TIMEOUT_MS
      }));
    }
    case "create": {
      const out = [];
      switch (step.item) {
        case "groups":
          for (const run2 of batches(step.rows, (g) => [g.comment, g.enabled]))
            for (const body of chunk(
              run2.map((g) => g.name),
              (name) => ({ name, comment: run2[0]?.comment ?? null, enabled: run2[0]?.enabled ?? true })
            ))
              out.push({ method: "POST", path: "/groups", body, timeoutMs: BATCH_TIMEOUT_MS });
          break;
        case "lists":
          for (const run2 of batches(step.rows, (l) => [
            l.type,
            l.comment,
            l.enabled,
            l.groups
          ])) {
            const first = run2[0];
            for (const body of chunk(
              run2.map((l) => l.address),
              (address) => ({
                address,
                comment: first.comment,
                enabled: first.enabled,
                groups: ids(first.groups)
              })
            ))
              out.push({
                method: "POST",
                path: `/lists?type=${first.type}`,
                body,
                timeoutMs: BATCH_TIMEOUT_MS
              });
          }
          break;
        case "domains":
          for (const run2 of batches(step.rows, (d) => [
            d.type,
            d.kind,
            d.comment,
            d.enabled,
            d.groups
          ])) {
            const first = run2[0];
            for (const body of chunk(
              run2.map((d) => d.domain),
              (domain) => ({
                domain,
                comment: first.comment,
                enabled: first.enabled,
                groups: ids(first.groups)
              })
            ))
              out.push({
                method: "POST",
                path: `/domains/${first.type}/${first.kind}`,
                body,
                timeoutMs: BATCH_TIMEOUT_MS
              });
          }
          break;
        case "clients":
          for (const run2 of batches(step.rows, (c) => [c.comment, c.groups])) {
            const first = run2[0];
            for (const body of chunk(
              run2.map((c) => c.client),
              (client) => ({ client, comment: first.comment, groups: ids(first.groups) })
            ))
              out.push({ method: "POST", path: "/clients", body, timeoutMs: BATCH_TIMEOUT_MS });
          }
          break;
      }
      return out;
    }
  }
  return [];
}
var MAX_BODY_BYTES, BATCH_TIMEOUT_MS, enc;
var init_render_pihole_requests = __esm({
  "agent/kinds/pihole/render-pihole-requests.ts"() {
    "use strict";
    MAX_BODY_BYTES = 48 * 1024;
    BATCH_TIMEOUT_MS = 10 * 6e4;
    enc = encodeURIComponent;
  }
});

// agent/kinds/pihole/execute-pihole-plan.ts
function documentsOfStep(step, configDocs) {
  return step.do === "patchConfig" ? configDocs : [step.item];
}
async function send(api, request) {
  const body = await api.request(request);
  const errors4 = body?.processed?.errors ?? [];
  if (errors4.length > 0) {
    const first = errors4[0];
    throw new FleetsyncError(
      "invalid",
      `Pi-hole at ${api.url} refused ${request.method} /api${request.path} for "${first?.item}": ${first?.error}${errors4.length > 1 ? ` (and ${errors4.length - 1} more)` : ""}`,
      { retryable: false }
    );
  }
}
async function groupIdsOf(api) {
  const { groups } = await api.request({
    method: "GET",
    path: "/groups"
  });
  return new Map(groups.map((g) => [g.name, g.id]));
}
async function ftlUptime(api) {
  try {
    const body = await api.request({
      method: "GET",
      path: "/info/ftl",
      timeoutMs: 1e3
    });
    return body?.ftl?.uptime;
  } catch {
    return void 0;
  }
}
async function isDatabaseOpen(api) {
  return api.request({ method: "GET", path: "/groups", timeoutMs: 1e3 }).then(
    () => true,
    () => false
  );
}
async function lastGravityRun(api) {
  try {
    const body = await api.request({
      method: "GET",
      path: "/stats/summary"
    });
    return body?.gravity?.last_update;
  } catch {
    return void 0;
  }
}
async function lastGravityRunSettled(api) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const seconds = await lastGravityRun(api);
    if (seconds !== void 0) return seconds;
    await new Promise((resolve7) => setTimeout(resolve7, 200));
  }
  return void 0;
}
async function waitForGravityReload(api, run2, timeoutMs = 6e4) {
  const deadline = Date.now() + timeoutMs;
  const startedSeconds = Math.floor(run2.startedAtMs / 1e3);
  while (Date.now() < deadline) {
    const now = await lastGravityRun(api);
    const isNewer = now !== void 0 && now >= startedSeconds && (run2.before === void 0 || now > run2.before);
    if (isNewer && await isDatabaseOpen(api)) return true;
    await new Promise((resolve7) => setTimeout(resolve7, 100));
  }
  return false;
}
async function waitForFtlRestart(api, uptimeBefore, timeoutMs = 6e4) {
  const deadline = Date.now() + timeoutMs;
  let sawDown = false;
  while (Date.now() < deadline) {
    const uptime = await ftlUptime(api);
    if (uptime === void 0) sawDown = true;
    else if (sawDown || uptimeBefore !== void 0 && uptime < uptimeBefore) {
      if (await isDatabaseOpen(api)) return;
    }
    await new Promise((resolve7) => setTimeout(resolve7, 100));
  }
  throw new FleetsyncError(
    "unavailable",
    `Pi-hole at ${api.url} did not come back within ${timeoutMs / 1e3} s after a change that restarts FTL; check its FTL.log`,
    { retryable: true }
  );
}
async function executePiholePlan(options) {
  const { api, plan, dryRun, log, configDocs } = options;
  let groupIds = options.groupIds;
  const failed = /* @__PURE__ */ new Map();
  let requests = 0;
  const groupId = (name) => {
    const id = groupIds.get(name);
    if (id !== void 0) return id;
    if (dryRun) return `<id of new group ${name}>`;
    throw new FleetsyncError(
      "invalid",
      `Pi-hole at ${api.url} has no group "${name}" (creating it failed?)`,
      {
        retryable: false
      }
    );
  };
  for (const step of plan.steps) {
    const docs = documentsOfStep(step, configDocs);
    if (docs.some((d) => failed.has(d))) continue;
    try {
      const calls = renderPiholeRequests(step, groupId);
      const uptimeBefore = step.do === "patchConfig" && step.restartsFtl && !dryRun ? await ftlUptime(api) : void 0;
      for (const call of calls) {
        requests += 1;
        if (dryRun) {
          log.info("dry run: would call the Pi-hole API", {
            method: call.method,
            path: `/api${call.path}`,
            body: call.body
          });
          continue;
        }
        await send(api, call);
      }
      if (dryRun) continue;
      if (step.do === "create" && step.item === "groups") groupIds = await groupIdsOf(api);
      if (step.do === "patchConfig" && step.restartsFtl) {
        log.info("waiting for FTL to restart after a config change that needs one", {
          keys: Object.keys(step.config)
        });
        await waitForFtlRestart(api, uptimeBefore);
      }
    } catch (error) {
      for (const d of docs) failed.set(d, error.message);
    }
  }
  let gravityRan = false;
  if (plan.runGravity && !failed.has("lists")) {
    if (dryRun) {
      log.info("dry run: would call the Pi-hole API", { method: "POST", path: "/api/action/gravity" });
    } else {
      try {
        const before = await lastGravityRunSettled(api);
        const startedAtMs = Date.now();
        const transcript = await api.request({
          method: "POST",
          path: "/action/gravity",
          asText: true,
          timeoutMs: 0
        });
        gravityRan = true;
        if (!await waitForGravityReload(api, { before, startedAtMs }))
          log.warn("FTL did not report the new gravity run within 60 s; going on", { url: api.url });
        const problems = transcript.split("\n").filter((line) => line.includes("[\u2717]"));
        log.info("gravity ran because the set of adlists changed", { problems: problems.slice(0, 10) });
        if (!transcript.includes("Done.") && problems.length > 0)
          failed.set(
            "lists",
            `Pi-hole at ${api.url}: gravity failed after the lists changed: ${problems.join("; ")}`
          );
      } catch (error) {
        failed.set("lists", `lists applied, but gravity did not finish: ${error.message}`);
      }
    }
  }
  return { failed, gravityRan, requests };
}
var init_execute_pihole_plan = __esm({
  "agent/kinds/pihole/execute-pihole-plan.ts"() {
    "use strict";
    init_fleetsync_error();
    init_render_pihole_requests();
  }
});

// agent/kinds/pihole/map-renamed-config-keys.ts
function lookup(tree, key) {
  let node = tree;
  for (const part of key.split(".")) {
    if (!node || typeof node !== "object" || !(part in node)) return void 0;
    node = node[part];
  }
  return node;
}
function legacyKeysOf(config) {
  const legacy = /* @__PURE__ */ new Map();
  for (const [current, old] of Object.entries(RENAMED_CONFIG_KEYS)) {
    const value = lookup(config, old);
    if (lookup(config, current) === void 0 && value !== void 0 && (typeof value !== "object" || Array.isArray(value)))
      legacy.set(current, old);
  }
  return legacy;
}
function toCurrentKeys(config, legacy) {
  if (legacy.size === 0) return config;
  const copy = structuredClone(config);
  for (const [current, old] of legacy) {
    const value = lookup(copy, old);
    const oldParts = old.split(".");
    let parent = copy;
    for (const part of oldParts.slice(0, -1)) parent = parent[part];
    const currentParts = current.split(".");
    let node = copy;
    for (const part of currentParts.slice(0, -1)) {
      if (!node[part] || typeof node[part] !== "object") node[part] = {};
      node = node[part];
    }
    node[currentParts[currentParts.length - 1]] = value;
  }
  return copy;
}
function toLocalKeys(config, legacy) {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [legacy.get(key) ?? key, value]));
}
var RENAMED_CONFIG_KEYS;
var init_map_renamed_config_keys = __esm({
  "agent/kinds/pihole/map-renamed-config-keys.ts"() {
    "use strict";
    RENAMED_CONFIG_KEYS = { "dns.domain.name": "dns.domain" };
  }
});

// agent/kinds/pihole/pihole-api.ts
import { readFile as readFile4 } from "node:fs/promises";
function describeCredential(credential) {
  if (credential.passwordFile) return `the password in ${credential.passwordFile}`;
  if (credential.password)
    return `the password in agent.yaml (shares.${credential.shareName}.pihole.password)`;
  return "no password (none is configured for this share)";
}
async function readPassword(credential, url) {
  if (credential.password) return credential.password;
  if (!credential.passwordFile) return void 0;
  try {
    return (await readFile4(credential.passwordFile, "utf8")).trim();
  } catch (error) {
    throw new FleetsyncError(
      "invalid",
      `cannot read the password file ${credential.passwordFile} for the Pi-hole at ${url} (${error.message}); create it with the web or app password, readable by the agent`,
      { cause: error, retryable: false }
    );
  }
}
function ftlReason(body, status) {
  const e = body?.error;
  if (!e) return `HTTP ${status}`;
  return `${e.message ?? e.key ?? `HTTP ${status}`}${e.hint ? ` (${e.hint})` : ""}`;
}
function causeCode(error) {
  let node = error;
  let code = error.name === "TimeoutError" ? "timed out" : error.message;
  for (let depth = 0; node && depth < 5; depth++) {
    if (node.name === "TimeoutError") return "timed out";
    if (typeof node.code === "string") code = node.code;
    else if (depth > 0 && node.message) code = node.message;
    node = node.cause ?? node.errors?.[0];
  }
  return code;
}
async function send2(url, request, sid, userAgent = PIHOLE_USER_AGENT) {
  const headers = { "User-Agent": userAgent, Accept: "application/json" };
  if (sid) headers.sid = sid;
  if (request.body !== void 0) headers["Content-Type"] = "application/json";
  if (request.asText) headers.Connection = "close";
  const timeoutMs = request.timeoutMs ?? 2e4;
  let response;
  try {
    response = await fetch(`${url}/api${request.path}`, {
      method: request.method,
      headers,
      body: request.body === void 0 ? void 0 : JSON.stringify(request.body),
      signal: timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : void 0
    });
  } catch (error) {
    const cause = causeCode(error);
    throw new FleetsyncError(
      "unavailable",
      `Pi-hole at ${url} is not answering ${request.method} /api${request.path} (${cause}); is pihole-FTL running? retrying later`,
      { cause: error, retryable: true }
    );
  }
  const bytes2 = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, text: request.asBytes ? "" : new TextDecoder().decode(bytes2), bytes: bytes2 };
}
function parseJson(text2) {
  try {
    return JSON.parse(text2);
  } catch {
    return void 0;
  }
}
async function openPiholeApi(options) {
  const { url, credential } = options;
  const userAgent = options.userAgent ?? PIHOLE_USER_AGENT;
  const password = await readPassword(credential, url);
  let sid;
  for (let attempt = 0; ; attempt++) {
    const login = await send2(
      url,
      { method: "POST", path: "/auth", body: { password: password ?? "" } },
      void 0,
      userAgent
    );
    const body = parseJson(login.text);
    if (login.status === 200 && body?.session?.valid) {
      sid = body.session.sid ?? void 0;
      break;
    }
    if (login.status === 404) {
      throw new FleetsyncError(
        "invalid",
        `Pi-hole at ${url} has no /api/auth: it is older than Pi-hole v6 (FTL 6.0 or newer is required; upgrade it with "pihole -up")`,
        { retryable: false }
      );
    }
    if (login.status === 401) {
      throw new FleetsyncError(
        "unauthenticated",
        password ? `Pi-hole at ${url} rejected ${describeCredential(credential)}; put its web password or an app password there` : `Pi-hole at ${url} requires a password and ${describeCredential(credential)}; set passwordFile for share "${credential.shareName}"`,
        { retryable: false }
      );
    }
    if (login.status === 429 && attempt < RETRY_DELAYS_MS.length) {
      await new Promise((resolve7) => setTimeout(resolve7, RETRY_DELAYS_MS[attempt]));
      continue;
    }
    if (login.status === 429) {
      const seats = body?.error?.key === "api_seats_exceeded";
      throw new FleetsyncError(
        "rate_limited",
        seats ? `Pi-hole at ${url} has no free API seat (all webserver.api.max_sessions are held by other clients); retrying later \u2014 log out other clients or raise webserver.api.max_sessions` : `Pi-hole at ${url} is rate-limiting logins (${ftlReason(body, 429)}); retrying later`,
        { retryable: true }
      );
    }
    throw new FleetsyncError(
      "unavailable",
      `Pi-hole at ${url} refused the login: ${ftlReason(body, login.status)}`,
      {
        retryable: login.status >= 500
      }
    );
  }
  const api = {
    url,
    async request(request) {
      let deadline = Date.now() + DATABASE_WAIT_MS;
      let hasRestartedDns = false;
      for (; ; ) {
        try {
          return await requestOnce(request);
        } catch (error) {
          const isRestarting = hasRestartedDns && error instanceof FleetsyncError && error.code === "unavailable";
          if (!(error instanceof DatabaseBusyError) && !isRestarting) throw error;
          if (Date.now() > deadline) {
            if (hasRestartedDns) throw error;
            hasRestartedDns = true;
            await requestOnce({ method: "POST", path: "/action/restartdns", timeoutMs: 1e4 }).catch(() => {
              throw error;
            });
            deadline = Date.now() + DATABASE_WAIT_MS;
          }
          await new Promise((resolve7) => setTimeout(resolve7, hasRestartedDns ? 300 : 100));
        }
      }
    },
    async close() {
      if (!sid) return;
      const current = sid;
      sid = void 0;
      for (let attempt = 0; attempt < LOGOUT_ATTEMPTS; attempt++) {
        const answered = await send2(
          url,
          { method: "DELETE", path: "/auth", timeoutMs: 5e3 },
          current,
          userAgent
        ).then(
          () => true,
          () => false
        );
        if (answered) return;
        await new Promise((resolve7) => setTimeout(resolve7, 300));
      }
    }
  };
  async function requestOnce(request) {
    const { status, text: text2, bytes: bytes2 } = await send2(url, request, sid, userAgent);
    if (status === 401) {
      throw new FleetsyncError(
        "unauthenticated",
        `Pi-hole at ${url} ended this agent's session during ${request.method} /api${request.path}; logging in again on the next run`,
        { retryable: true }
      );
    }
    if (status >= 400) {
      const body = parseJson(text2 || new TextDecoder().decode(bytes2));
      const reason = ftlReason(body, status);
      if (body?.error?.key === "database_error")
        throw new DatabaseBusyError(
          `Pi-hole at ${url} cannot reach its database for ${request.method} /api${request.path} (${reason}); FTL is probably starting or running gravity; retrying later`
        );
      const hint = status === 403 ? "; an app password needs webserver.api.app_sudo = true to change config keys" : status >= 500 ? "; retrying later" : "";
      throw new FleetsyncError(
        status === 403 ? "forbidden" : status >= 500 ? "unavailable" : "invalid",
        `Pi-hole at ${url} refused ${request.method} /api${request.path}: ${reason}${hint}`,
        { retryable: status >= 500 }
      );
    }
    if (request.asBytes) return bytes2;
    if (request.asText) return text2;
    if (text2 === "") return void 0;
    const parsed = parseJson(text2);
    if (parsed === void 0)
      throw new FleetsyncError(
        "unavailable",
        `Pi-hole at ${url} answered ${request.method} /api${request.path} with a body that is not JSON`,
        { retryable: true }
      );
    return parsed;
  }
  if (sid) await reapOwnSessions(api, userAgent);
  return api;
}
async function reapOwnSessions(api, userAgent) {
  try {
    const { sessions } = await api.request({
      method: "GET",
      path: "/auth/sessions"
    });
    for (const s of sessions) {
      if (s.current_session || s.user_agent !== userAgent) continue;
      await api.request({ method: "DELETE", path: `/auth/session/${s.id}` });
    }
  } catch {
  }
}
async function withPiholeApi(options, work) {
  const api = await openPiholeApi(options);
  try {
    return await work(api);
  } finally {
    await api.close();
  }
}
var PIHOLE_USER_AGENT, RETRY_DELAYS_MS, DATABASE_WAIT_MS, LOGOUT_ATTEMPTS, DatabaseBusyError;
var init_pihole_api = __esm({
  "agent/kinds/pihole/pihole-api.ts"() {
    "use strict";
    init_fleetsync_error();
    PIHOLE_USER_AGENT = "fleetsync-agent (pihole share)";
    RETRY_DELAYS_MS = [250, 1e3, 2500];
    DATABASE_WAIT_MS = 3e4;
    LOGOUT_ATTEMPTS = 20;
    DatabaseBusyError = class extends FleetsyncError {
      constructor(message) {
        super("unavailable", message, { retryable: true });
      }
    };
  }
});

// agent/kinds/pihole/pihole-share-settings.ts
import { z as z10 } from "zod";
function isLoopbackUrl(url) {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}
var PiholeShareSettingsSchema;
var init_pihole_share_settings = __esm({
  "agent/kinds/pihole/pihole-share-settings.ts"() {
    "use strict";
    init_pihole_items();
    PiholeShareSettingsSchema = z10.strictObject({
      /** The local API, e.g. http://127.0.0.1:80 (the `/api` suffix is optional). */
      url: z10.string().default("http://127.0.0.1:80").transform((value, ctx) => {
        let url;
        try {
          url = new URL(value);
        } catch {
          ctx.addIssue({ code: "custom", message: `"${value}" is not a URL; use e.g. http://127.0.0.1:80` });
          return z10.NEVER;
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") {
          ctx.addIssue({ code: "custom", message: `"${value}" must be http:// or https://` });
          return z10.NEVER;
        }
        if (!isLoopbackUrl(url)) {
          ctx.addIssue({
            code: "custom",
            message: `"${value}" is not on loopback: the agent talks only to the Pi-hole on its own host (127.0.0.1 or ::1), so no Pi-hole password crosses the network`
          });
          return z10.NEVER;
        }
        return `${url.origin}${url.pathname.replace(/\/+$/, "").replace(/\/api$/, "")}`;
      }),
      /** The web or app password; prefer passwordFile. Omit both for a Pi-hole without a password. */
      password: z10.string().min(1).optional(),
      passwordFile: z10.string().min(1).optional(),
      /** FTL's directory (pihole.toml, gravity.db), watched for changes. */
      configDir: z10.string().min(1).default("/etc/pihole"),
      /** What is synced: set on the hub per share; here only where a kind runs without one (its tests). */
      sync: PiholeSyncSchema,
      config: PiholeConfigKeysSchema,
      /** Minutes between safety-net API polls on top of watching configDir. */
      pollMinutes: z10.number().min(0.05).max(1440).default(5)
    }).refine((s) => !(s.password && s.passwordFile), {
      message: "give password or passwordFile, not both",
      path: ["passwordFile"]
    });
  }
});

// agent/kinds/pihole/plan-pihole-changes.ts
function restartsFtl(key) {
  return RESTART_KEY_PREFIXES.some((p) => key === p || key.startsWith(`${p}.`));
}
function stable(value) {
  return JSON.stringify(
    value,
    (_k, v) => v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(
      Object.keys(v).sort().map((k) => [k, v[k]])
    ) : v
  );
}
function diffRows(item, wanted, current, deletes) {
  const key = KEYS[item];
  const have = new Map(current.map((row) => [key(row), row]));
  const want = new Map(wanted.map((row) => [key(row), row]));
  const create = [];
  const update = [];
  const remove = [];
  for (const [k, row] of want) {
    const existing = have.get(k);
    if (!existing) create.push(row);
    else if (stable(existing) !== stable(row)) update.push(row);
  }
  if (deletes === "propagate") {
    for (const [k, row] of have) if (!want.has(k)) remove.push(row);
  }
  if (item === "groups") {
    return {
      create: create.filter((g) => g.name !== DEFAULT_GROUP),
      update,
      remove: remove.filter((g) => g.name !== DEFAULT_GROUP)
    };
  }
  return { create, update, remove };
}
function gravityRelevant(l) {
  return `${l.type} ${l.address} ${l.enabled}`;
}
function planPiholeChanges(input) {
  const { wanted, current, deletes } = input;
  const problems = {};
  const knownGroups = /* @__PURE__ */ new Set([DEFAULT_GROUP, ...(wanted.groups ?? current.groups ?? []).map((g) => g.name)]);
  for (const item of ["lists", "domains", "clients"]) {
    const rows = wanted[item];
    const missing = [...new Set((rows ?? []).flatMap((r) => r.groups).filter((g) => !knownGroups.has(g)))];
    if (missing.length > 0)
      problems[item] = `names group${missing.length > 1 ? "s" : ""} ${missing.map((g) => `"${g}"`).join(", ")}, which this Pi-hole does not have; sync groups too, or create ${missing.length > 1 ? "them" : "it"} here`;
  }
  const steps = [];
  const groupDiff = wanted.groups ? diffRows("groups", wanted.groups, current.groups ?? [], deletes) : { create: [], update: [], remove: [] };
  if (groupDiff.create.length > 0) steps.push({ do: "create", item: "groups", rows: groupDiff.create });
  for (const row of groupDiff.update) steps.push({ do: "update", item: "groups", row });
  let runGravity = false;
  for (const item of ["lists", "domains", "clients"]) {
    const rows = wanted[item];
    if (!rows || problems[item]) continue;
    const diff = diffRows(item, rows, current[item] ?? [], deletes);
    if (diff.remove.length > 0) steps.push({ do: "delete", item, rows: diff.remove });
    if (diff.create.length > 0) steps.push({ do: "create", item, rows: diff.create });
    for (const row of diff.update) steps.push({ do: "update", item, row });
    if (item === "lists") {
      const before = new Set((current.lists ?? []).map(gravityRelevant));
      const after = new Set(rows.map(gravityRelevant));
      const removed = diff.remove.length > 0;
      runGravity = removed || [...after].some((l) => !before.has(l));
    }
  }
  if (groupDiff.remove.length > 0) steps.push({ do: "delete", item: "groups", rows: groupDiff.remove });
  const config = {};
  const mergeSet = (want, have) => deletes === "keep" ? [.../* @__PURE__ */ new Set([...have, ...want])].sort() : want;
  if (wanted.hosts) {
    const next = mergeSet(wanted.hosts, current.hosts ?? []);
    if (stable(next) !== stable(current.hosts ?? [])) config["dns.hosts"] = next;
  }
  if (wanted.cnameRecords) {
    const next = mergeSet(wanted.cnameRecords, current.cnameRecords ?? []);
    if (stable(next) !== stable(current.cnameRecords ?? [])) config["dns.cnameRecords"] = next;
  }
  for (const [key, value] of Object.entries(wanted.config ?? {})) {
    if (stable(value) !== stable(current.config?.[key])) config[key] = value;
  }
  const keys = Object.keys(config);
  if (keys.length > 0) steps.push({ do: "patchConfig", config, restartsFtl: keys.some(restartsFtl) });
  return { steps, runGravity, problems };
}
var RESTART_KEY_PREFIXES, DEFAULT_GROUP, KEYS;
var init_plan_pihole_changes = __esm({
  "agent/kinds/pihole/plan-pihole-changes.ts"() {
    "use strict";
    init_pihole_documents();
    RESTART_KEY_PREFIXES = [
      "dns.cnameRecords",
      "dns.upstreams",
      "dns.interface",
      "dns.port",
      "dns.domain",
      "dns.listeningMode",
      "dns.revServers",
      "dhcp",
      "webserver.port",
      "webserver.api.max_sessions"
    ];
    DEFAULT_GROUP = "Default";
    KEYS = { groups: groupKey, lists: listKey, domains: domainKey, clients: clientKey };
  }
});

// agent/kinds/pihole/read-pihole-state.ts
function lookup2(tree, path) {
  let node = tree;
  for (const part of path) {
    if (!node || typeof node !== "object" || !(part in node)) return void 0;
    node = node[part];
  }
  return node;
}
function pickConfigKeys(config, keys) {
  const out = {};
  const visit = (key, value, named) => {
    if (value === void 0) return;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) visit(`${key}.${k}`, v, false);
      return;
    }
    if (value === "********") return;
    if (refusalOfConfigKey(key)) return;
    if (key === "dns.upstreams" && !named) return;
    out[key] = value;
  };
  for (const key of keys) visit(key, lookup2(config, key.split(".")), true);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a < b ? -1 : 1));
}
async function readPiholeState(api, settings) {
  const items = new Set(settings.sync);
  const { groups } = await api.request({ method: "GET", path: "/groups" });
  const groupIds = new Map(groups.map((g) => [g.name ?? "", g.id]));
  const names = new Map(groups.map((g) => [g.id, g.name ?? ""]));
  const toNames = (ids) => (ids ?? []).map((id) => names.get(id) ?? `#${id}`);
  const state = {};
  let legacyKeys = /* @__PURE__ */ new Map();
  if (items.has("groups"))
    state.groups = groups.map((g) => ({
      name: g.name ?? "",
      comment: g.comment ?? null,
      enabled: g.enabled ?? true
    }));
  if (items.has("lists")) {
    const { lists } = await api.request({ method: "GET", path: "/lists" });
    state.lists = lists.map((l) => ({
      address: l.address,
      type: l.type,
      comment: l.comment ?? null,
      enabled: l.enabled ?? true,
      groups: toNames(l.groups)
    }));
  }
  if (items.has("domains")) {
    const { domains } = await api.request({ method: "GET", path: "/domains" });
    state.domains = domains.map((d) => ({
      domain: d.domain,
      type: d.type,
      kind: d.kind,
      comment: d.comment ?? null,
      enabled: d.enabled ?? true,
      groups: toNames(d.groups)
    }));
  }
  if (items.has("clients")) {
    const { clients } = await api.request({ method: "GET", path: "/clients" });
    state.clients = clients.map((c) => ({
      client: c.client,
      comment: c.comment ?? null,
      groups: toNames(c.groups)
    }));
  }
  if (items.has("dns.hosts") || items.has("dns.cnameRecords") || settings.config.length > 0) {
    const { config } = await api.request({ method: "GET", path: "/config" });
    if (items.has("dns.hosts"))
      state.hosts = lookup2(config, ["dns", "hosts"]) ?? [];
    if (items.has("dns.cnameRecords"))
      state.cnameRecords = lookup2(config, ["dns", "cnameRecords"]) ?? [];
    legacyKeys = legacyKeysOf(config);
    if (settings.config.length > 0)
      state.config = pickConfigKeys(toCurrentKeys(config, legacyKeys), settings.config);
  }
  return { state: canonicalizeState(state), groupIds, legacyKeys };
}
var init_read_pihole_state = __esm({
  "agent/kinds/pihole/read-pihole-state.ts"() {
    "use strict";
    init_pihole_items();
    init_map_renamed_config_keys();
    init_pihole_documents();
  }
});

// agent/kinds/pihole/watch-pihole-dir.ts
import { watch as watch2 } from "node:fs";
function watchPiholeDir(options) {
  const { configDir, pollMs, onDirty, onError } = options;
  let watcher;
  try {
    watcher = watch2(configDir, { persistent: false }, (_event, name) => {
      if (name === null || WATCHED.test(String(name))) onDirty("");
    });
    watcher.on("error", onError);
  } catch (error) {
    onError(error);
  }
  const timer = setInterval(() => onDirty(""), pollMs);
  timer.unref();
  return {
    ready: Promise.resolve(),
    async close() {
      clearInterval(timer);
      watcher?.close();
    }
  };
}
var WATCHED;
var init_watch_pihole_dir = __esm({
  "agent/kinds/pihole/watch-pihole-dir.ts"() {
    "use strict";
    WATCHED = /^(pihole\.toml|gravity\.db|custom\.list)/;
  }
});

// agent/kinds/pihole/create-pihole-kind.ts
function createPiholeKind(config, deps) {
  let settings = PiholeShareSettingsSchema.parse(config);
  let heardFromHub = false;
  const log = deps.log.child({ kind: "pihole" });
  const credential = {
    password: settings.password,
    passwordFile: settings.passwordFile,
    shareName: deps.shareName
  };
  const run2 = (work) => withPiholeApi({ url: settings.url, credential }, work);
  let documents = /* @__PURE__ */ new Map();
  async function refreshItems() {
    if (!deps.describeShare) return;
    try {
      const share = await deps.describeShare();
      if (share?.pihole) settings = { ...settings, sync: share.pihole.sync, config: share.pihole.config };
      heardFromHub = true;
    } catch (error) {
      if (heardFromHub) return;
      throw new Error(
        `cannot read from the hub what this share syncs (${error.message}); retrying later`,
        { cause: error }
      );
    }
  }
  async function readDocuments(api) {
    const { state } = await readPiholeState(api, settings);
    documents = encodeDocuments(state, settings);
    return documents;
  }
  return {
    kind: "pihole",
    async prepare() {
      try {
        if (!heardFromHub) await refreshItems();
        await run2(async (api) => {
          await api.request({ method: "GET", path: "/groups" });
        });
        return { ok: true };
      } catch (error) {
        return { ok: false, reason: `share "${deps.shareName}": ${error.message}` };
      }
    },
    async scan(request) {
      await refreshItems();
      const docs = await run2(readDocuments);
      const result = {
        updates: /* @__PURE__ */ new Map(),
        changed: /* @__PURE__ */ new Set(),
        unstable: /* @__PURE__ */ new Set(),
        hashedBytes: 0
      };
      for (const [path, bytes2] of docs) {
        const entry = await documentEntry(bytes2);
        result.hashedBytes += bytes2.length;
        result.updates.set(path, entry);
        if (request.index[path]?.hash !== entry.hash) result.changed.add(path);
      }
      for (const path of Object.keys(request.index)) {
        if (docs.has(path)) continue;
        result.updates.set(path, void 0);
        result.changed.add(path);
      }
      return result;
    },
    async readBlock({ path, offset, length }) {
      let bytes2 = documents.get(path);
      if (!bytes2) bytes2 = (await run2(readDocuments)).get(path);
      if (!bytes2)
        throw new Error(
          `share "${deps.shareName}" has no document ${path} (this Pi-hole share syncs ${[...documents.keys()].join(", ")})`
        );
      return bytes2.slice(offset, offset + length);
    },
    async apply(request) {
      let gravityRunAt;
      const results = /* @__PURE__ */ new Map();
      const wanted = {};
      const entries2 = /* @__PURE__ */ new Map();
      const fail = (seq, path, action, error) => results.set(path, { seq, path, action, ok: false, bytes: 0, error });
      const latest = new Map(request.ops.map((op) => [op.path, op]));
      for (const op of latest.values()) {
        const name = documentOfFile(op.path);
        const action = op.type === "deleted" ? "delete" : "write";
        if (!name) {
          fail(
            op.seq,
            op.path,
            action,
            `${op.path} is not a Pi-hole share document (expected one of ${Object.values(DOCUMENT_FILES).join(", ")}); nothing applied`
          );
          continue;
        }
        if (op.type === "deleted") {
          if (!request.dryRun) delete request.index[op.path];
          results.set(op.path, { seq: op.seq, path: op.path, action, ok: true, bytes: 0 });
          continue;
        }
        if (op.type !== "file") {
          fail(op.seq, op.path, action, `${op.path} arrived as a ${op.type}, not a file; nothing applied`);
          continue;
        }
        const blocks2 = await collectBlocks(request.fetchBlocks, op.blocks, request.signal);
        const parts = [];
        const missing = op.blocks.filter(
          (hash) => !blocks2.has(hash) || sha2562(blocks2.get(hash)) !== hash
        );
        if (missing.length > 0) {
          fail(
            op.seq,
            op.path,
            action,
            `the hub lacks ${missing.length} block(s) of ${op.path} (or they failed verification); retrying later`
          );
          continue;
        }
        for (const hash of op.blocks) parts.push(blocks2.get(hash));
        const bytes2 = Buffer.concat(parts);
        const decoded = decodeDocument(name, bytes2);
        if (!decoded.ok) {
          fail(op.seq, op.path, action, `${decoded.reason}; nothing applied`);
          continue;
        }
        wanted[name] = decoded.items;
        entries2.set(name, { seq: op.seq, path: op.path, entry: await documentEntry(bytes2) });
        results.set(op.path, { seq: op.seq, path: op.path, action, ok: true, bytes: bytes2.length });
      }
      if (entries2.size > 0) {
        try {
          await refreshItems();
          await run2(async (api) => {
            if (!request.dryRun)
              await backUpPiholeOnce({ api, stateDir: deps.stateDir, shareName: deps.shareName, log }).catch(
                (error) => log.warn("could not save a Teleporter backup before the first sync", {
                  error: error.message
                })
              );
            const syncGroups = {
              ...settings,
              sync: [.../* @__PURE__ */ new Set([...settings.sync, "groups"])]
            };
            const current = await readPiholeState(api, syncGroups);
            const planned = planPiholeChanges({ wanted, current: current.state, deletes: request.deletes });
            const plan = {
              ...planned,
              steps: planned.steps.map(
                (step) => step.do === "patchConfig" ? { ...step, config: toLocalKeys(step.config, current.legacyKeys) } : step
              )
            };
            for (const [name, reason] of Object.entries(plan.problems)) {
              const e = entries2.get(name);
              if (e) fail(e.seq, e.path, "write", `${e.path} ${reason}; nothing of it applied`);
            }
            log.info(request.dryRun ? "dry run: planned Pi-hole changes" : "applying Pi-hole changes", {
              steps: plan.steps.length,
              gravity: plan.runGravity
            });
            const done = await executePiholePlan({
              api,
              plan,
              groupIds: current.groupIds,
              dryRun: request.dryRun,
              log,
              configDocs: CONFIG_DOCS
            });
            for (const [name, reason] of done.failed) {
              const e = entries2.get(name);
              if (e) fail(e.seq, e.path, "write", reason);
            }
            if (done.gravityRan) gravityRunAt = Date.now();
          });
        } catch (error) {
          for (const e of entries2.values()) fail(e.seq, e.path, "write", error.message);
        }
        if (!request.dryRun) {
          for (const e of entries2.values()) if (results.get(e.path)?.ok) request.index[e.path] = e.entry;
        }
      }
      const perOp = request.ops.map((op) => ({ ...results.get(op.path), seq: op.seq }));
      const last = request.ops.at(-1);
      return gravityRunAt !== void 0 && last ? [...perOp, { seq: last.seq, path: "(gravity)", action: "gravity", ok: true, bytes: 0 }] : perOp;
    },
    watch(onDirty) {
      return watchPiholeDir({
        configDir: settings.configDir,
        pollMs: settings.pollMinutes * 6e4,
        onDirty,
        onError: (error) => log.warn("cannot watch the Pi-hole directory; relying on the API poll", {
          dir: settings.configDir,
          error: error.message
        })
      });
    },
    async close() {
      documents = /* @__PURE__ */ new Map();
    }
  };
}
var CONFIG_DOCS;
var init_create_pihole_kind = __esm({
  "agent/kinds/pihole/create-pihole-kind.ts"() {
    "use strict";
    init_collect_blocks();
    init_back_up_pihole_once();
    init_document_entry();
    init_execute_pihole_plan();
    init_map_renamed_config_keys();
    init_pihole_api();
    init_pihole_documents();
    init_pihole_share_settings();
    init_plan_pihole_changes();
    init_read_pihole_state();
    init_watch_pihole_dir();
    CONFIG_DOCS = ["hosts", "cnameRecords", "config"];
  }
});

// agent/kinds/registry.ts
function createShareKind(share, deps) {
  const create = KINDS[share.kind];
  if (!create) {
    throw new FleetsyncError(
      "invalid",
      `share "${share.name}" is of kind "${share.kind}", which this agent version does not support (it knows: ${Object.keys(KINDS).join(", ")}); upgrade the agent`
    );
  }
  return create(share, deps);
}
var KINDS;
var init_registry = __esm({
  "agent/kinds/registry.ts"() {
    "use strict";
    init_fleetsync_error();
    init_folder_kind();
    init_create_pihole_kind();
    init_pihole_share_settings();
    KINDS = {
      folder: (share, deps) => createFolderKind(
        {
          path: share.path,
          ignore: share.ignore,
          specialModeBits: share.specialModeBits,
          retentionDays: share.retentionDays
        },
        deps
      ),
      pihole: (share, deps) => {
        const local = share.settings ?? {};
        for (const key of ["sync", "config"])
          if (key in local)
            throw new FleetsyncError(
              "invalid",
              `agent.yaml shares.${share.name}.pihole.${key}: what a Pi-hole share syncs is set on the hub, the same for every member; remove ${key} here and use fleetsync share set ${share.name} --pihole-${key} \u2026`
            );
        const parsed = PiholeShareSettingsSchema.safeParse(share.settings ?? {});
        if (!parsed.success) {
          throw new FleetsyncError(
            "invalid",
            `${describeZodError(parsed.error, `agent.yaml shares.${share.name}.pihole`)}; see the README's "Pi-hole shares"`
          );
        }
        return createPiholeKind(parsed.data, deps);
      }
    };
  }
});

// agent/log/format-log-line.ts
function formatLogLine(record, options) {
  const body = options.format === "json" ? jsonLine(record) : textLine(record, !options.journald);
  return options.journald ? `<${JOURNALD_PRIORITY[record.level]}>${body}` : body;
}
function jsonLine({ time, level, message, fields }) {
  return JSON.stringify({ time: time.toISOString(), level, msg: message, ...fields });
}
function textLine({ time, level, message, fields }, withTime) {
  const keys = [
    ...LEADING_FIELDS.filter((k) => k in fields),
    ...Object.keys(fields).filter((k) => !LEADING_FIELDS.includes(k))
  ];
  const pairs = keys.filter((k) => fields[k] !== void 0).map((k) => `${k}=${textValue(fields[k])}`);
  const head = `${withTime ? `${time.toISOString()} ` : ""}${level.toUpperCase().padEnd(5)} ${oneLine(message)}`;
  return pairs.length > 0 ? `${head}  ${pairs.join(" ")}` : head;
}
function textValue(value) {
  if (typeof value === "string") return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}
function oneLine(text2) {
  return text2.replaceAll("\r", "\\r").replaceAll("\n", "\\n");
}
var JOURNALD_PRIORITY, LEADING_FIELDS;
var init_format_log_line = __esm({
  "agent/log/format-log-line.ts"() {
    "use strict";
    JOURNALD_PRIORITY = { error: 3, warn: 4, info: 6, debug: 7 };
    LEADING_FIELDS = ["share", "path"];
  }
});

// agent/log/is-journald-stream.ts
import { fstatSync } from "node:fs";
function isJournaldStream(env, fd) {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return stream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}
var init_is_journald_stream = __esm({
  "agent/log/is-journald-stream.ts"() {
    "use strict";
  }
});

// agent/log/agent-logger.ts
import { appendFileSync } from "node:fs";
function createAgentLogger(first, destination, base) {
  const options = typeof first === "string" ? { level: first, destination: destination ?? "stdout", base } : first;
  const toStdout = options.destination === "stdout";
  const journald = toStdout && isJournaldStream(options.env ?? process.env, 1);
  const format = options.format === "text" || options.format === "json" ? options.format : journald || toStdout && process.stdout.isTTY ? "text" : "json";
  const write = toStdout ? (line) => process.stdout.write(`${line}
`) : (line) => appendFileSync(options.destination, `${line}
`);
  const now = options.now ?? (() => /* @__PURE__ */ new Date());
  const make = (fields) => {
    const at = (level) => (message, extra = {}) => {
      if (RANK[level] < RANK[options.level]) return;
      write(
        formatLogLine(
          { time: now(), level, message, fields: { ...fields, ...extra } },
          { format, journald }
        )
      );
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more) => make({ ...fields, ...more })
    };
  };
  return make(options.base ?? {});
}
var RANK;
var init_agent_logger = __esm({
  "agent/log/agent-logger.ts"() {
    "use strict";
    init_format_log_line();
    init_is_journald_stream();
    RANK = { debug: 10, info: 20, warn: 30, error: 40 };
  }
});

// agent/supervise-task.ts
async function superviseTask(task, options) {
  const { log, signal } = options;
  const now = options.now ?? Date.now;
  let attempt = 0;
  while (!signal.aborted) {
    const startedAt = now();
    let failure;
    try {
      await task();
      if (signal.aborted) return;
      failure = "it stopped on its own";
    } catch (error) {
      if (signal.aborted) return;
      failure = error instanceof Error ? error.message : String(error);
    }
    attempt = now() - startedAt > HEALTHY_RUN_MS ? 1 : attempt + 1;
    const retryInMs = backoffMs(
      attempt,
      (options.random ?? Math.random)(),
      options.backoff ?? TASK_RESTART_BACKOFF
    );
    log.error(`share task "${options.name}" failed: ${failure}; restarting it in ${retryInMs} ms`, {
      share: options.name,
      attempt,
      retryInMs
    });
    await sleep(retryInMs, signal);
  }
}
var TASK_RESTART_BACKOFF, HEALTHY_RUN_MS;
var init_supervise_task = __esm({
  "agent/supervise-task.ts"() {
    "use strict";
    init_backoff();
    TASK_RESTART_BACKOFF = { baseMs: 1e3, capMs: 3e4 };
    HEALTHY_RUN_MS = 5 * 6e4;
  }
});

// agent/session/guard-share-session.ts
function guardReceivingSide(share, deps) {
  const open5 = deps.open;
  const now = deps.now ?? Date.now;
  let inner;
  let attempt = 0;
  let nextAttemptAt = 0;
  const failed = (what, error) => {
    attempt++;
    const retryInMs = backoffMs(attempt, Math.random(), TASK_RESTART_BACKOFF);
    nextAttemptAt = now() + retryInMs;
    deps.log.error(
      `share "${share.name}": ${what} failed: ${error?.message ?? error}; retrying in ${retryInMs} ms`,
      {
        share: share.name,
        attempt,
        retryInMs
      }
    );
    return false;
  };
  return {
    share,
    get ready() {
      return inner?.ready ?? false;
    },
    rescanDueInMs(nowMs) {
      return inner ? inner.rescanDueInMs(nowMs) : nextAttemptAt - nowMs;
    },
    async prepare() {
      if (now() < nextAttemptAt) return false;
      if (!inner) {
        try {
          inner = await open5(share);
        } catch (error) {
          return failed("opening the share", error);
        }
      }
      try {
        const ready = await inner.prepare();
        attempt = 0;
        return ready;
      } catch (error) {
        if (error instanceof FleetsyncError || deps.signal.aborted) throw error;
        return failed("preparing the share", error);
      }
    },
    apply(instruction, instructionId) {
      if (!inner) throw new FleetsyncError("unavailable", `share "${share.name}" is not open yet`);
      return inner.apply(instruction, instructionId);
    },
    async retryFailed() {
      await inner?.retryFailed();
    },
    retryDueInMs(nowMs) {
      return inner ? inner.retryDueInMs(nowMs) : Number.POSITIVE_INFINITY;
    },
    async maintain() {
      await inner?.maintain();
    }
  };
}
var init_guard_share_session = __esm({
  "agent/session/guard-share-session.ts"() {
    "use strict";
    init_fleetsync_error();
    init_backoff();
    init_supervise_task();
  }
});

// shared/instructions/instruction.ts
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  SignJWT as SignJWT2
} from "jose";
import { z as z11 } from "zod";
async function signInstruction(key, kid, claims, body) {
  return new SignJWT2({ ...body }).setProtectedHeader({ alg: "EdDSA", kid, typ: INSTRUCTION_TYP }).setIssuer(claims.hubId).setSubject(claims.deviceId).setJti(claims.instructionId).setIssuedAt(claims.nowSeconds).setExpirationTime(claims.nowSeconds + INSTRUCTION_TTL_SECONDS).sign(key);
}
async function verifyInstruction(jws, expected) {
  let payload;
  try {
    const result = await jwtVerify(jws, createLocalJWKSet(expected.jwks), {
      algorithms: ["EdDSA"],
      typ: INSTRUCTION_TYP,
      issuer: expected.hubId,
      subject: expected.deviceId,
      currentDate: new Date(expected.nowSeconds * 1e3),
      requiredClaims: ["exp", "iat", "jti"]
    });
    payload = result.payload;
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "instruction has expired" };
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return { ok: false, reason: "instruction signature does not verify against the pinned hub key" };
    }
    if (error instanceof errors.JWKSNoMatchingKey)
      return { ok: false, reason: "instruction is signed by an unknown key" };
    if (error instanceof errors.JWTClaimValidationFailed) {
      return { ok: false, reason: `instruction claim "${error.claim}" is wrong: ${error.reason}` };
    }
    return { ok: false, reason: `instruction is not a valid JWS: ${error.message}` };
  }
  const parsed = InstructionSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `instruction payload is invalid at ${issue?.path.join(".")}: ${issue?.message}`
    };
  }
  if (parsed.data.toSeq < parsed.data.fromSeq) return { ok: false, reason: "instruction moves backwards" };
  return { ok: true, instruction: parsed.data };
}
var INSTRUCTION_TYP, INSTRUCTION_TTL_SECONDS, InstructionSchema;
var init_instruction = __esm({
  "shared/instructions/instruction.ts"() {
    "use strict";
    init_entry();
    init_shares();
    INSTRUCTION_TYP = "fleetsync-instruction+jwt";
    INSTRUCTION_TTL_SECONDS = 600;
    InstructionSchema = z11.object({
      iss: z11.string(),
      sub: z11.string(),
      jti: z11.string(),
      share: ShareNameSchema,
      fromSeq: z11.number().int().min(0),
      toSeq: z11.number().int().min(0),
      ops: z11.array(SequencedEntrySchema),
      iat: z11.number(),
      exp: z11.number()
    });
  }
});

// agent/session/run-instruction-loop.ts
async function runInstructionLoop(deps) {
  const { client, replicas, log, signal } = deps;
  const byName = new Map(replicas.map((r) => [r.share.name, r]));
  let attempt = 0;
  let lastTrashClean = Date.now();
  while (!signal.aborted) {
    try {
      for (const replica of replicas) {
        if (!replica.ready || replica.rescanDueInMs(Date.now()) <= 0) await replica.prepare();
      }
      if (!replicas.some((r) => r.ready)) {
        await sleep(ROOT_RECHECK_MS, signal);
        continue;
      }
      if (Date.now() - lastTrashClean > TRASH_CLEAN_INTERVAL_MS) {
        lastTrashClean = Date.now();
        for (const replica of replicas) await replica.maintain();
      }
      for (const replica of replicas) await replica.retryFailed();
      const nextRescanMs = Math.min(
        ...replicas.map((r) => Math.min(r.rescanDueInMs(Date.now()), r.retryDueInMs(Date.now())))
      );
      const longest = replicas.every((r) => r.ready) ? LONG_POLL_SECONDS : Math.ceil(ROOT_RECHECK_MS / 1e3);
      const waitSeconds = Math.max(1, Math.min(longest, Math.ceil(nextRescanMs / 1e3)));
      const polledAt = Date.now();
      const batch = await client.instructions(waitSeconds, signal);
      if (batch.length === 0 && Date.now() - polledAt < waitSeconds * 1e3 / 2) {
        await sleep(backoffMs(2, Math.random()) + 500, signal);
        continue;
      }
      let incomplete = false;
      for (const jws of batch) {
        if (signal.aborted) break;
        const check = await verifyInstruction(jws, {
          jwks: deps.jwks,
          hubId: deps.hubId,
          deviceId: deps.deviceId,
          nowSeconds: Math.floor(Date.now() / 1e3)
        });
        if (!check.ok) {
          log.error(`refused an instruction: ${check.reason}; nothing was written`);
          incomplete = true;
          continue;
        }
        const replica = byName.get(check.instruction.share);
        if (!replica) {
          log.error(
            `refused an instruction for share "${check.instruction.share}", which this device does not receive`
          );
          incomplete = true;
          continue;
        }
        if (!replica.ready) continue;
        const { complete } = await replica.apply(check.instruction, check.instruction.jti);
        if (!complete) incomplete = true;
      }
      if (incomplete) {
        attempt++;
        await sleep(backoffMs(attempt, Math.random()), signal);
      } else attempt = 0;
    } catch (error) {
      if (signal.aborted) break;
      attempt++;
      const retryable = !(error instanceof FleetsyncError) || error.retryable;
      const wait = retryable ? backoffMs(attempt, Math.random()) : 6e4;
      log[retryable ? "warn" : "error"]("instruction loop failed; will retry", {
        error: error.message,
        retryInMs: wait
      });
      if (error instanceof FleetsyncError && error.code === "unauthenticated") {
        log.error("the hub refuses this device's credentials (revoked?); re-enroll with a new token");
      }
      await sleep(wait, signal);
    }
  }
}
var LONG_POLL_SECONDS, ROOT_RECHECK_MS, TRASH_CLEAN_INTERVAL_MS;
var init_run_instruction_loop = __esm({
  "agent/session/run-instruction-loop.ts"() {
    "use strict";
    init_fleetsync_error();
    init_instruction();
    init_backoff();
    LONG_POLL_SECONDS = 25;
    ROOT_RECHECK_MS = 5e3;
    TRASH_CLEAN_INTERVAL_MS = 24 * 36e5;
  }
});

// agent/state/share-state.ts
import { mkdir as mkdir5, open as open3, readFile as readFile5, rename as rename5 } from "node:fs/promises";
import { dirname as dirname2, join as join10 } from "node:path";
import { z as z12 } from "zod";
function emptyShareState() {
  return { version: 1, cursor: 0, index: {}, failed: {}, deferred: {}, lastChangeAt: null, lastError: null };
}
function shareStateFile(stateDir, share) {
  return join10(stateDir, "shares", `${share}.json`);
}
async function loadShareState(stateDir, share) {
  const file = shareStateFile(stateDir, share);
  let text2;
  try {
    text2 = await readFile5(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return void 0;
    throw error;
  }
  let raw;
  try {
    raw = JSON.parse(text2);
  } catch (error) {
    throw new DamagedStateError(file, `not JSON: ${error.message}`);
  }
  const parsed = ShareStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DamagedStateError(file, `${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return parsed.data;
}
async function openShareState(stateDir, share, options) {
  try {
    const state = await loadShareState(stateDir, share);
    return state ? { state, isNew: false } : { state: emptyShareState(), isNew: true };
  } catch (error) {
    if (!(error instanceof DamagedStateError)) throw error;
    const movedTo = `${error.file}.damaged-${options.now().toISOString().replaceAll(":", "")}`;
    await rename5(error.file, movedTo);
    options.onDamaged(error, movedTo);
    return { state: emptyShareState(), isNew: false };
  }
}
async function saveShareState(stateDir, share, state) {
  const file = shareStateFile(stateDir, share);
  await mkdir5(dirname2(file), { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await open3(temp, "w", 384);
  try {
    await handle.writeFile(JSON.stringify(state));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename5(temp, file);
}
function indexEntryToEntry(path, entry) {
  if (!entry) {
    return {
      path,
      type: "deleted",
      size: 0,
      mode: 0,
      mtimeMs: 0,
      blockSize: 128 * 1024,
      blocks: [],
      hash: ""
    };
  }
  return {
    path,
    type: entry.type,
    size: entry.type === "file" ? entry.size : 0,
    mode: entry.mode,
    mtimeMs: entry.type === "file" ? entry.mtimeMs : 0,
    blockSize: entry.blockSize,
    blocks: entry.type === "file" ? entry.blocks : [],
    hash: entry.type === "file" ? entry.hash : "",
    ...entry.type === "symlink" ? { target: entry.target ?? "" } : {}
  };
}
var IndexEntrySchema, ShareStateSchema, DamagedStateError;
var init_share_state = __esm({
  "agent/state/share-state.ts"() {
    "use strict";
    init_entry();
    IndexEntrySchema = z12.object({
      type: z12.enum(["file", "dir", "symlink"]),
      size: z12.number(),
      mtimeMs: z12.number(),
      ino: z12.number(),
      mode: z12.number(),
      blockSize: z12.number(),
      blocks: z12.array(z12.string()),
      hash: z12.string(),
      target: z12.string().optional(),
      /** The hub's sequence of the version this entry is (what a peer names as the base of its next change). */
      seq: z12.number().int().min(0).optional()
    });
    ShareStateSchema = z12.object({
      version: z12.literal(1),
      cursor: z12.number().int().min(0),
      index: z12.record(z12.string(), IndexEntrySchema),
      /**
       * Operations a replica could not apply (disk full, permission denied), by path. They no longer hold the cursor
       * back — later changes keep arriving — and are retried with backoff until they succeed or a newer change to the
       * same path replaces them.
       */
      failed: z12.record(z12.string(), SequencedEntrySchema).default({}),
      /**
       * Operations a peer deferred, by path: it had changed the path itself and not reported it yet. Reporting the path
       * settles them (the hub resolves the two versions); if the local change goes away unreported (deleted, put back),
       * the deferred operation is applied on the next retry, so the peer is never left without the hub's version.
       */
      deferred: z12.record(z12.string(), SequencedEntrySchema).default({}),
      lastChangeAt: z12.string().nullable(),
      lastError: z12.string().nullable()
    });
    DamagedStateError = class extends Error {
      constructor(file, problem) {
        super(`state file ${file} is damaged (${problem})`);
        this.file = file;
        this.problem = problem;
      }
      file;
      problem;
      name = "DamagedStateError";
    };
  }
});

// agent/hooks/describe-hook-result.ts
function describeHookResult(command, result) {
  const what = `onApply hook ${JSON.stringify(command)}`;
  if (result.error !== void 0) return `${what} could not start: ${result.error}`;
  const lastLine = result.output.trimEnd().split("\n").at(-1)?.trim();
  const said = lastLine ? `; last output: ${JSON.stringify(lastLine.slice(0, 200))}` : "";
  if (result.timedOut)
    return `${what} timed out after ${result.ms} ms and was stopped (${result.signal ?? "killed"}); raise onApply.timeoutSeconds if it needs longer${said}`;
  if (result.signal) return `${what} was ended by ${result.signal} after ${result.ms} ms${said}`;
  if (result.exitCode === 0) return `${what} succeeded in ${result.ms} ms`;
  return `${what} failed with exit code ${result.exitCode} after ${result.ms} ms${said}; it runs again only after the next applied change`;
}
var init_describe_hook_result = __esm({
  "agent/hooks/describe-hook-result.ts"() {
    "use strict";
  }
});

// agent/hooks/run-hook.ts
import { spawn } from "node:child_process";
import { mkdtemp, rm as rm3, writeFile as writeFile5 } from "node:fs/promises";
import { tmpdir as tmpdir2 } from "node:os";
import { join as join11 } from "node:path";
async function runHook(options) {
  const started = performance.now();
  const limit = options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES;
  let dir;
  try {
    dir = await mkdtemp(join11(tmpdir2(), "fleetsync-hook-"));
    const listFile = join11(dir, "changed-paths");
    const list0File = join11(dir, "changed-paths0");
    await writeFile5(listFile, options.changedPaths.map((p) => `${p}
`).join(""));
    await writeFile5(list0File, options.changedPaths.map((p) => `${p}\0`).join(""));
    return await spawnHook(
      options,
      {
        FLEETSYNC_SHARE: options.share,
        FLEETSYNC_ROOT: options.root,
        FLEETSYNC_CHANGED_PATHS: listFile,
        FLEETSYNC_CHANGED_PATHS0: list0File
      },
      limit,
      started
    );
  } catch (error) {
    return failedToStart(error, started);
  } finally {
    if (dir) await rm3(dir, { recursive: true, force: true }).catch(() => {
    });
  }
}
function spawnHook(options, vars, limit, started) {
  return new Promise((resolve7) => {
    const tail = new OutputTail(limit);
    let timedOut = false;
    let settled = false;
    const child = spawn("/bin/sh", ["-c", options.hook.command], {
      cwd: options.root,
      env: { ...options.env ?? process.env, ...vars },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a timeout ends what the command started too.
      detached: true
    });
    child.stdout.on("data", (chunk2) => tail.push(chunk2));
    child.stderr.on("data", (chunk2) => tail.push(chunk2));
    const killGroup = (sig) => {
      try {
        if (child.pid !== void 0) process.kill(-child.pid, sig);
      } catch {
      }
    };
    let graceTimer;
    const terminate = () => {
      killGroup("SIGTERM");
      graceTimer = setTimeout(() => killGroup("SIGKILL"), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, options.hook.timeoutMs);
    const onAbort = () => terminate();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) terminate();
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal?.removeEventListener("abort", onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      const ok = result.exitCode === 0 && !result.timedOut && result.error === void 0;
      resolve7({
        ...result,
        output: tail.text(),
        outputTruncated: tail.truncated,
        ms: Math.round(performance.now() - started),
        ok
      });
    };
    child.once("error", (error) => finish({ exitCode: null, signal: null, timedOut, error: error.message }));
    child.once("exit", (exitCode, signal) => {
      const done = () => finish({ exitCode, signal, timedOut });
      child.once("close", done);
      setTimeout(done, DRAIN_MS).unref();
    });
  });
}
function failedToStart(error, started) {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    output: "",
    outputTruncated: false,
    ms: Math.round(performance.now() - started),
    error: error instanceof Error ? error.message : String(error),
    ok: false
  };
}
var DEFAULT_OUTPUT_LIMIT_BYTES, DEFAULT_KILL_GRACE_MS, DRAIN_MS, OutputTail;
var init_run_hook = __esm({
  "agent/hooks/run-hook.ts"() {
    "use strict";
    DEFAULT_OUTPUT_LIMIT_BYTES = 8 * 1024;
    DEFAULT_KILL_GRACE_MS = 2e3;
    DRAIN_MS = 100;
    OutputTail = class {
      constructor(limit) {
        this.limit = limit;
      }
      limit;
      chunks = [];
      bytes = 0;
      truncated = false;
      push(chunk2) {
        this.chunks.push(chunk2);
        this.bytes += chunk2.length;
        while (this.bytes > this.limit && this.chunks.length > 0) {
          const first = this.chunks[0];
          const excess = this.bytes - this.limit;
          this.truncated = true;
          if (first.length <= excess) {
            this.chunks.shift();
            this.bytes -= first.length;
          } else {
            this.chunks[0] = first.subarray(excess);
            this.bytes -= excess;
          }
        }
      }
      text() {
        return Buffer.concat(this.chunks).toString("utf8");
      }
    };
  }
});

// agent/session/apply-progress.ts
import { mkdir as mkdir6, rename as rename6, rm as rm4, writeFile as writeFile6 } from "node:fs/promises";
import { join as join12 } from "node:path";
function progressFile(stateDir, share, direction = "receiving") {
  return join12(stateDir, "progress", direction === "receiving" ? `${share}.json` : `${share}.sending.json`);
}
async function clearProgress(stateDir, share, direction) {
  await rm4(progressFile(stateDir, share, direction), { force: true });
}
var WORDING, PROGRESS_MIN_OPS, REPORT_EVERY_MS, mib, ApplyProgress;
var init_apply_progress = __esm({
  "agent/session/apply-progress.ts"() {
    "use strict";
    WORDING = {
      receiving: { running: "progress", finished: "caught up" },
      sending: { running: "upload progress", finished: "uploaded" }
    };
    PROGRESS_MIN_OPS = 200;
    REPORT_EVERY_MS = 5e3;
    mib = (bytes2) => `${(bytes2 / 1048576).toFixed(1)} MiB`;
    ApplyProgress = class {
      constructor(options, total, untilSeq) {
        this.options = options;
        this.untilSeq = untilSeq;
        this.figures = { doneFiles: 0, totalFiles: total.files, doneBytes: 0, totalBytes: total.bytes };
        this.startedAt = this.now();
      }
      options;
      untilSeq;
      figures;
      startedAt;
      lastReport = 0;
      writing = Promise.resolve();
      now() {
        return (this.options.now ?? Date.now)();
      }
      get snapshot() {
        return { ...this.figures };
      }
      /** More work than first known arrived (new changes during the catch-up): the total grows, never shrinks. */
      expect(files, bytes2, toSeq) {
        this.untilSeq = Math.max(this.untilSeq, toSeq);
        this.figures.totalFiles = Math.max(this.figures.totalFiles, this.figures.doneFiles + files);
        this.figures.totalBytes = Math.max(this.figures.totalBytes, this.figures.doneBytes + bytes2);
      }
      done(bytes2) {
        this.advance(1, bytes2);
      }
      /** `files` more done, `bytes` of them; a line every few seconds. */
      advance(files, bytes2) {
        this.figures.doneFiles += files;
        this.figures.doneBytes += bytes2;
        this.figures.totalFiles = Math.max(this.figures.totalFiles, this.figures.doneFiles);
        this.figures.totalBytes = Math.max(this.figures.totalBytes, this.figures.doneBytes);
        if (this.now() - this.lastReport >= REPORT_EVERY_MS) this.report();
      }
      get direction() {
        return this.options.direction ?? "receiving";
      }
      /** Caught up once the cursor reaches the sequence this catch-up aimed for. */
      finishedAt(cursor) {
        return cursor >= this.untilSeq;
      }
      /** Logs where it stands (rate and time left from the average so far) and saves it for `agent status`. */
      report() {
        this.lastReport = this.now();
        const f = this.figures;
        const seconds = Math.max(1e-3, (this.now() - this.startedAt) / 1e3);
        const rate = f.doneBytes / seconds;
        const fileRate = f.doneFiles / seconds;
        const leftSeconds = rate > 0 && f.totalBytes > f.doneBytes ? (f.totalBytes - f.doneBytes) / rate : fileRate > 0 ? (f.totalFiles - f.doneFiles) / fileRate : void 0;
        this.options.log.info(
          `${WORDING[this.direction].running}: ${f.doneFiles}/${f.totalFiles} files, ${mib(f.doneBytes)}/${mib(f.totalBytes)}, ${mib(rate)}/s` + (leftSeconds !== void 0 ? `, about ${Math.ceil(leftSeconds)} s left` : ""),
          { ...f, direction: this.direction }
        );
        this.save({
          ...f,
          bytesPerSecond: Math.round(rate),
          secondsLeft: leftSeconds === void 0 ? null : Math.ceil(leftSeconds)
        });
      }
      save(figures) {
        const file = progressFile(this.options.stateDir, this.options.share, this.direction);
        this.writing = this.writing.then(async () => {
          await mkdir6(join12(this.options.stateDir, "progress"), { recursive: true });
          await writeFile6(
            `${file}.tmp`,
            JSON.stringify({ ...figures, at: new Date(this.now()).toISOString() })
          );
          await rename6(`${file}.tmp`, file);
        }).catch(() => {
        });
      }
      /** Caught up: says so once and removes the figures from disk. */
      async finish() {
        const f = this.figures;
        this.options.log.info(
          `${WORDING[this.direction].finished}: ${f.doneFiles} files, ${mib(f.doneBytes)} in ${Math.round((this.now() - this.startedAt) / 1e3)} s`
        );
        await this.writing;
        await clearProgress(this.options.stateDir, this.options.share, this.direction);
      }
    };
  }
});

// agent/session/deferred-ops.ts
function recordDeferred(deferred, ops, results) {
  const bySeq = new Map(ops.map((op) => [op.seq, op]));
  for (const result of results) {
    const op = bySeq.get(result.seq);
    if (!op || op.path !== result.path) continue;
    const earlier = deferred[op.path];
    if (result.ok && result.action === "defer") {
      if (!earlier || earlier.seq <= op.seq) deferred[op.path] = op;
    } else if (result.ok && earlier && earlier.seq <= op.seq) {
      delete deferred[op.path];
    }
  }
}
function settleReported(deferred, paths) {
  for (const path of paths) delete deferred[path];
}
function deferredOps(deferred) {
  return Object.values(deferred).sort((a, b) => a.seq - b.seq);
}
var init_deferred_ops = __esm({
  "agent/session/deferred-ops.ts"() {
    "use strict";
  }
});

// agent/session/receive-instructions.ts
function createReceivingSide(session) {
  const { client, share, kind, log, signal } = session;
  let state;
  let isNew = false;
  let wasReady = false;
  let ready = false;
  let preparedAt = 0;
  let lastProblem;
  let retryAttempt = 0;
  let retryAt = 0;
  let progress;
  const persist = () => session.persist();
  const tellHub = session.tellHub;
  const opened = async () => {
    if (!state) ({ state, isNew } = await session.open());
    return state;
  };
  const applyOps = async (st, ops, range) => {
    const results = await kind.apply({
      ops,
      index: st.index,
      fetchBlocks: (hashes, s) => client.fetchBlocks(hashes, s),
      onDone: (_op, bytes2) => progress?.done(bytes2),
      deletes: share.deletes,
      localChange: session.policy.unreportedLocalChange,
      dryRun: share.dryRun,
      signal
    });
    const failedPaths = new Set(results.filter((r) => !r.ok).map((r) => r.path));
    const answered = new Set(results.map((r) => r.path));
    return {
      results,
      reachedSeq: ops.every((op) => answered.has(op.path)) ? range.toSeq : range.fromSeq,
      failed: ops.filter((op) => failedPaths.has(op.path))
    };
  };
  const failedCount = () => Object.keys(state?.failed ?? {}).length;
  const deferredCount = () => Object.keys(state?.deferred ?? {}).length;
  const scheduleRetry = () => {
    if (failedCount() === 0 && deferredCount() === 0) {
      retryAttempt = 0;
      return;
    }
    retryAttempt++;
    retryAt = Date.now() + backoffMs(retryAttempt, Math.random(), RETRY_BACKOFF);
  };
  function retryDueInMs(nowMs) {
    return failedCount() === 0 && deferredCount() === 0 || share.dryRun ? Number.POSITIVE_INFINITY : retryAt - nowMs;
  }
  const prepare = async (st) => {
    const check = await kind.prepare({
      isFirstRun: isNew && Object.keys(st.index).length === 0,
      role: session.policy.role
    });
    if (!check.ok) {
      st.lastError = check.reason;
      if (check.reason !== lastProblem) {
        log.error(check.reason);
        if (wasReady || !isNew) await persist().catch(() => {
        });
        await tellHub(check.reason);
      }
      lastProblem = check.reason;
      ready = false;
      return false;
    }
    wasReady = true;
    if (lastProblem) {
      log.info("share is usable again; resuming");
      st.lastError = null;
      await tellHub(null);
    }
    lastProblem = void 0;
    if (session.policy.unreportedLocalChange === "overwrite") {
      const scan = await kind.scan({ dirty: /* @__PURE__ */ new Set([""]), index: st.index });
      for (const [path, entry] of scan.updates) {
        if (entry) st.index[path] = entry;
        else delete st.index[path];
      }
      if (scan.changed.size > 0 && st.cursor > 0) {
        log.warn("local changes found on a replica; re-syncing the share from the hub", {
          paths: scan.changed.size
        });
        st.cursor = 0;
      }
    }
    if (st.cursor === 0) {
      st.failed = {};
      st.deferred = {};
    }
    await persist();
    await kind.maintain?.();
    const answer = await client.setCursor(share.name, st.cursor, share.dryRun);
    log.info(`${session.policy.role} ready`, {
      cursor: answer.cursor,
      head: answer.head,
      dryRun: share.dryRun
    });
    st.cursor = answer.cursor;
    preparedAt = Date.now();
    ready = true;
    return true;
  };
  const apply = async (st, instruction, instructionId) => {
    if (instruction.fromSeq !== st.cursor) {
      const what = instruction.fromSeq < st.cursor ? "replay" : "gap or rollback";
      log.warn(
        `refused instruction ${instructionId}: it starts at seq ${instruction.fromSeq} but this ${session.policy.role} is at ${st.cursor} (${what})`
      );
      await client.setCursor(share.name, st.cursor, share.dryRun);
      return { complete: false };
    }
    const started = Date.now();
    const check = await kind.prepare({ isFirstRun: false, role: session.policy.role });
    if (!check.ok) {
      ready = false;
      throw new FleetsyncError("unavailable", check.reason, { retryable: true });
    }
    await trackProgress(instruction);
    const outcome = await applyOps(st, instruction.ops, instruction);
    if (progress?.finishedAt(outcome.reachedSeq)) {
      await progress.finish();
      progress = void 0;
    }
    const failed = outcome.results.filter((r) => !r.ok);
    if (!share.dryRun) {
      st.cursor = outcome.reachedSeq;
      for (const result of outcome.results) if (result.ok) delete st.failed[result.path];
      for (const op of outcome.failed) st.failed[op.path] = op;
      recordDeferred(st.deferred, instruction.ops, outcome.results);
      const changed = outcome.results.filter(
        (r) => r.ok && r.action !== "unchanged" && r.action !== "skip" && r.action !== "defer"
      ).length;
      if (changed > 0) st.lastChangeAt = (/* @__PURE__ */ new Date()).toISOString();
      if (failed[0]) st.lastError = `${failed[0].path}: ${failed[0].error}`;
      else if (failedCount() === 0) st.lastError = null;
      if (failed.length > 0) scheduleRetry();
      else if (deferredCount() > 0 && retryAt <= Date.now()) retryAt = Date.now() + RETRY_BACKOFF.baseMs;
      await persist();
    }
    const hook = share.dryRun ? void 0 : await runOnApply(outcome.results, outcome.reachedSeq);
    const ack = await client.ack(instructionId, {
      reachedSeq: outcome.reachedSeq,
      dryRun: share.dryRun,
      results: hook ? [...outcome.results, hook] : outcome.results
    });
    log.info(share.dryRun ? "dry run finished" : "instruction applied", {
      from: instruction.fromSeq,
      to: outcome.reachedSeq,
      ops: outcome.results.length,
      failed: failed.length,
      ms: Date.now() - started,
      ...failed.length > 0 ? { retryInMs: Math.max(0, retryAt - Date.now()) } : {},
      ...ack.note ? { note: ack.note } : {}
    });
    return { complete: failed.length === 0 };
  };
  const trackProgress = async (instruction) => {
    const files = instruction.ops.length;
    const bytes2 = instruction.ops.reduce((sum, op) => sum + (op.type === "file" ? op.size : 0), 0);
    if (progress) {
      progress.expect(files, bytes2, instruction.toSeq);
      return;
    }
    if (files < PROGRESS_MIN_OPS) return;
    const lag = await client.config().then((answer) => answer.shares.find((s) => s.name === share.name)).catch(() => void 0);
    progress = new ApplyProgress(
      { stateDir: session.stateDir, share: share.name, log },
      { files: Math.max(files, lag?.lagFiles ?? 0), bytes: Math.max(bytes2, lag?.lagBytes ?? 0) },
      Math.max(instruction.toSeq, lag?.head ?? 0)
    );
    progress.report();
  };
  const runOnApply = async (results, reachedSeq) => {
    const changedPaths = results.filter(
      (r) => r.ok && r.action !== "unchanged" && r.action !== "skip" && r.action !== "defer" && r.action !== "gravity"
    ).map((r) => r.path);
    if (!share.onApply || changedPaths.length === 0) return void 0;
    const hook = resolveOnApply(share.onApply);
    const result = await runHook({ hook, share: share.name, root: share.path || "/", changedPaths, signal });
    const text2 = describeHookResult(hook.command, result);
    log[result.ok ? "info" : "warn"](text2, { changed: changedPaths.length, exitCode: result.exitCode });
    return {
      seq: Math.max(1, reachedSeq),
      path: "(onApply hook)",
      action: "hook",
      ok: result.ok,
      bytes: 0,
      ...result.ok ? {} : { error: text2.slice(0, 2e3) }
    };
  };
  const retryFailed = async (st) => {
    if (!ready || retryDueInMs(Date.now()) > 0) return;
    const hadFailed = failedCount();
    const deferred = deferredOps(st.deferred);
    const ops = [...Object.values(st.failed), ...deferred].sort((a, b) => a.seq - b.seq);
    const outcome = await applyOps(st, ops, { fromSeq: st.cursor, toSeq: st.cursor });
    for (const result of outcome.results) {
      if (result.ok) delete st.failed[result.path];
      else st.lastError = `${result.path}: ${result.error}`;
    }
    recordDeferred(st.deferred, deferred, outcome.results);
    const applied = outcome.results.filter((r) => r.ok && r.action !== "defer" && r.action !== "unchanged");
    if (applied.length > 0) st.lastChangeAt = (/* @__PURE__ */ new Date()).toISOString();
    const left = failedCount();
    if (left === 0) {
      st.lastError = null;
      if (hadFailed > 0) log.info("retried operations that had failed; all applied now", { ops: hadFailed });
    } else {
      log.warn("operations still failing; will retry", { failing: left, error: st.lastError });
    }
    const stillDeferred = deferredCount();
    if (deferred.length > stillDeferred) {
      log.info("applied operations deferred for local changes that were never reported", {
        ops: deferred.length - stillDeferred
      });
    }
    scheduleRetry();
    await persist();
    await tellHub(st.lastError);
  };
  return {
    share,
    get ready() {
      return ready;
    },
    rescanDueInMs(nowMs) {
      return share.rescanMinutes > 0 ? preparedAt + share.rescanMinutes * 6e4 - nowMs : Number.POSITIVE_INFINITY;
    },
    retryDueInMs,
    async prepare() {
      const st = await opened();
      return session.exclusive(() => prepare(st));
    },
    async apply(instruction, instructionId) {
      const st = await opened();
      return session.exclusive(() => apply(st, instruction, instructionId));
    },
    async retryFailed() {
      if (!ready) return;
      const st = await opened();
      await session.exclusive(() => retryFailed(st));
    },
    async maintain() {
      if (ready) await session.exclusive(async () => kind.maintain?.());
    }
  };
}
var RETRY_BACKOFF;
var init_receive_instructions = __esm({
  "agent/session/receive-instructions.ts"() {
    "use strict";
    init_fleetsync_error();
    init_describe_hook_result();
    init_on_apply_setting();
    init_run_hook();
    init_backoff();
    init_apply_progress();
    init_deferred_ops();
    RETRY_BACKOFF = { baseMs: 2e3, capMs: 12e4 };
  }
});

// agent/session/role-policy.ts
function rolePolicy(role) {
  switch (role) {
    case "source":
      return { role, sends: true, receives: false, unreportedLocalChange: "report" };
    case "replica":
      return { role, sends: false, receives: true, unreportedLocalChange: "overwrite" };
    case "peer":
      return { role, sends: true, receives: true, unreportedLocalChange: "report" };
  }
}
var init_role_policy = __esm({
  "agent/session/role-policy.ts"() {
    "use strict";
  }
});

// agent/session/change-batcher.ts
var systemClock, ChangeBatcher;
var init_change_batcher = __esm({
  "agent/session/change-batcher.ts"() {
    "use strict";
    systemClock = {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle)
    };
    ChangeBatcher = class {
      constructor(options) {
        this.options = options;
      }
      options;
      pending = /* @__PURE__ */ new Set();
      firstAt = 0;
      timer;
      get size() {
        return this.pending.size;
      }
      add(path) {
        const { clock, debounceMs, maxDelayMs } = this.options;
        const now = clock.now();
        if (this.pending.size === 0) this.firstAt = now;
        this.pending.add(path);
        if (this.timer !== void 0) clock.clearTimeout(this.timer);
        const wait = Math.max(0, Math.min(debounceMs, this.firstAt + maxDelayMs - now));
        this.timer = clock.setTimeout(() => this.flushNow(), wait);
      }
      flushNow() {
        if (this.timer !== void 0) this.options.clock.clearTimeout(this.timer);
        this.timer = void 0;
        if (this.pending.size === 0) return;
        const batch = this.pending;
        this.pending = /* @__PURE__ */ new Set();
        this.options.flush(batch);
      }
      cancel() {
        if (this.timer !== void 0) this.options.clock.clearTimeout(this.timer);
        this.timer = void 0;
        this.pending.clear();
      }
    };
  }
});

// agent/session/report-changes.ts
function chunkEntries(entries2) {
  const chunks = [];
  let current = [];
  let refs = 0;
  for (const entry of entries2) {
    if (current.length > 0 && (current.length >= MAX_ENTRIES_PER_CHUNK || refs + entry.blocks.length > MAX_BLOCK_REFS_PER_CHUNK)) {
      chunks.push(current);
      current = [];
      refs = 0;
    }
    current.push(entry);
    refs += entry.blocks.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
async function reportChanges(client, share, readBlock, state, scan, log, persist, options = {}) {
  const outcome = {
    reported: 0,
    uploadedBlocks: 0,
    uploadedBytes: 0,
    conflicts: 0,
    stale: /* @__PURE__ */ new Set()
  };
  for (const [path, entry] of scan.updates) if (!scan.changed.has(path) && entry) state.index[path] = entry;
  const entries2 = [...scan.changed].sort().map((path) => {
    const entry = indexEntryToEntry(path, scan.updates.get(path));
    return options.withBase ? { ...entry, baseSeq: state.index[path]?.seq ?? 0 } : entry;
  }).sort((a, b) => Number(b.type === "deleted") - Number(a.type === "deleted"));
  const remaining = remainingTotals(entries2, (path) => state.index[path] !== void 0);
  let position = 0;
  for (let chunk2 of chunkEntries(entries2)) {
    const scanTotals = remaining[position];
    position += chunk2.length;
    for (let round = 0; ; round++) {
      const answer = await client.report(share, chunk2, scanTotals);
      if (answer.status === "held") {
        const rest = entries2.slice(entries2.indexOf(chunk2[0]));
        outcome.held = { reason: answer.reason, paths: rest.map((e) => e.path) };
        return outcome;
      }
      if (answer.status === "accepted") {
        for (const entry of chunk2) {
          const next = scan.updates.get(entry.path);
          const seq = state.index[entry.path]?.seq;
          if (next) state.index[entry.path] = seq === void 0 ? next : { ...next, seq };
          else delete state.index[entry.path];
        }
        settleReported(
          state.deferred,
          chunk2.map((entry) => entry.path)
        );
        for (const conflict of answer.conflicts ?? []) {
          log.warn(
            conflict.winner === "reported" ? `conflict on ${conflict.path}: this device's version keeps the path (${conflict.reason})${conflict.copy ? `; the other is kept as ${conflict.copy}` : ""}` : `conflict on ${conflict.path}: another device's version keeps the path (${conflict.reason})${conflict.copy ? `; this device's is kept as ${conflict.copy}` : "; this device's goes to its trash"}`,
            { path: conflict.path }
          );
        }
        outcome.conflicts += answer.conflicts?.length ?? 0;
        outcome.reported += chunk2.length;
        if (answer.accepted > 0) state.lastChangeAt = (/* @__PURE__ */ new Date()).toISOString();
        await persist();
        break;
      }
      if (round >= 5)
        throw new Error(
          `hub still lacks ${answer.missing.length} blocks after uploading them; giving up this round`
        );
      try {
        const sent = await uploadBlocks(client, readBlock, chunk2, answer.missing);
        outcome.uploadedBlocks += sent.blocks;
        outcome.uploadedBytes += sent.bytes;
      } catch (error) {
        if (!(error instanceof FileChangedError)) throw error;
        log.debug("file changed before upload; rescanning it", { path: error.path });
        outcome.stale.add(error.path);
        chunk2 = chunk2.filter((e) => e.path !== error.path);
        if (chunk2.length === 0) break;
      }
    }
  }
  return outcome;
}
function remainingTotals(entries2, wasLive) {
  const totals = new Array(entries2.length + 1);
  totals[entries2.length] = { deletes: 0, creates: 0 };
  for (let i = entries2.length - 1; i >= 0; i--) {
    const entry = entries2[i];
    const after = totals[i + 1];
    totals[i] = {
      deletes: after.deletes + (entry.type === "deleted" ? 1 : 0),
      creates: after.creates + (entry.type !== "deleted" && !wasLive(entry.path) ? 1 : 0)
    };
  }
  return totals;
}
function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
async function uploadBlocks(client, readBlock, chunk2, missing) {
  const locations = /* @__PURE__ */ new Map();
  for (const entry of chunk2) {
    if (entry.type !== "file") continue;
    entry.blocks.forEach((hash, i) => {
      if (!locations.has(hash)) {
        const offset = i * entry.blockSize;
        locations.set(hash, {
          path: entry.path,
          offset,
          length: Math.min(entry.blockSize, entry.size - offset)
        });
      }
    });
  }
  let frames = [];
  let batchBytes = 0;
  let blocks2 = 0;
  let bytes2 = 0;
  const flush2 = async () => {
    if (frames.length === 0) return;
    await client.uploadBlocks(encodeBlockFrames(frames));
    blocks2 += frames.length;
    bytes2 += batchBytes;
    frames = [];
    batchBytes = 0;
  };
  const ordered = missing.map((hash) => ({ hash, at: locations.get(hash) })).sort(
    (a, b) => compareText(a.at?.path ?? "", b.at?.path ?? "") || (a.at?.offset ?? 0) - (b.at?.offset ?? 0)
  );
  for (const { hash, at } of ordered) {
    if (!at) throw new Error(`hub asked for block ${hash}, which this report does not contain`);
    const bytes3 = await readBlock(at).catch(() => {
      throw new FileChangedError(at.path);
    });
    if (bytes3.byteLength !== at.length || sha256(bytes3) !== hash) throw new FileChangedError(at.path);
    if (batchBytes + at.length > UPLOAD_BATCH_BYTES) await flush2();
    frames.push({ hash, bytes: bytes3 });
    batchBytes += at.length;
  }
  await flush2();
  return { blocks: blocks2, bytes: bytes2 };
}
var MAX_ENTRIES_PER_CHUNK, MAX_BLOCK_REFS_PER_CHUNK, UPLOAD_BATCH_BYTES, FileChangedError;
var init_report_changes = __esm({
  "agent/session/report-changes.ts"() {
    "use strict";
    init_block_frames();
    init_hash_blocks();
    init_share_state();
    init_deferred_ops();
    MAX_ENTRIES_PER_CHUNK = 2e3;
    MAX_BLOCK_REFS_PER_CHUNK = 4e4;
    UPLOAD_BATCH_BYTES = 16 * 1024 * 1024;
    FileChangedError = class extends Error {
      constructor(path) {
        super(`${path} changed after it was hashed`);
        this.path = path;
      }
      path;
      name = "FileChangedError";
    };
  }
});

// agent/session/send-changes.ts
async function runSendingSide(session) {
  const { client, share, kind, log, signal } = session;
  const opened = await session.open();
  const { state } = opened;
  const persist = () => session.persist();
  const pending = /* @__PURE__ */ new Set([""]);
  let wake;
  const poke = () => {
    wake?.();
    wake = void 0;
  };
  const batcher = new ChangeBatcher({
    debounceMs: share.debounceMs,
    maxDelayMs: share.maxDebounceMs,
    clock: systemClock,
    flush: (paths) => {
      for (const path of paths) pending.add(path);
      poke();
    }
  });
  let watcher;
  const rescan = share.rescanMinutes > 0 ? setInterval(() => {
    pending.add("");
    poke();
  }, share.rescanMinutes * 6e4) : void 0;
  signal.addEventListener("abort", poke, { once: true });
  let attempt = 0;
  let lastRootProblem;
  let lastHeld;
  let wasReady = false;
  const tellHub = session.tellHub;
  let progress;
  await clearProgress(session.stateDir, share.name, "sending").catch(() => {
  });
  try {
    while (!signal.aborted) {
      if (pending.size === 0) {
        await new Promise((resolve7) => {
          wake = resolve7;
        });
        continue;
      }
      const check = await kind.prepare({
        isFirstRun: opened.isNew && Object.keys(state.index).length === 0,
        role: session.policy.role
      });
      if (!check.ok) {
        state.lastError = check.reason;
        if (check.reason !== lastRootProblem) {
          log.error(check.reason);
          if (wasReady || !opened.isNew) await persist().catch(() => {
          });
          await tellHub(check.reason);
        }
        lastRootProblem = check.reason;
        await watcher?.close();
        watcher = void 0;
        batcher.cancel();
        pending.add("");
        await sleep(ROOT_RECHECK_MS2, signal);
        continue;
      }
      wasReady = true;
      if (lastRootProblem) {
        log.info("share is usable again; resuming");
        await tellHub(null);
      }
      lastRootProblem = void 0;
      if (!watcher) {
        watcher = kind.watch((path) => batcher.add(path));
        await watcher.ready;
      }
      const batch = new Set(pending);
      pending.clear();
      try {
        if (!progress && batch.has("") && Object.keys(state.index).length === 0 && kind.measure) {
          const total = await kind.measure();
          if (total.files >= PROGRESS_MIN_OPS) {
            progress = new ApplyProgress(
              { stateDir: session.stateDir, share: share.name, log, direction: "sending" },
              total,
              0
            );
            progress.report();
          }
        }
        let started = Date.now();
        const report = async (part) => {
          for (const path of part.unstable) batcher.add(path);
          const outcome = await reportChanges(
            client,
            share.name,
            (at) => kind.readBlock(at),
            state,
            part,
            log,
            persist,
            { withBase: session.policy.receives }
          );
          for (const path of outcome.stale) batcher.add(path);
          if (progress && outcome.reported > 0) {
            let bytes2 = 0;
            for (const path of part.changed) bytes2 += part.updates.get(path)?.size ?? 0;
            progress.advance(outcome.reported, bytes2);
          }
          if (outcome.held) throw new HeldReportError(outcome.held.reason, outcome.held.paths);
          if (outcome.reported > 0) {
            log.info("changes reported", {
              entries: outcome.reported,
              uploadedBlocks: outcome.uploadedBlocks,
              uploadedBytes: outcome.uploadedBytes,
              hashedBytes: part.hashedBytes,
              ms: Date.now() - started
            });
          }
          started = Date.now();
        };
        await session.exclusive(
          async () => report(await kind.scan({ dirty: batch, index: state.index, flush: report }))
        );
        if (progress) {
          await progress.finish();
          progress = void 0;
        }
        if (state.lastError) {
          state.lastError = null;
          await persist();
          await tellHub(null);
        }
        if (lastHeld) log.info("the held delete was confirmed and reported");
        lastHeld = void 0;
        attempt = 0;
      } catch (error) {
        if (error instanceof HeldReportError) {
          for (const path of batch) pending.add(path);
          for (const path of error.paths) pending.add(path);
          if (error.message !== lastHeld) {
            log.error(error.message);
            state.lastError = error.message;
            await persist().catch(() => {
            });
            await tellHub(error.message);
          }
          lastHeld = error.message;
          await sleep(HELD_RETRY_MS, signal);
          continue;
        }
        for (const path of batch) pending.add(path);
        attempt++;
        const retryable = !(error instanceof FleetsyncError) || error.retryable;
        const wait = retryable ? backoffMs(attempt, Math.random()) : 6e4;
        state.lastError = error.message;
        log[retryable ? "warn" : "error"]("could not report changes; will retry", {
          error: error.message,
          retryInMs: wait
        });
        await persist().catch(() => {
        });
        await sleep(wait, signal);
      }
    }
  } finally {
    if (rescan) clearInterval(rescan);
    batcher.cancel();
    await watcher?.close();
    if (wasReady || !opened.isNew) await persist().catch(() => {
    });
  }
}
var ROOT_RECHECK_MS2, HELD_RETRY_MS, HeldReportError;
var init_send_changes = __esm({
  "agent/session/send-changes.ts"() {
    "use strict";
    init_fleetsync_error();
    init_backoff();
    init_apply_progress();
    init_change_batcher();
    init_report_changes();
    ROOT_RECHECK_MS2 = 5e3;
    HELD_RETRY_MS = 1e4;
    HeldReportError = class extends Error {
      constructor(message, paths) {
        super(message);
        this.paths = paths;
      }
      paths;
      name = "HeldReportError";
    };
  }
});

// agent/session/share-session.ts
function createShareSession(share, kind, deps) {
  const { client, stateDir, log, signal } = deps;
  let opening;
  let tail = Promise.resolve();
  const core = {
    share,
    kind,
    policy: rolePolicy(share.role),
    client,
    stateDir,
    log,
    signal,
    open() {
      opening ??= openShareState(stateDir, share.name, {
        now: () => /* @__PURE__ */ new Date(),
        onDamaged: (error, movedTo) => log.error(`${error.message}; moved it to ${movedTo} and rebuilding the share's state`)
      }).catch((error) => {
        opening = void 0;
        throw error;
      });
      return opening;
    },
    async persist() {
      const opened = await core.open();
      await saveShareState(stateDir, share.name, opened.state);
    },
    exclusive(task) {
      const run2 = tail.then(task, task);
      tail = run2.catch(() => {
      });
      return run2;
    },
    tellHub: async (lastError) => {
      await client.reportStatus(share.name, lastError).catch(
        (error) => log.debug("could not tell the hub this share's status", { error: error.message })
      );
    }
  };
  return {
    share,
    policy: core.policy,
    runSending: () => runSendingSide(core),
    receiving: createReceivingSide(core)
  };
}
var init_share_session = __esm({
  "agent/session/share-session.ts"() {
    "use strict";
    init_share_state();
    init_receive_instructions();
    init_role_policy();
    init_send_changes();
  }
});

// agent/daemon.ts
var daemon_exports = {};
__export(daemon_exports, {
  runAgent: () => runAgent
});
async function runAgent(stateDir, signal) {
  const config = await loadAgentConfig(stateDir);
  const shares2 = resolveShares(config);
  await checkSharePaths({
    stateDir,
    shares: Object.fromEntries(shares2.filter((s) => s.kind === "folder").map((s) => [s.name, s.path]))
  });
  const key = await loadDeviceKey(stateDir);
  const jwks = await loadPinnedJwks(stateDir);
  const log = createAgentLogger({
    level: config.log.level,
    destination: config.log.destination,
    format: config.log.format,
    base: { device: config.deviceId }
  });
  const client = new HubClient({ hubUrl: config.hub, hubId: config.hubId, deviceId: config.deviceId, key });
  const tasks = [];
  const receivers = [];
  for (const share of shares2) {
    const shareLog = log.child({ share: share.name });
    let kind;
    try {
      kind = createShareKind(share, {
        shareName: share.name,
        stateDir,
        log: shareLog,
        describeShare: async () => (await client.config()).shares.find((s) => s.name === share.name)
      });
    } catch (error) {
      shareLog.error(`${error.message}; skipping this share`);
      continue;
    }
    const session = createShareSession(share, kind, { client, stateDir, log: shareLog, signal });
    if (session.policy.sends) {
      tasks.push(superviseTask(() => session.runSending(), { name: share.name, log: shareLog, signal }));
    }
    if (session.policy.receives) {
      receivers.push(
        guardReceivingSide(share, { log: shareLog, signal, open: async () => session.receiving })
      );
    }
  }
  if (receivers.length > 0) {
    tasks.push(
      superviseTask(
        () => runInstructionLoop({
          client,
          replicas: receivers,
          jwks,
          hubId: config.hubId,
          deviceId: config.deviceId,
          log,
          signal
        }),
        { name: "replicas", log, signal }
      )
    );
  } else {
    tasks.push(
      superviseTask(() => runHeartbeat({ client, log, signal }), { name: "heartbeat", log, signal })
    );
  }
  log.info("agent started", {
    hub: config.hub,
    shares: shares2.map((s) => `${s.name}:${s.role}${s.dryRun ? " (dry run)" : ""}`)
  });
  await Promise.all(tasks);
  log.info("agent stopped");
}
var init_daemon = __esm({
  "agent/daemon.ts"() {
    "use strict";
    init_agent_config();
    init_check_share_paths();
    init_hub_client();
    init_run_heartbeat();
    init_device_identity();
    init_registry();
    init_agent_logger();
    init_guard_share_session();
    init_run_instruction_loop();
    init_share_session();
    init_supervise_task();
  }
});

// shared/paths/conflict-name.ts
function sanitizeDeviceName(name) {
  const clean = name.normalize("NFC").replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, MAX_DEVICE_CHARS);
  return clean === "" ? "device" : clean;
}
function stamp(nowMs) {
  const iso = new Date(nowMs).toISOString();
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
}
function cutToBytes(text2, bytes2) {
  let out = "";
  for (const char of text2) {
    if (encoder2.encode(out + char).length > bytes2) break;
    out += char;
  }
  return out;
}
function conflictName(path, device, nowMs) {
  const dir = parentOf(path);
  const name = path.slice(dir === "" ? 0 : dir.length + 1);
  const dot = name.lastIndexOf(".");
  const hasExt = dot > 0 && dot < name.length - 1;
  const base = hasExt ? name.slice(0, dot) : name;
  const ext = hasExt ? name.slice(dot) : "";
  const marker = `.sync-conflict-${stamp(nowMs)}-${sanitizeDeviceName(device)}`;
  const room = MAX_SEGMENT_BYTES - encoder2.encode(marker + ext).length;
  const segment = `${cutToBytes(base, Math.max(1, room))}${marker}${ext}`;
  return dir === "" ? segment : `${dir}/${segment}`;
}
function isConflictName(path) {
  return /\.sync-conflict-\d{8}-\d{6}-[A-Za-z0-9_-]+(\.[^/]*)?$/.test(path);
}
var encoder2, MAX_DEVICE_CHARS;
var init_conflict_name = __esm({
  "shared/paths/conflict-name.ts"() {
    "use strict";
    init_normalize_share_path();
    encoder2 = new TextEncoder();
    MAX_DEVICE_CHARS = 32;
  }
});

// agent/status.ts
var status_exports = {};
__export(status_exports, {
  agentStatus: () => agentStatus
});
import { readFile as readFile6 } from "node:fs/promises";
async function readProgress(stateDir, share, running) {
  if (!running) return null;
  for (const direction of ["receiving", "sending"]) {
    let saved;
    try {
      saved = JSON.parse(await readFile6(progressFile(stateDir, share, direction), "utf8"));
    } catch {
      continue;
    }
    const figure = (key) => typeof saved[key] === "number" ? saved[key] : 0;
    return {
      direction,
      doneBytes: figure("doneBytes"),
      totalBytes: figure("totalBytes"),
      doneFiles: figure("doneFiles"),
      totalFiles: figure("totalFiles"),
      bytesPerSecond: figure("bytesPerSecond"),
      secondsLeft: typeof saved.secondsLeft === "number" ? saved.secondsLeft : null,
      at: typeof saved.at === "string" ? saved.at : null
    };
  }
  return null;
}
async function agentStatus(stateDir, agent) {
  const config = await loadAgentConfig(stateDir);
  const client = new HubClient({
    hubUrl: config.hub,
    hubId: config.hubId,
    deviceId: config.deviceId,
    key: await loadDeviceKey(stateDir),
    // A look is not a sign of life: the hub keeps "last seen" as the running agent left it.
    headers: { [PRESENCE_HEADER]: "none" }
  });
  let hubShares;
  let hubError;
  try {
    const answer = await client.config();
    hubShares = new Map(
      answer.shares.map((s) => [
        s.name,
        {
          head: s.head ?? 0,
          cursor: s.cursor ?? 0,
          lagFiles: s.lagFiles,
          lagBytes: s.lagBytes,
          lastError: s.lastError ?? null
        }
      ])
    );
  } catch (error) {
    hubError = error.message;
  }
  const shares2 = await Promise.all(
    resolveShares(config).map(async (share) => {
      let stateError;
      const state = await loadShareState(stateDir, share.name).catch((error) => {
        const file = shareStateFile(stateDir, share.name);
        const message = error.message;
        stateError = message.includes(file) ? message : `state file ${file}: ${message}`;
        return void 0;
      });
      const files = Object.values(state?.index ?? {}).filter((e) => e.type === "file");
      const hub = hubShares?.get(share.name);
      const cursor = share.role === "source" ? hub?.head ?? null : state?.cursor ?? 0;
      return {
        name: share.name,
        role: share.role + (share.dryRun ? " (dry run)" : ""),
        root: share.path || "(not set)",
        files: files.length,
        bytes: files.reduce((sum, f) => sum + f.size, 0),
        lastChangeAt: state?.lastChangeAt ?? null,
        cursor,
        head: hub?.head ?? null,
        lag: hub && cursor !== null ? hub.head - cursor : null,
        lagFiles: hub?.lagFiles ?? null,
        lagBytes: hub?.lagBytes ?? null,
        // The agent's own record first; a share that never got going (a wrong Pi-hole password before the first
        // sync) has none yet, and the error it told the hub stands in.
        lastError: stateError ?? state?.lastError ?? hub?.lastError ?? null,
        progress: await readProgress(stateDir, share.name, agent.running),
        conflictCopies: Object.keys(state?.index ?? {}).filter((path) => isConflictName(path)).sort()
      };
    })
  );
  return { deviceId: config.deviceId, name: config.name, hub: config.hub, agent, hubError, shares: shares2 };
}
var init_status = __esm({
  "agent/status.ts"() {
    "use strict";
    init_conflict_name();
    init_messages();
    init_agent_config();
    init_hub_client();
    init_device_identity();
    init_apply_progress();
    init_share_state();
  }
});

// agent/service/build-agent-unit.ts
var build_agent_unit_exports = {};
__export(build_agent_unit_exports, {
  AGENT_UNIT_NAME: () => AGENT_UNIT_NAME,
  buildAgentUnit: () => buildAgentUnit
});
function buildAgentUnit(options) {
  const { command, stateDir, sharePaths, user } = options;
  const execStart = [...command, "agent", "run", "--state", stateDir].map(quote).join(" ");
  const writable = [quote(stateDir), ...[...new Set(sharePaths)].map((p) => quote(`-${p}`))];
  const lines = [
    "# Written by `fleetsync agent install`; remove with `fleetsync agent uninstall`.",
    "[Unit]",
    "Description=fleetsync agent (replicates this machine's shares with the hub)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${execStart}`,
    ...user ? [`User=${user}`] : [],
    "Restart=on-failure",
    "RestartSec=5s",
    // SIGTERM stops the shares cleanly; the agent finishes the file it is writing first.
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30s",
    "UMask=0022",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    `ReadWritePaths=${writable.join(" ")}`,
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    ...options.allowSpecialModeBits ? [] : ["RestrictSUIDSGID=yes"],
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    // As root it keeps only what writing other users' files needs; as a user, nothing.
    `CapabilityBoundingSet=${user ? "" : "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID"}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    ""
  ];
  return lines.join("\n");
}
function quote(word) {
  const escaped = word.replaceAll("%", "%%");
  if (!/[\s"'\\]/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}
var AGENT_UNIT_NAME;
var init_build_agent_unit = __esm({
  "agent/service/build-agent-unit.ts"() {
    "use strict";
    AGENT_UNIT_NAME = "fleetsync-agent.service";
  }
});

// agent/service/install-agent-service.ts
var install_agent_service_exports = {};
__export(install_agent_service_exports, {
  SYSTEMD_UNIT_DIR: () => SYSTEMD_UNIT_DIR,
  installSteps: () => installSteps,
  runServiceSteps: () => runServiceSteps,
  uninstallSteps: () => uninstallSteps
});
import { execFile } from "node:child_process";
import { rm as rm5, writeFile as writeFile7 } from "node:fs/promises";
import { join as join13 } from "node:path";
import { promisify } from "node:util";
function installSteps(unitText, unitDir = SYSTEMD_UNIT_DIR) {
  const file = join13(unitDir, AGENT_UNIT_NAME);
  return [
    { describe: `write ${file}`, act: () => writeFile7(file, unitText, { mode: 420 }) },
    { describe: "systemctl daemon-reload", act: () => systemctl(["daemon-reload"]) },
    {
      describe: `systemctl enable --now ${AGENT_UNIT_NAME}`,
      act: () => systemctl(["enable", "--now", AGENT_UNIT_NAME])
    }
  ];
}
function uninstallSteps(unitDir = SYSTEMD_UNIT_DIR) {
  const file = join13(unitDir, AGENT_UNIT_NAME);
  return [
    {
      describe: `systemctl disable --now ${AGENT_UNIT_NAME}`,
      act: () => systemctl(["disable", "--now", AGENT_UNIT_NAME]).catch(() => void 0)
    },
    { describe: `remove ${file}`, act: () => rm5(file, { force: true }) },
    { describe: "systemctl daemon-reload", act: () => systemctl(["daemon-reload"]) }
  ];
}
async function runServiceSteps(steps) {
  for (const step of steps) {
    try {
      await step.act();
    } catch (error) {
      const reason = error.stderr?.trim() || error.message;
      throw new FleetsyncError(
        "internal",
        `could not ${step.describe}: ${reason}; run it as root on a machine with systemd (or use --dry-run to see the unit)`,
        { cause: error }
      );
    }
  }
}
async function systemctl(args) {
  await run("systemctl", args);
}
var run, SYSTEMD_UNIT_DIR;
var init_install_agent_service = __esm({
  "agent/service/install-agent-service.ts"() {
    "use strict";
    init_fleetsync_error();
    init_build_agent_unit();
    run = promisify(execFile);
    SYSTEMD_UNIT_DIR = "/etc/systemd/system";
  }
});

// cli/agent-commands.ts
var agent_commands_exports = {};
__export(agent_commands_exports, {
  AGENT_COMMANDS: () => AGENT_COMMANDS
});
import { execFile as execFile2 } from "node:child_process";
import { isAbsolute, resolve as resolve3 } from "node:path";
import { parseArgs as parseArgs2, promisify as promisify2 } from "node:util";
async function checkUserExists(user) {
  await promisify2(execFile2)("id", ["-u", user]).catch(() => {
    throw new UsageError(
      `--user ${user}: no such user on this machine; create it (sudo useradd --system ${user}) or leave --user out to run as root`
    );
  });
}
function splitSharePair(flag, item, what) {
  const eq25 = item.indexOf("=");
  if (eq25 <= 0 || eq25 === item.length - 1) throw new UsageError(`--${flag} ${item}: expected SHARE=${what}`);
  return [item.slice(0, eq25), item.slice(eq25 + 1)];
}
var AGENT_COMMANDS;
var init_agent_commands = __esm({
  "cli/agent-commands.ts"() {
    "use strict";
    init_check_hub_url();
    init_cli_error();
    init_format_table();
    init_process_lock();
    AGENT_COMMANDS = {
      enroll: {
        help: `Usage: fleetsync agent enroll --hub URL --token TOKEN --state DIR [--name NAME] [--path SHARE=DIR ...]
                             [--pihole SHARE=URL --pihole-password-file SHARE=FILE ...] [--force]

Enrolls this machine: generates its Ed25519 key pair (the private key stays in DIR, mode 0600),
trades the token for a device identity, pins the hub's keys and writes DIR/agent.yaml.
Checked before the token is spent: DIR and the share folders must not lie inside one another;
a source's folder must exist (a replica's is created, mode 0755); DIR must not hold an identity yet.

Options:
  --hub URL          the hub, with its scheme, e.g. http://hub.lan:8787
  --token TOKEN      a single-use token from 'fleetsync token create'
  --state DIR        where this agent keeps its identity, config and state (outside every share folder)
  --name NAME        how the hub lists this device (default: the token's --label, else the host name)
  --path SHARE=DIR   the local folder of a share (repeatable; editable later in agent.yaml)
  --pihole SHARE=URL the Pi-hole of a Pi-hole share, on this machine (loopback), e.g. http://127.0.0.1:80
  --pihole-password-file SHARE=FILE
                     a file holding that Pi-hole's web or app password (it never leaves this machine)
  --force            replace the identity DIR already holds; then revoke the old device on the hub

Example:
  npx fleetsync agent enroll --hub http://192.0.2.10:8787 --token eyJ... --state /var/lib/fleetsync-agent --path configs=/etc/myapp`,
        async run(args) {
          const { values } = parseArgs2({
            args,
            options: {
              hub: { type: "string" },
              token: { type: "string" },
              state: { type: "string" },
              name: { type: "string" },
              path: { type: "string", multiple: true },
              pihole: { type: "string", multiple: true },
              "pihole-password-file": { type: "string", multiple: true },
              force: { type: "boolean", default: false },
              json: { type: "boolean", default: false },
              help: { type: "boolean", short: "h", default: false }
            }
          });
          if (values.help) {
            console.log(AGENT_COMMANDS.enroll.help);
            return 0;
          }
          if (!values.hub || !values.token || !values.state)
            throw new UsageError("agent enroll needs --hub, --token and --state; see --help");
          checkHubUrl(values.hub);
          const paths = {};
          for (const item of values.path ?? []) {
            const [share, dir] = splitSharePair("path", item, "DIR");
            paths[share] = dir;
          }
          const pihole = {};
          for (const item of values.pihole ?? []) {
            const [share, url] = splitSharePair("pihole", item, "URL");
            pihole[share] = { ...pihole[share], url };
          }
          for (const item of values["pihole-password-file"] ?? []) {
            const [share, file] = splitSharePair("pihole-password-file", item, "FILE");
            pihole[share] = { ...pihole[share], passwordFile: resolve3(file) };
          }
          const { enrollDevice: enrollDevice3 } = await Promise.resolve().then(() => (init_enroll_device(), enroll_device_exports));
          const lock = await acquireProcessLock({ kind: "agent", dir: resolve3(values.state) });
          const result = await enrollDevice3({
            hub: values.hub,
            token: values.token,
            stateDir: values.state,
            name: values.name,
            paths,
            pihole,
            force: values.force
          }).finally(() => lock.release());
          const revoke = result.replaced ? `replaced device ${result.replaced.deviceId} ("${result.replaced.name}"), which the hub still lists; revoke it: fleetsync device revoke ${result.replaced.deviceId}` : void 0;
          if (values.json)
            console.log(
              JSON.stringify({
                deviceId: result.deviceId,
                name: result.name,
                shares: result.shares,
                ...result.replaced ? { replaced: result.replaced } : {}
              })
            );
          else {
            const shares2 = result.shares.map((s) => `${s.name}:${s.role}${paths[s.name] ? `\u2192${paths[s.name]}` : ""}`).join(", ");
            console.log(
              `enrolled "${result.name}" as ${result.deviceId} at ${values.hub}; shares: ${shares2}; config: ${result.stateDir}/agent.yaml`
            );
          }
          if (revoke) process.stderr.write(`fleetsync: ${revoke}
`);
          return 0;
        }
      },
      run: {
        help: `Usage: fleetsync agent run --state DIR

Runs the agent until SIGINT/SIGTERM: watches source shares and reports changes, applies the hub's
signed instructions on replica shares. Settings live in DIR/agent.yaml.
One agent per state dir: a second one refuses to start, naming the first (its pid is in DIR/agent.pid).
Refuses share folders that lie inside one another or the state dir. A share whose task fails is
logged with its name and restarted after a backoff; the other shares carry on.

Example:
  npx fleetsync agent run --state /var/lib/fleetsync-agent`,
        async run(args) {
          const { values } = parseArgs2({
            args,
            options: { state: { type: "string" }, help: { type: "boolean", short: "h", default: false } }
          });
          if (values.help) {
            console.log(AGENT_COMMANDS.run.help);
            return 0;
          }
          if (!values.state) throw new UsageError("agent run needs --state DIR; see --help");
          const lock = await acquireProcessLock({
            kind: "agent",
            dir: resolve3(values.state),
            pidFile: "agent.pid"
          });
          const controller = new AbortController();
          const stop = () => controller.abort();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
          try {
            const { runAgent: runAgent2 } = await Promise.resolve().then(() => (init_daemon(), daemon_exports));
            await runAgent2(values.state, controller.signal);
          } finally {
            await lock.release();
          }
          return 0;
        }
      },
      status: {
        help: `Usage: fleetsync agent status --state DIR [--json]

Whether the agent runs on DIR (pid and start time), then per share: role, root, files, bytes,
last change reported or applied, cursor against the hub's head (lag, also in files and bytes where
the hub reports them), and the last error. Asking the hub does not count as the device being seen.

Example:
  npx fleetsync agent status --state /var/lib/fleetsync-agent`,
        async run(args) {
          const { values } = parseArgs2({
            args,
            options: {
              state: { type: "string" },
              json: { type: "boolean", default: false },
              help: { type: "boolean", short: "h", default: false }
            }
          });
          if (values.help) {
            console.log(AGENT_COMMANDS.status.help);
            return 0;
          }
          if (!values.state) throw new UsageError("agent status needs --state DIR; see --help");
          const { agentStatus: agentStatus2 } = await Promise.resolve().then(() => (init_status(), status_exports));
          const lock = await readLockState("agent", values.state);
          const status = await agentStatus2(values.state, {
            running: lock.running,
            ...lock.running && lock.holder ? { pid: lock.holder.pid, since: lock.holder.startedAt } : {}
          });
          if (values.json) console.log(JSON.stringify(status, null, 2));
          else {
            console.log(
              `device ${status.deviceId} (${status.name}) \u2192 ${status.hub}${status.hubError ? ` [hub: ${status.hubError}]` : ""}`
            );
            const { agent } = status;
            console.log(
              agent.running ? `agent running${agent.pid ? ` (pid ${agent.pid}, since ${agent.since})` : ""}` : `agent not running; start it: fleetsync agent run --state ${values.state}`
            );
            console.log(
              formatTable(
                ["SHARE", "ROLE", "ROOT", "FILES", "BYTES", "LAST CHANGE", "CURSOR", "HEAD", "LAG", "LAST ERROR"],
                status.shares.map((s) => [
                  s.name,
                  s.role,
                  s.root,
                  s.files,
                  s.bytes,
                  s.lastChangeAt,
                  s.cursor,
                  s.head,
                  s.lag === null || s.lagFiles === null ? s.lag : `${s.lag} (${s.lagFiles} files, ${s.lagBytes ?? 0} B)`,
                  s.lastError
                ])
              )
            );
            for (const s of status.shares) {
              if (s.progress) {
                console.log(
                  `${s.name}: ${s.progress.direction === "sending" ? "uploading" : "syncing"}, ${s.progress.doneFiles}/${s.progress.totalFiles} files, ${s.progress.doneBytes}/${s.progress.totalBytes} B${s.progress.secondsLeft === null ? "" : `, about ${s.progress.secondsLeft} s left`}`
                );
              }
              if (s.conflictCopies.length > 0) {
                console.log(
                  `${s.name}: ${s.conflictCopies.length} conflict copies: ${s.conflictCopies.join(", ")}`
                );
              }
            }
          }
          return 0;
        }
      },
      install: {
        help: `Usage: fleetsync agent install --state DIR [--user USER] [--dry-run]

Installs the agent as a systemd service (fleetsync-agent.service): writes the unit to
/etc/systemd/system, reloads systemd, enables it at boot and starts it. Needs root.
The unit runs this very command (the executable, or node with this CLI) as 'agent run --state DIR',
restarts it on failure, and sandboxes it: the whole file system read-only (ProtectSystem=strict) except
DIR and the share folders agent.yaml names (ReadWritePaths), no new privileges, a private /tmp.
After editing agent.yaml's share folders, run install again so the unit follows.
Stop any agent you started by hand on DIR first: one agent per state dir.

Options:
  --state DIR   the enrolled state dir (holds agent.yaml)
  --user USER   run the service as USER instead of root (USER must be able to write DIR and the shares)
  --dry-run     print the unit and the steps, change nothing

Example:
  sudo fleetsync agent install --state /var/lib/fleetsync-agent`,
        async run(args) {
          const { values } = parseArgs2({
            args,
            options: {
              state: { type: "string" },
              user: { type: "string" },
              "dry-run": { type: "boolean", default: false },
              help: { type: "boolean", short: "h", default: false }
            }
          });
          if (values.help) {
            console.log(AGENT_COMMANDS.install.help);
            return 0;
          }
          if (!values.state) throw new UsageError("agent install needs --state DIR; see --help");
          const stateDir = resolve3(values.state);
          const { loadAgentConfig: loadAgentConfig2, resolveShares: resolveShares2 } = await Promise.resolve().then(() => (init_agent_config(), agent_config_exports));
          const { buildAgentUnit: buildAgentUnit2 } = await Promise.resolve().then(() => (init_build_agent_unit(), build_agent_unit_exports));
          const { installSteps: installSteps2, runServiceSteps: runServiceSteps2 } = await Promise.resolve().then(() => (init_install_agent_service(), install_agent_service_exports));
          const shares2 = resolveShares2(await loadAgentConfig2(stateDir));
          const { isSea } = await import("node:sea");
          const command = isSea() ? [process.execPath] : [process.execPath, resolve3(process.argv[1] ?? "")];
          const sharePaths = shares2.filter((s) => s.path !== "").map((s) => s.path);
          const relative2 = shares2.find((s) => s.path !== "" && !isAbsolute(s.path));
          if (relative2)
            throw new UsageError(
              `share "${relative2.name}": path "${relative2.path}" in ${stateDir}/agent.yaml is relative; write it as an absolute path, then run agent install again`
            );
          if (values.user) await checkUserExists(values.user);
          const unit = buildAgentUnit2({
            command,
            stateDir,
            sharePaths,
            ...values.user ? { user: values.user } : {},
            allowSpecialModeBits: shares2.some((s) => s.specialModeBits)
          });
          const steps = installSteps2(unit);
          if (values["dry-run"]) {
            process.stdout.write(unit);
            process.stderr.write(`fleetsync: dry run; would ${steps.map((s) => s.describe).join(", then ")}
`);
            return 0;
          }
          if (process.getuid?.() !== 0)
            throw new UsageError("agent install writes /etc/systemd/system and needs root: run it with sudo");
          await runServiceSteps2(steps);
          console.log("installed and started fleetsync-agent.service; logs: journalctl -u fleetsync-agent -f");
          return 0;
        }
      },
      uninstall: {
        help: `Usage: fleetsync agent uninstall [--dry-run]

Stops and disables fleetsync-agent.service and removes its unit file. Leaves the state dir, its
identity and the share folders alone (the device stays enrolled; revoke it on the hub to retire it).

Example:
  sudo fleetsync agent uninstall`,
        async run(args) {
          const { values } = parseArgs2({
            args,
            options: {
              "dry-run": { type: "boolean", default: false },
              help: { type: "boolean", short: "h", default: false }
            }
          });
          if (values.help) {
            console.log(AGENT_COMMANDS.uninstall.help);
            return 0;
          }
          const { runServiceSteps: runServiceSteps2, uninstallSteps: uninstallSteps2 } = await Promise.resolve().then(() => (init_install_agent_service(), install_agent_service_exports));
          const steps = uninstallSteps2();
          if (values["dry-run"]) {
            console.log(`dry run; would ${steps.map((s) => s.describe).join(", then ")}`);
            return 0;
          }
          if (process.getuid?.() !== 0)
            throw new UsageError("agent uninstall changes /etc/systemd/system and needs root: run it with sudo");
          await runServiceSteps2(steps);
          console.log("stopped, disabled and removed fleetsync-agent.service");
          return 0;
        }
      }
    };
  }
});

// hub/adapters/in-process-notifier.ts
function createInProcessNotifier() {
  const waiters = /* @__PURE__ */ new Map();
  return {
    async notify(share) {
      const set = waiters.get(share);
      if (!set) return;
      waiters.delete(share);
      for (const wake of set) wake();
    },
    wait(shares2, timeoutMs, signal) {
      return new Promise((resolve7) => {
        if (signal?.aborted) return resolve7();
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          for (const share of shares2) waiters.get(share)?.delete(done);
          resolve7();
        };
        const timer = setTimeout(done, timeoutMs);
        signal?.addEventListener("abort", done, { once: true });
        for (const share of shares2) {
          let set = waiters.get(share);
          if (!set) {
            set = /* @__PURE__ */ new Set();
            waiters.set(share, set);
          }
          set.add(done);
        }
      });
    }
  };
}
var init_in_process_notifier = __esm({
  "hub/adapters/in-process-notifier.ts"() {
    "use strict";
  }
});

// hub/adapters/json-logger.ts
function createJsonLogger(write, base = {}) {
  const log = (level) => (message, fields = {}) => write(JSON.stringify({ time: (/* @__PURE__ */ new Date()).toISOString(), level, msg: message, ...base, ...fields }));
  return { info: log("info"), warn: log("warn"), error: log("error") };
}
var init_json_logger = __esm({
  "hub/adapters/json-logger.ts"() {
    "use strict";
  }
});

// hub/adapters/polling-notifier.ts
function createPollingNotifier(readHeads, intervalMs = 500) {
  const local = createInProcessNotifier();
  let waiting = 0;
  let last;
  let polling = false;
  async function poll() {
    polling = true;
    try {
      while (true) {
        try {
          const heads = await readHeads();
          const previous = last;
          last = heads;
          if (previous) {
            for (const [share, head] of heads) if (previous.get(share) !== head) await local.notify(share);
          }
        } catch {
        }
        if (waiting === 0) return;
        await new Promise((resolve7) => setTimeout(resolve7, intervalMs));
      }
    } finally {
      polling = false;
    }
  }
  void poll();
  return {
    notify: local.notify,
    async wait(shares2, timeoutMs, signal) {
      waiting++;
      if (!polling) void poll();
      try {
        await local.wait(shares2, timeoutMs, signal);
      } finally {
        waiting--;
      }
    }
  };
}
var init_polling_notifier = __esm({
  "hub/adapters/polling-notifier.ts"() {
    "use strict";
    init_in_process_notifier();
  }
});

// hub/adapters/window-rate-limiter.ts
function createWindowRateLimiter(limit, windowMs) {
  const windows = /* @__PURE__ */ new Map();
  return {
    async hit(key, nowMs) {
      let window = windows.get(key);
      if (!window || nowMs - window.start >= windowMs) {
        if (windows.size > 1e4) windows.clear();
        window = { start: nowMs, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      return window.count > limit ? Math.ceil((window.start + windowMs - nowMs) / 1e3) : 0;
    }
  };
}
var init_window_rate_limiter = __esm({
  "hub/adapters/window-rate-limiter.ts"() {
    "use strict";
  }
});

// hub/adapters/always-healthy.ts
var alwaysHealthy;
var init_always_healthy = __esm({
  "hub/adapters/always-healthy.ts"() {
    "use strict";
    alwaysHealthy = { problem: async () => void 0 };
  }
});

// hub/db/database.ts
function chunkForParams(rows, columnsPerRow, paramLimit) {
  const size = Math.max(1, Math.floor(paramLimit / columnsPerRow));
  const chunks = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}
var init_database = __esm({
  "hub/db/database.ts"() {
    "use strict";
  }
});

// hub/db/schema.ts
var schema_exports = {};
__export(schema_exports, {
  accessTokens: () => accessTokens,
  alertStates: () => alertStates,
  alerts: () => alerts,
  auditEvents: () => auditEvents,
  blocks: () => blocks,
  dashboardSessions: () => dashboardSessions,
  deviceJtis: () => deviceJtis,
  devices: () => devices,
  enrolmentTokens: () => enrolmentTokens,
  entries: () => entries,
  hubKeys: () => hubKeys,
  hubSettings: () => hubSettings,
  instructions: () => instructions,
  members: () => members,
  objectBlocks: () => objectBlocks,
  shareBlocks: () => shareBlocks,
  shares: () => shares,
  syncOps: () => syncOps,
  syncRuns: () => syncRuns
});
import { sql } from "drizzle-orm";
import { customType, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
var bytes, hubSettings, hubKeys, devices, enrolmentTokens, shares, members, entries, shareBlocks, deviceJtis, blocks, objectBlocks, instructions, syncRuns, syncOps, auditEvents, accessTokens, dashboardSessions, alerts, alertStates;
var init_schema = __esm({
  "hub/db/schema.ts"() {
    "use strict";
    bytes = customType({
      dataType: () => "blob",
      toDriver: (value) => value,
      fromDriver: (value) => value instanceof Uint8Array ? value : new Uint8Array(value)
    });
    hubSettings = sqliteTable("hub_settings", {
      key: text("key").primaryKey(),
      value: text("value").notNull()
    });
    hubKeys = sqliteTable("hub_keys", {
      kid: text("kid").primaryKey(),
      privateJwk: text("private_jwk").notNull(),
      publicJwk: text("public_jwk").notNull(),
      createdAt: integer("created_at").notNull(),
      retiredAt: integer("retired_at")
    });
    devices = sqliteTable("devices", {
      id: text("id").primaryKey(),
      name: text("name").notNull(),
      publicJwk: text("public_jwk").notNull(),
      tokenJti: text("token_jti").notNull(),
      createdAt: integer("created_at").notNull(),
      lastSeenAt: integer("last_seen_at"),
      revokedAt: integer("revoked_at"),
      /** `pending` until an admin approves a device enrolled with an approval token; `denied` for good. */
      approval: text("approval", { enum: ["approved", "pending", "denied"] }).notNull().default("approved"),
      /** What the agent says it is (`fleetsync-agent/0.1.0` in its User-Agent), for the dashboard. */
      agentVersion: text("agent_version")
    });
    enrolmentTokens = sqliteTable("enrolment_tokens", {
      jti: text("jti").primaryKey(),
      label: text("label").notNull().default(""),
      shares: text("shares").notNull(),
      createdAt: integer("created_at").notNull(),
      expiresAt: integer("expires_at").notNull(),
      usedAt: integer("used_at"),
      usedBy: text("used_by"),
      revokedAt: integer("revoked_at"),
      /** A device enrolled with this token waits for approval. */
      approval: integer("approval", { mode: "boolean" }).notNull().default(false)
    });
    shares = sqliteTable("shares", {
      name: text("name").primaryKey(),
      kind: text("kind", { enum: ["folder", "pihole"] }).notNull(),
      deletes: text("deletes", { enum: ["propagate", "keep"] }).notNull(),
      conflicts: text("conflicts", { enum: ["keep-both", "newest-wins"] }).notNull(),
      headSeq: integer("head_seq").notNull().default(0),
      createdAt: integer("created_at").notNull(),
      /** A Pi-hole share's items and config keys (JSON of PiholeItems); null for a folder share. */
      piholeItems: text("pihole_items"),
      /** `required`: every device that joins this share waits for approval. */
      approval: text("approval", { enum: ["none", "required"] }).notNull().default("none"),
      /** A report held by the mass-delete guard: who sent it, how many deletes of how many live entries, when. */
      heldDeleteDevice: text("held_delete_device"),
      heldDeletes: integer("held_deletes"),
      heldLive: integer("held_live"),
      heldAt: integer("held_at"),
      /** Until when (ms) held-sized reports are let through (`share confirm-delete`). */
      deleteConfirmedUntil: integer("delete_confirmed_until")
    });
    members = sqliteTable(
      "members",
      {
        share: text("share").notNull().references(() => shares.name),
        deviceId: text("device_id").notNull().references(() => devices.id),
        role: text("role", { enum: ["source", "replica", "peer"] }).notNull(),
        cursor: integer("cursor").notNull().default(0),
        dryRun: integer("dry_run", { mode: "boolean" }).notNull().default(false),
        dryRunSeq: integer("dry_run_seq").notNull().default(0),
        lastReportAt: integer("last_report_at"),
        lastApplyAt: integer("last_apply_at"),
        lastError: text("last_error"),
        lastErrorAt: integer("last_error_at")
      },
      (t) => [primaryKey({ columns: [t.share, t.deviceId] }), index("members_by_device").on(t.deviceId)]
    );
    entries = sqliteTable(
      "entries",
      {
        share: text("share").notNull(),
        path: text("path").notNull(),
        seq: integer("seq").notNull(),
        type: text("type", { enum: ["file", "dir", "symlink", "deleted"] }).notNull(),
        size: integer("size").notNull().default(0),
        mode: integer("mode").notNull().default(0),
        mtimeMs: integer("mtime_ms").notNull().default(0),
        blockSize: integer("block_size").notNull(),
        blocks: text("blocks").notNull().default("[]"),
        target: text("target"),
        hash: text("hash").notNull().default(""),
        deviceId: text("device_id").notNull(),
        updatedAt: integer("updated_at").notNull()
      },
      (t) => [primaryKey({ columns: [t.share, t.path] }), index("entries_by_share_seq").on(t.share, t.seq)]
    );
    shareBlocks = sqliteTable(
      "share_blocks",
      {
        share: text("share").notNull(),
        hash: text("hash").notNull(),
        /** The last commit (ms) that referenced the block in this share. */
        seenAt: integer("seen_at").notNull()
      },
      (t) => [primaryKey({ columns: [t.share, t.hash] }), index("share_blocks_by_hash").on(t.hash)]
    );
    deviceJtis = sqliteTable(
      "device_jtis",
      {
        deviceId: text("device_id").notNull(),
        jti: text("jti").notNull(),
        expiresAt: integer("expires_at").notNull()
      },
      (t) => [primaryKey({ columns: [t.deviceId, t.jti] }), index("device_jtis_by_expiry").on(t.expiresAt)]
    );
    blocks = sqliteTable("blocks", {
      hash: text("hash").primaryKey(),
      size: integer("size").notNull(),
      data: bytes("data").notNull(),
      createdAt: integer("created_at").notNull()
    });
    objectBlocks = sqliteTable(
      "object_blocks",
      {
        hash: text("hash").primaryKey(),
        size: integer("size").notNull(),
        createdAt: integer("created_at").notNull()
      },
      (t) => [index("object_blocks_by_created").on(t.createdAt)]
    );
    instructions = sqliteTable(
      "instructions",
      {
        id: text("id").primaryKey(),
        deviceId: text("device_id").notNull(),
        share: text("share").notNull(),
        fromSeq: integer("from_seq").notNull(),
        toSeq: integer("to_seq").notNull(),
        jws: text("jws").notNull(),
        opCount: integer("op_count").notNull(),
        bytes: integer("bytes").notNull(),
        status: text("status", { enum: ["pending", "acked", "superseded"] }).notNull(),
        createdAt: integer("created_at").notNull(),
        expiresAt: integer("expires_at").notNull(),
        ackedAt: integer("acked_at")
      },
      (t) => [index("instructions_pending_by_device").on(t.deviceId, t.status)]
    );
    syncRuns = sqliteTable(
      "sync_runs",
      {
        id: integer("id").primaryKey({ autoIncrement: true }),
        share: text("share").notNull(),
        deviceId: text("device_id").notNull(),
        kind: text("kind", { enum: ["report", "apply", "dry-run"] }).notNull(),
        fromSeq: integer("from_seq").notNull(),
        toSeq: integer("to_seq").notNull(),
        files: integer("files").notNull().default(0),
        bytes: integer("bytes").notNull().default(0),
        result: text("result", { enum: ["ok", "partial", "failed"] }).notNull(),
        error: text("error"),
        at: integer("at").notNull()
      },
      (t) => [index("sync_runs_by_share").on(t.share, t.at), index("sync_runs_by_device").on(t.deviceId, t.at)]
    );
    syncOps = sqliteTable(
      "sync_ops",
      {
        id: integer("id").primaryKey({ autoIncrement: true }),
        runId: integer("run_id").notNull(),
        seq: integer("seq").notNull(),
        path: text("path").notNull(),
        action: text("action").notNull(),
        bytes: integer("bytes").notNull().default(0),
        ok: integer("ok", { mode: "boolean" }).notNull(),
        error: text("error")
      },
      (t) => [index("sync_ops_by_run").on(t.runId)]
    );
    auditEvents = sqliteTable(
      "audit_events",
      {
        id: integer("id").primaryKey({ autoIncrement: true }),
        at: integer("at").notNull(),
        actor: text("actor").notNull(),
        action: text("action").notNull(),
        target: text("target").notNull(),
        detail: text("detail").notNull().default(sql`'{}'`)
      },
      (t) => [index("audit_by_time").on(t.at)]
    );
    accessTokens = sqliteTable("access_tokens", {
      id: text("id").primaryKey(),
      kind: text("kind", { enum: ["metrics"] }).notNull(),
      hash: text("hash").notNull().unique(),
      label: text("label").notNull().default(""),
      createdAt: integer("created_at").notNull(),
      revokedAt: integer("revoked_at")
    });
    dashboardSessions = sqliteTable("dashboard_sessions", {
      idHash: text("id_hash").primaryKey(),
      createdAt: integer("created_at").notNull(),
      expiresAt: integer("expires_at").notNull()
    });
    alerts = sqliteTable("alerts", {
      id: text("id").primaryKey(),
      url: text("url").notNull(),
      events: text("events").notNull(),
      offlineAfterMs: integer("offline_after_ms").notNull(),
      createdAt: integer("created_at").notNull()
    });
    alertStates = sqliteTable(
      "alert_states",
      {
        alertId: text("alert_id").notNull(),
        subject: text("subject").notNull(),
        status: text("status", { enum: ["error", "offline"] }).notNull(),
        since: integer("since").notNull()
      },
      (t) => [primaryKey({ columns: [t.alertId, t.subject] })]
    );
  }
});

// hub/adapters/table-block-store.ts
import { inArray, lt, sql as sql2 } from "drizzle-orm";
function createTableBlockStore(db, paramLimit) {
  return {
    async has(hashes) {
      const found = /* @__PURE__ */ new Set();
      for (const chunk2 of chunkForParams([...new Set(hashes)], 1, paramLimit)) {
        const rows = await db.select({ hash: blocks.hash }).from(blocks).where(inArray(blocks.hash, chunk2));
        for (const row of rows) found.add(row.hash);
      }
      return found;
    },
    async put(batch, nowMs) {
      if (batch.length === 0) return;
      const rows = batch.map(({ hash, bytes: bytes2 }) => ({
        hash,
        size: bytes2.length,
        data: bytes2,
        createdAt: nowMs
      }));
      const [first, ...rest] = chunkForParams(rows, 4, paramLimit).map(
        (chunk2) => db.insert(blocks).values(chunk2).onConflictDoNothing()
      );
      if (first) await db.batch([first, ...rest]);
    },
    async get(hash) {
      const rows = await db.select({ data: blocks.data }).from(blocks).where(sql2`${blocks.hash} = ${hash}`);
      return rows[0]?.data;
    },
    async deleteUnreferenced(referenced, olderThanMs) {
      const keep = await referenced();
      const candidates = await db.select({ hash: blocks.hash }).from(blocks).where(lt(blocks.createdAt, olderThanMs));
      const doomed = candidates.map((c) => c.hash).filter((h) => !keep.has(h));
      for (const chunk2 of chunkForParams(doomed, 1, paramLimit)) {
        await db.delete(blocks).where(inArray(blocks.hash, chunk2));
      }
      return doomed.length;
    }
  };
}
var init_table_block_store = __esm({
  "hub/adapters/table-block-store.ts"() {
    "use strict";
    init_database();
    init_schema();
  }
});

// hub/services/hub-context.ts
var DEFAULT_LIMITS;
var init_hub_context = __esm({
  "hub/services/hub-context.ts"() {
    "use strict";
    DEFAULT_LIMITS = {
      maxBodyBytes: 8 * 1024 * 1024,
      maxBlockBodyBytes: 64 * 1024 * 1024,
      sqlParamLimit: 2e3,
      maxOpsPerInstruction: 2e3,
      maxBlockRefsPerInstruction: 2e4,
      maxWaitSeconds: 60
    };
  }
});

// hub/services/initialize-hub.ts
import { eq, isNull, ne } from "drizzle-orm";
import { exportJWK as exportJWK2, generateKeyPair as generateKeyPair2, importJWK as importJWK2 } from "jose";
async function initializeHub(db, nowMs, options = {}) {
  const configuredHash = options.adminToken === void 0 ? void 0 : await hashConfiguredAdminToken(options.adminToken);
  await db.insert(hubSettings).values({ key: "hub_id", value: crypto.randomUUID() }).onConflictDoNothing();
  const active = await db.select().from(hubKeys).where(isNull(hubKeys.retiredAt));
  if (active.length === 0) {
    const { privateKey, publicKey } = await generateKeyPair2("EdDSA", { crv: "Ed25519", extractable: true });
    const kid = crypto.randomUUID();
    const claimed = await db.insert(hubSettings).values({ key: "signing_kid", value: kid }).onConflictDoNothing().returning({ key: hubSettings.key });
    if (claimed.length > 0) {
      await db.insert(hubKeys).values({
        kid,
        privateJwk: JSON.stringify(await exportJWK2(privateKey)),
        publicJwk: JSON.stringify({ ...await exportJWK2(publicKey), kid, alg: "EdDSA", use: "sig" }),
        createdAt: nowMs
      });
    }
  }
  if (configuredHash !== void 0) {
    await db.insert(hubSettings).values({ key: "admin_token_hash", value: configuredHash }).onConflictDoUpdate({
      target: hubSettings.key,
      set: { value: configuredHash },
      setWhere: ne(hubSettings.value, configuredHash)
    });
    return { identity: await loadIdentity(db) };
  }
  let newAdminToken;
  const candidate = `${ADMIN_TOKEN_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
  const inserted = await db.insert(hubSettings).values({ key: "admin_token_hash", value: await hashSecret(candidate) }).onConflictDoNothing().returning({ key: hubSettings.key });
  if (inserted.length > 0) newAdminToken = candidate;
  return { identity: await loadIdentity(db), newAdminToken };
}
async function hashConfiguredAdminToken(token) {
  if (token.trim() !== token || token.length < MIN_CONFIGURED_ADMIN_TOKEN_LENGTH) {
    throw new Error(
      `the configured admin token must be at least ${MIN_CONFIGURED_ADMIN_TOKEN_LENGTH} characters without surrounding spaces; generate one with: openssl rand -hex 24`
    );
  }
  return hashSecret(token);
}
async function loadIdentity(db) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const settings = new Map((await db.select().from(hubSettings)).map((row) => [row.key, row.value]));
    const hubId = settings.get("hub_id");
    const kid = settings.get("signing_kid");
    const keys = await db.select().from(hubKeys).where(isNull(hubKeys.retiredAt));
    const signing = keys.find((k) => k.kid === kid);
    if (hubId && kid && signing) {
      const privateKey = await importJWK2(JSON.parse(signing.privateJwk), "EdDSA");
      return { hubId, kid, privateKey, jwks: { keys: keys.map((k) => JSON.parse(k.publicJwk)) } };
    }
    await new Promise((resolve7) => setTimeout(resolve7, 100));
  }
  throw new Error("hub signing key is missing from the database; was hub_keys edited by hand?");
}
async function hashSecret(secret) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return toHex(new Uint8Array(digest));
}
async function readSetting(db, key) {
  const rows = await db.select().from(hubSettings).where(eq(hubSettings.key, key));
  return rows[0]?.value;
}
var ADMIN_TOKEN_PREFIX, MIN_CONFIGURED_ADMIN_TOKEN_LENGTH;
var init_initialize_hub = __esm({
  "hub/services/initialize-hub.ts"() {
    "use strict";
    init_hex();
    init_schema();
    ADMIN_TOKEN_PREFIX = "fsa_";
    MIN_CONFIGURED_ADMIN_TOKEN_LENGTH = 24;
  }
});

// hub/build-hub-context.ts
async function buildHubContext(options) {
  const now = options.now ?? Date.now;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const { identity, newAdminToken } = await initializeHub(
    options.db,
    now(),
    options.adminToken === void 0 ? {} : { adminToken: options.adminToken }
  );
  const table = createTableBlockStore(options.db, limits.sqlParamLimit);
  const ctx = {
    db: options.db,
    blockStore: options.blockStore ? await options.blockStore(table, limits) : table,
    notifier: options.notifier ?? createInProcessNotifier(),
    identity,
    limits,
    enrolLimiter: options.enrolLimiter ?? createWindowRateLimiter(ENROL_ATTEMPTS_PER_MINUTE, 6e4),
    log: options.log,
    health: options.health ?? alwaysHealthy,
    storageLabel: options.storageLabel,
    now,
    ...options.stopping ? { stopping: options.stopping } : {},
    ...options.coalesceInstructions ? { coalesceInstructions: true } : {}
  };
  return newAdminToken === void 0 ? { ctx } : { ctx, newAdminToken };
}
var ENROL_ATTEMPTS_PER_MINUTE;
var init_build_hub_context = __esm({
  "hub/build-hub-context.ts"() {
    "use strict";
    init_always_healthy();
    init_in_process_notifier();
    init_table_block_store();
    init_window_rate_limiter();
    init_hub_context();
    init_initialize_hub();
    ENROL_ATTEMPTS_PER_MINUTE = 20;
  }
});

// hub/db/open-libsql.ts
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
async function openLibsql(url, authToken) {
  const isFile = url.startsWith("file:");
  const client = createClient({
    url,
    ...authToken ? { authToken } : {},
    ...isFile ? { concurrency: 1, timeout: BUSY_TIMEOUT_MS } : {}
  });
  if (isFile) {
    await client.execute(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = NORMAL");
  }
  const db = drizzle(client, { schema: schema_exports });
  await migrateWithRetry(db);
  return { db, client, close: () => client.close() };
}
async function migrateWithRetry(db) {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
      return;
    } catch (error) {
      if (attempt >= 20)
        throw new Error(`applying database migrations failed: ${error.message}`, { cause: error });
      await new Promise((resolve7) => setTimeout(resolve7, 50 + Math.random() * 200));
    }
  }
}
var MIGRATIONS_FOLDER, BUSY_TIMEOUT_MS;
var init_open_libsql = __esm({
  "hub/db/open-libsql.ts"() {
    "use strict";
    init_schema();
    MIGRATIONS_FOLDER = decodeURIComponent(new URL("./migrations", import.meta.url).pathname);
    BUSY_TIMEOUT_MS = 1e4;
  }
});

// hub/db/is-storage-full.ts
function isStorageFull(error) {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    const { code, message, cause } = e;
    if (typeof code === "string" && FULL_CODES.has(code)) return true;
    if (typeof message === "string" && FULL_TEXT.test(message)) return true;
    e = cause;
  }
  return false;
}
var FULL_CODES, FULL_TEXT;
var init_is_storage_full = __esm({
  "hub/db/is-storage-full.ts"() {
    "use strict";
    FULL_CODES = /* @__PURE__ */ new Set(["SQLITE_FULL", "ENOSPC"]);
    FULL_TEXT = /SQLITE_FULL|database or disk is full|ENOSPC|no space left on device/i;
  }
});

// hub/services/metrics-http-recorder.ts
function createHttpMetricsRecorder() {
  const requests = /* @__PURE__ */ new Map();
  const latency = /* @__PURE__ */ new Map();
  const receivedBytes = /* @__PURE__ */ new Map();
  const sentBytes = /* @__PURE__ */ new Map();
  const key = (...parts) => JSON.stringify(parts);
  const add = (map, k, n) => map.set(k, (map.get(k) ?? 0) + n);
  return {
    observe(o) {
      add(requests, key(o.method, o.route, String(o.status)), 1);
      const k = key(o.method, o.route);
      let h = latency.get(k);
      if (!h) {
        h = { buckets: LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
        latency.set(k, h);
      }
      LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
        if (o.durationSeconds <= le) h.buckets[i] += 1;
      });
      h.sum += o.durationSeconds;
      h.count += 1;
    },
    received(method, route, bytes2) {
      add(receivedBytes, key(method, route), bytes2);
    },
    sent(method, route, bytes2) {
      add(sentBytes, key(method, route), bytes2);
    },
    families() {
      const parse2 = (k) => JSON.parse(k);
      const latencySamples = [];
      for (const [k, h] of latency) {
        const [method, route] = parse2(k);
        LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
          latencySamples.push({
            suffix: "_bucket",
            labels: { method, route, le: String(le) },
            value: h.buckets[i]
          });
        });
        latencySamples.push({ suffix: "_bucket", labels: { method, route, le: "+Inf" }, value: h.count });
        latencySamples.push({ suffix: "_sum", labels: { method, route }, value: h.sum });
        latencySamples.push({ suffix: "_count", labels: { method, route }, value: h.count });
      }
      const bytesSamples = (map) => [...map].map(([k, value]) => {
        const [method, route] = parse2(k);
        return { labels: { method, route }, value };
      });
      return [
        {
          name: "fleetsync_http_requests_total",
          help: "HTTP requests this hub process answered, by method, route and status.",
          type: "counter",
          samples: [...requests].map(([k, value]) => {
            const [method, route, status] = parse2(k);
            return { labels: { method, route, status }, value };
          })
        },
        {
          name: "fleetsync_http_request_duration_seconds",
          help: "Time this hub process took to answer HTTP requests (long-polls included), by method and route.",
          type: "histogram",
          samples: latencySamples
        },
        {
          name: "fleetsync_http_received_bytes_total",
          help: "Request body bytes received by this hub process (block uploads, reports), by method and route.",
          type: "counter",
          samples: bytesSamples(receivedBytes)
        },
        {
          name: "fleetsync_http_sent_bytes_total",
          help: "Response body bytes sent by this hub process (block downloads, instructions), by method and route.",
          type: "counter",
          samples: bytesSamples(sentBytes)
        }
      ];
    }
  };
}
var LATENCY_BUCKETS_SECONDS;
var init_metrics_http_recorder = __esm({
  "hub/services/metrics-http-recorder.ts"() {
    "use strict";
    LATENCY_BUCKETS_SECONDS = [5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  }
});

// hub/services/audit.ts
function auditStatement(ctx, actor, action, target, detail = {}) {
  return ctx.db.insert(auditEvents).values({ at: ctx.now(), actor, action, target, detail: JSON.stringify(detail) });
}
var init_audit = __esm({
  "hub/services/audit.ts"() {
    "use strict";
    init_schema();
  }
});

// hub/services/entry-rows.ts
function rowToEntry(row) {
  return {
    path: row.path,
    seq: row.seq,
    type: row.type,
    size: row.size,
    mode: row.mode,
    mtimeMs: row.mtimeMs,
    blockSize: row.blockSize,
    blocks: JSON.parse(row.blocks),
    ...row.target === null ? {} : { target: row.target },
    hash: row.hash
  };
}
function entryToRow(entry, share, deviceId, nowMs) {
  return {
    share,
    path: entry.path,
    type: entry.type,
    size: entry.type === "file" ? entry.size : 0,
    mode: entry.mode,
    mtimeMs: entry.mtimeMs,
    blockSize: entry.blockSize,
    blocks: JSON.stringify(entry.type === "file" ? entry.blocks : []),
    target: entry.type === "symlink" ? entry.target ?? "" : null,
    hash: entry.type === "file" ? entry.hash : "",
    deviceId,
    updatedAt: nowMs
  };
}
var init_entry_rows = __esm({
  "hub/services/entry-rows.ts"() {
    "use strict";
  }
});

// hub/services/plan-instruction.ts
function planInstruction(input) {
  const ops = [];
  let blockRefs = 0;
  let lastSeq = input.cursor;
  let cut = false;
  for (const entry of input.entries) {
    if (entry.seq <= input.cursor || entry.seq > input.head) continue;
    const refs = entry.blocks.length;
    if (lastSeq > input.cursor && (ops.length >= input.maxOps || blockRefs + refs > input.maxBlockRefs)) {
      cut = true;
      break;
    }
    lastSeq = entry.seq;
    blockRefs += refs;
    if (entry.type === "deleted" && input.deletes === "keep") continue;
    ops.push(entry);
  }
  const toSeq = cut || !input.complete ? lastSeq : input.head;
  return { fromSeq: input.cursor, toSeq: Math.max(toSeq, input.cursor), ops };
}
var init_plan_instruction = __esm({
  "hub/services/plan-instruction.ts"() {
    "use strict";
  }
});

// hub/services/issue-instructions.ts
import { and, asc, eq as eq2, gt, inArray as inArray2, isNotNull, lte, ne as ne2, sql as sql3 } from "drizzle-orm";
function isBehind({ member, share }) {
  const reached = member.dryRun ? Math.max(member.cursor, member.dryRunSeq) : member.cursor;
  return reached < share.headSeq;
}
async function issueInstructions(ctx, deviceIds) {
  const ids = [...new Set(deviceIds)];
  const paramLimit = ctx.limits.sqlParamLimit;
  const issued = new Map(ids.map((id) => [id, { instructions: [], shares: [] }]));
  for (const chunk2 of chunkForParams(ids, 1, paramLimit)) {
    const revoked = await ctx.db.select({ id: devices.id, revokedAt: devices.revokedAt }).from(devices).where(and(inArray2(devices.id, chunk2), isNotNull(devices.revokedAt)));
    for (const row of revoked) if (row.revokedAt !== null) issued.get(row.id).revokedAt = row.revokedAt;
  }
  const live = ids.filter((id) => issued.get(id).revokedAt === void 0);
  const behind = [];
  for (const chunk2 of chunkForParams(live, 1, paramLimit - 1)) {
    const rows2 = await ctx.db.select({ member: members, share: shares }).from(members).innerJoin(shares, eq2(shares.name, members.share)).where(and(inArray2(members.deviceId, chunk2), ne2(members.role, "source")));
    for (const row of rows2) {
      issued.get(row.member.deviceId).shares.push(row.share.name);
      if (isBehind(row)) behind.push(row);
    }
  }
  if (behind.length === 0) return issued;
  const nowMs = ctx.now();
  const usable = /* @__PURE__ */ new Map();
  const key = (deviceId, share, fromSeq) => JSON.stringify([deviceId, share, fromSeq]);
  const behindDevices = [...new Set(behind.map((m) => m.member.deviceId))];
  for (const chunk2 of chunkForParams(behindDevices, 1, paramLimit - 1)) {
    const pending = await ctx.db.select().from(instructions).where(and(inArray2(instructions.deviceId, chunk2), eq2(instructions.status, "pending")));
    for (const p of pending) {
      if (p.expiresAt - REISSUE_MARGIN_MS > nowMs) usable.set(key(p.deviceId, p.share, p.fromSeq), p.jws);
    }
  }
  const reusable = /* @__PURE__ */ new Map();
  for (const m of behind) {
    const jws = usable.get(key(m.member.deviceId, m.share.name, m.member.cursor));
    if (jws !== void 0) reusable.set(m, jws);
  }
  const plans = /* @__PURE__ */ new Map();
  const planFor = async ({ member, share }) => {
    const key2 = JSON.stringify([share.name, member.cursor, share.headSeq, share.deletes]);
    const known = plans.get(key2);
    if (known) return known;
    const limit = ctx.limits.maxOpsPerInstruction;
    const rows2 = await ctx.db.select().from(entries).where(
      and(eq2(entries.share, share.name), gt(entries.seq, member.cursor), lte(entries.seq, share.headSeq))
    ).orderBy(asc(entries.seq)).limit(limit + 1);
    const plan = planInstruction({
      entries: rows2.map(rowToEntry),
      complete: rows2.length <= limit,
      cursor: member.cursor,
      head: share.headSeq,
      deletes: share.deletes,
      maxOps: limit,
      maxBlockRefs: ctx.limits.maxBlockRefsPerInstruction
    });
    plans.set(key2, plan);
    return plan;
  };
  const fresh = [];
  for (const m of behind) if (!reusable.has(m)) fresh.push({ membership: m, plan: await planFor(m) });
  const nowSeconds = Math.floor(nowMs / 1e3);
  const rows = await Promise.all(
    fresh.map(async ({ membership: { member, share }, plan }) => {
      const id = crypto.randomUUID();
      const jws = await signInstruction(
        ctx.identity.privateKey,
        ctx.identity.kid,
        { hubId: ctx.identity.hubId, deviceId: member.deviceId, instructionId: id, nowSeconds },
        { share: share.name, ...plan }
      );
      return {
        id,
        deviceId: member.deviceId,
        share: share.name,
        fromSeq: plan.fromSeq,
        toSeq: plan.toSeq,
        jws,
        opCount: plan.ops.length,
        bytes: plan.ops.reduce((sum, op) => sum + (op.type === "file" ? op.size : 0), 0),
        status: "pending",
        createdAt: nowMs,
        expiresAt: nowMs + INSTRUCTION_TTL_SECONDS * 1e3
      };
    })
  );
  const [first, ...rest] = recordStatements(ctx, rows);
  if (first) await ctx.db.batch([first, ...rest]);
  const signed = new Map(rows.map((row, i) => [fresh[i].membership, row.jws]));
  for (const m of behind) {
    issued.get(m.member.deviceId).instructions.push(reusable.get(m) ?? signed.get(m));
  }
  return issued;
}
function chunkByJsonSize(items) {
  const chunks = [];
  let current = [];
  let chars = 0;
  for (const item of items) {
    const size = JSON.stringify(item).length + 1;
    if (current.length > 0 && chars + size > MAX_JSON_PARAM_CHARS) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(item);
    chars += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
function recordStatements(ctx, rows) {
  const devicesByShare = /* @__PURE__ */ new Map();
  for (const row of rows) {
    const list = devicesByShare.get(row.share) ?? [];
    list.push(row.deviceId);
    devicesByShare.set(row.share, list);
  }
  const retire = [...devicesByShare].flatMap(
    ([share, deviceIds]) => chunkByJsonSize(deviceIds).map(
      (chunk2) => ctx.db.update(instructions).set({ status: "superseded" }).where(
        and(
          eq2(instructions.status, "pending"),
          eq2(instructions.share, share),
          inArray2(instructions.deviceId, sql3`(select value from json_each(${JSON.stringify(chunk2)}))`)
        )
      )
    )
  );
  const insert = chunkByJsonSize(rows).map(
    (chunk2) => ctx.db.insert(instructions).select(
      sql3`select json_extract(value, '$.id'), json_extract(value, '$.deviceId'), json_extract(value, '$.share'),
        json_extract(value, '$.fromSeq'), json_extract(value, '$.toSeq'), json_extract(value, '$.jws'),
        json_extract(value, '$.opCount'), json_extract(value, '$.bytes'), json_extract(value, '$.status'),
        json_extract(value, '$.createdAt'), json_extract(value, '$.expiresAt'), null
      from json_each(${JSON.stringify(chunk2)})`
    )
  );
  return [...retire, ...insert];
}
var REISSUE_MARGIN_MS, MAX_JSON_PARAM_CHARS;
var init_issue_instructions = __esm({
  "hub/services/issue-instructions.ts"() {
    "use strict";
    init_instruction();
    init_database();
    init_schema();
    init_entry_rows();
    init_plan_instruction();
    REISSUE_MARGIN_MS = 6e4;
    MAX_JSON_PARAM_CHARS = 256 * 1024;
  }
});

// hub/services/issue-device-instructions.ts
function issueDeviceInstructions(ctx, deviceId) {
  if (!ctx.coalesceInstructions) {
    return issueInstructions(ctx, [deviceId]).then((issued) => issued.get(deviceId));
  }
  return new Promise((resolve7, reject) => {
    let round = gathering.get(ctx);
    if (!round) {
      const started = /* @__PURE__ */ new Map();
      round = started;
      gathering.set(ctx, started);
      setTimeout(() => {
        gathering.delete(ctx);
        void flush(ctx, started);
      }, 0);
    }
    const list = round.get(deviceId) ?? [];
    list.push({ resolve: resolve7, reject });
    round.set(deviceId, list);
  });
}
async function flush(ctx, round) {
  try {
    const issued = await issueInstructions(ctx, [...round.keys()]);
    for (const [deviceId, waiting] of round) for (const w of waiting) w.resolve(issued.get(deviceId));
  } catch (error) {
    for (const waiting of round.values()) for (const w of waiting) w.reject(error);
  }
}
var gathering;
var init_issue_device_instructions = __esm({
  "hub/services/issue-device-instructions.ts"() {
    "use strict";
    init_issue_instructions();
    gathering = /* @__PURE__ */ new WeakMap();
  }
});

// hub/services/shares.ts
import { and as and2, count, desc, eq as eq3, gt as gt2, like, ne as ne3, sql as sql4 } from "drizzle-orm";
function piholeItemsOf(row) {
  if (row.kind !== "pihole") return void 0;
  const stored = row.piholeItems === null ? {} : JSON.parse(row.piholeItems);
  return PiholeItemsSchema.parse(stored);
}
async function createShare(ctx, input) {
  if (input.pihole && input.kind !== "pihole")
    throw new FleetsyncError(
      "invalid",
      `share "${input.name}" is a ${input.kind} share: Pi-hole items and config keys belong to --kind pihole`
    );
  const { pihole, ...columns } = input;
  const items = input.kind === "pihole" ? PiholeItemsSchema.parse(pihole ?? {}) : void 0;
  const inserted = await ctx.db.insert(shares).values({ ...columns, piholeItems: items ? JSON.stringify(items) : null, createdAt: ctx.now() }).onConflictDoNothing().returning({ name: shares.name });
  if (inserted.length === 0) throw new FleetsyncError("conflict", `share "${input.name}" already exists`);
  await auditStatement(ctx, "admin", "share.create", input.name, { ...columns, pihole: items });
  return { ...columns, ...items ? { pihole: items } : {}, head: 0 };
}
async function setPiholeItems(ctx, name, change) {
  const [share] = await ctx.db.select().from(shares).where(eq3(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const current = piholeItemsOf(share);
  if (!current)
    throw new FleetsyncError(
      "invalid",
      `share "${name}" is a ${share.kind} share: Pi-hole items and config keys belong to --kind pihole`
    );
  const items = PiholeItemsSchema.parse({
    sync: change.sync ?? current.sync,
    config: change.config ?? current.config
  });
  await ctx.db.batch([
    ctx.db.update(shares).set({ piholeItems: JSON.stringify(items) }).where(eq3(shares.name, name)),
    auditStatement(ctx, "admin", "share.set", name, { pihole: items })
  ]);
  await ctx.notifier.notify(name);
  return { name, pihole: items };
}
async function deleteShare(ctx, name) {
  const [share] = await ctx.db.select().from(shares).where(eq3(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const [entryCount] = await ctx.db.select({ n: count() }).from(entries).where(eq3(entries.share, name));
  const [memberCount] = await ctx.db.select({ n: count() }).from(members).where(eq3(members.share, name));
  await ctx.db.batch([
    ctx.db.delete(entries).where(eq3(entries.share, name)),
    ctx.db.delete(members).where(eq3(members.share, name)),
    ctx.db.delete(instructions).where(eq3(instructions.share, name)),
    ctx.db.delete(shareBlocks).where(eq3(shareBlocks.share, name)),
    ctx.db.delete(shares).where(eq3(shares.name, name)),
    auditStatement(ctx, "admin", "share.delete", name)
  ]);
  await ctx.notifier.notify(name);
  return { name, deleted: true, entries: entryCount?.n ?? 0, members: memberCount?.n ?? 0 };
}
async function listShares(ctx) {
  const rows = await ctx.db.select().from(shares).orderBy(shares.name);
  const memberCounts = await ctx.db.select({ share: members.share, n: count() }).from(members).groupBy(members.share);
  const counts = new Map(memberCounts.map((r) => [r.share, r.n]));
  return rows.map((row) => ({
    name: row.name,
    kind: row.kind,
    deletes: row.deletes,
    conflicts: row.conflicts,
    ...piholeField(row),
    head: row.headSeq,
    members: counts.get(row.name) ?? 0
  }));
}
async function showShare(ctx, name) {
  const [share] = await ctx.db.select().from(shares).where(eq3(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const rows = await ctx.db.select({ member: members, device: devices }).from(members).innerJoin(devices, eq3(devices.id, members.deviceId)).where(eq3(members.share, name)).orderBy(devices.name);
  const [files] = await ctx.db.select({ n: count() }).from(entries).where(eq3(entries.share, name));
  const isCopy = and2(
    eq3(entries.share, name),
    ne3(entries.type, "deleted"),
    like(entries.path, "%.sync-conflict-%")
  );
  const [copyCount] = await ctx.db.select({ n: count() }).from(entries).where(isCopy);
  const copies = await ctx.db.select({ path: entries.path }).from(entries).where(isCopy).orderBy(entries.path).limit(CONFLICT_PATHS_SHOWN);
  const recentRuns = await ctx.db.select().from(syncRuns).where(eq3(syncRuns.share, name)).orderBy(desc(syncRuns.id)).limit(RECENT_RUNS);
  const shown = [];
  for (const { member, device } of rows) {
    const cursor = member.role === "source" ? share.headSeq : member.cursor;
    const lag = await lagOf(ctx, name, cursor);
    const [gravity] = share.kind === "pihole" && member.role !== "source" ? await ctx.db.select({ at: sql4`max(${syncRuns.at})` }).from(syncOps).innerJoin(syncRuns, eq3(syncRuns.id, syncOps.runId)).where(
      and2(eq3(syncRuns.share, name), eq3(syncRuns.deviceId, device.id), eq3(syncOps.action, "gravity"))
    ) : [];
    shown.push({
      deviceId: device.id,
      name: device.name,
      role: member.role,
      revoked: device.revokedAt !== null,
      lastSeenAt: isoOrNull(device.lastSeenAt),
      cursor,
      lag: share.headSeq - cursor,
      lagFiles: lag.files,
      lagBytes: lag.bytes,
      dryRun: member.dryRun,
      lastError: member.lastError,
      lastErrorAt: member.lastError === null ? null : isoOrNull(member.lastErrorAt),
      ...share.kind === "pihole" ? { lastGravityAt: isoOrNull(gravity?.at ?? null) } : {}
    });
  }
  return {
    name: share.name,
    kind: share.kind,
    deletes: share.deletes,
    conflicts: share.conflicts,
    ...piholeField(share),
    head: share.headSeq,
    entries: files?.n ?? 0,
    conflictCopies: { count: copyCount?.n ?? 0, paths: copies.map((c) => c.path) },
    heldDelete: share.heldAt === null ? null : {
      deviceId: share.heldDeleteDevice,
      deletes: share.heldDeletes,
      live: share.heldLive,
      since: new Date(share.heldAt).toISOString(),
      confirm: `fleetsync share confirm-delete ${share.name}`
    },
    deleteConfirmedUntil: share.deleteConfirmedUntil !== null && share.deleteConfirmedUntil > ctx.now() ? new Date(share.deleteConfirmedUntil).toISOString() : null,
    members: shown,
    /** Newest first. */
    recentRuns: recentRuns.map((run2) => ({ ...run2, at: new Date(run2.at).toISOString() }))
  };
}
async function lagOf(ctx, share, cursor) {
  const [row] = await ctx.db.select({ files: count(), bytes: sql4`coalesce(sum(${entries.size}), 0)` }).from(entries).where(and2(eq3(entries.share, share), gt2(entries.seq, cursor)));
  return { files: row?.files ?? 0, bytes: Number(row?.bytes ?? 0) };
}
async function listDeviceShares(ctx, deviceId) {
  const rows = await ctx.db.select({ share: shares, role: members.role, cursor: members.cursor, lastError: members.lastError }).from(members).innerJoin(shares, eq3(shares.name, members.share)).where(eq3(members.deviceId, deviceId)).orderBy(shares.name);
  const out = [];
  for (const { share, role, cursor, lastError } of rows) {
    const reached = role === "source" ? share.headSeq : cursor;
    const lag = reached < share.headSeq ? await lagOf(ctx, share.name, reached) : { files: 0, bytes: 0 };
    out.push({
      name: share.name,
      role,
      kind: share.kind,
      deletes: share.deletes,
      conflicts: share.conflicts,
      ...piholeField(share),
      head: share.headSeq,
      cursor: reached,
      lagFiles: lag.files,
      lagBytes: lag.bytes,
      lastError
    });
  }
  return out;
}
async function requireMembership(ctx, deviceId, share) {
  const rows = await ctx.db.select({ member: members, share: shares }).from(members).innerJoin(shares, eq3(shares.name, members.share)).where(eq3(members.deviceId, deviceId));
  const row = rows.find((r) => r.member.share === share);
  if (!row) throw new FleetsyncError("forbidden", `device ${deviceId} is not a member of share "${share}"`);
  return row;
}
var RECENT_RUNS, CONFLICT_PATHS_SHOWN, piholeField, isoOrNull;
var init_shares2 = __esm({
  "hub/services/shares.ts"() {
    "use strict";
    init_fleetsync_error();
    init_pihole_items();
    init_schema();
    init_audit();
    RECENT_RUNS = 20;
    CONFLICT_PATHS_SHOWN = 50;
    piholeField = (row) => {
      const items = piholeItemsOf(row);
      return items ? { pihole: items } : {};
    };
    isoOrNull = (ms) => ms === null ? null : new Date(ms).toISOString();
  }
});

// hub/services/instructions.ts
import { and as and3, desc as desc2, eq as eq4, sql as sql5 } from "drizzle-orm";
function pendingInstructions(deviceId, share) {
  return and3(
    eq4(instructions.deviceId, deviceId),
    eq4(instructions.status, "pending"),
    share === void 0 ? void 0 : eq4(instructions.share, share)
  );
}
function supersedePendingInstructions(ctx, deviceId, share) {
  return ctx.db.update(instructions).set({ status: "superseded" }).where(pendingInstructions(deviceId, share));
}
async function nextInstructions(ctx, deviceId, waitSeconds, signal) {
  const deadline = ctx.now() + Math.min(waitSeconds, ctx.limits.maxWaitSeconds) * 1e3;
  const done = new AbortController();
  const abort = AbortSignal.any(
    [signal, ctx.stopping, done.signal].filter((s) => s !== void 0)
  );
  let wake;
  try {
    while (true) {
      const issued = await issueDeviceInstructions(ctx, deviceId);
      if (issued.revokedAt !== void 0) throw revokedError(deviceId, issued.revokedAt);
      if (issued.instructions.length > 0) return issued.instructions;
      if (deadline - ctx.now() <= 0 || abort.aborted || issued.shares.length === 0) return [];
      const shares2 = issued.shares.join("\0");
      if (wake?.shares === shares2) {
        await wake.woken;
        if (abort.aborted) return [];
        wake = void 0;
        continue;
      }
      const remaining = Math.max(0, deadline - ctx.now());
      wake = { shares: shares2, woken: ctx.notifier.wait(issued.shares, remaining, abort) };
    }
  } finally {
    done.abort(null);
  }
}
function revokedError(deviceId, revokedAt) {
  return new FleetsyncError(
    "unauthenticated",
    `device ${deviceId} was revoked at ${new Date(revokedAt).toISOString()}; enroll it again with a new token`
  );
}
async function acknowledgeInstruction(ctx, deviceId, instructionId, ack) {
  const [instruction] = await ctx.db.select().from(instructions).where(and3(eq4(instructions.id, instructionId), eq4(instructions.deviceId, deviceId)));
  if (!instruction)
    throw new FleetsyncError(
      "not_found",
      `instruction ${instructionId} was not issued to device ${deviceId}`
    );
  if (ack.reachedSeq < instruction.fromSeq || ack.reachedSeq > instruction.toSeq) {
    throw new FleetsyncError(
      "invalid",
      `field "reachedSeq": ${ack.reachedSeq} is outside the instruction's range ${instruction.fromSeq}..${instruction.toSeq}`
    );
  }
  const { member } = await requireMembership(ctx, deviceId, instruction.share);
  const nowMs = ctx.now();
  const failed = ack.results.filter((r) => !r.ok);
  const memberWhere = and3(eq4(members.share, instruction.share), eq4(members.deviceId, deviceId));
  const markAcked = ctx.db.update(instructions).set({ status: "acked", ackedAt: nowMs }).where(eq4(instructions.id, instructionId));
  if (ack.dryRun) {
    const [last] = await ctx.db.select().from(syncRuns).where(
      and3(
        eq4(syncRuns.share, instruction.share),
        eq4(syncRuns.deviceId, deviceId),
        eq4(syncRuns.kind, "dry-run")
      )
    ).orderBy(desc2(syncRuns.id)).limit(1);
    const unchanged = last !== void 0 && last.toSeq === instruction.toSeq && last.fromSeq === instruction.fromSeq;
    const remember = ctx.db.update(members).set({ dryRunSeq: instruction.toSeq }).where(memberWhere);
    if (unchanged) {
      await ctx.db.batch([markAcked, remember]);
      return { cursor: member.cursor, recorded: false, note: "no changes since last dry run" };
    }
    await ctx.db.batch([markAcked, remember, ...runStatements(ctx, deviceId, instruction, ack, "dry-run")]);
    return { cursor: member.cursor, recorded: true };
  }
  const stale = member.cursor !== instruction.fromSeq;
  await ctx.db.batch([
    markAcked,
    ...stale ? [] : [
      ctx.db.update(members).set({
        cursor: ack.reachedSeq,
        lastApplyAt: nowMs,
        lastError: failed[0] ? `${failed[0].path}: ${failed[0].error ?? "failed"}` : null,
        lastErrorAt: failed[0] ? nowMs : null
      }).where(memberWhere)
    ],
    ...runStatements(ctx, deviceId, instruction, ack, "apply")
  ]);
  return { cursor: stale ? member.cursor : ack.reachedSeq, recorded: true };
}
function runStatements(ctx, deviceId, instruction, ack, kind) {
  const failed = ack.results.filter((r) => !r.ok).length;
  const result = failed === 0 ? "ok" : failed === ack.results.length ? "failed" : "partial";
  const runId = sql5`(select max(${syncRuns.id}) from ${syncRuns})`;
  const opRows = ack.results.map((r) => ({
    runId,
    seq: r.seq,
    path: r.path,
    action: r.action,
    bytes: r.bytes,
    ok: r.ok,
    error: r.error ?? null
  }));
  return [
    ctx.db.insert(syncRuns).values({
      share: instruction.share,
      deviceId,
      kind,
      fromSeq: instruction.fromSeq,
      toSeq: ack.reachedSeq,
      files: ack.results.length,
      bytes: ack.results.reduce((sum, r) => sum + r.bytes, 0),
      result,
      error: ack.results.find((r) => !r.ok)?.error ?? null,
      at: ctx.now()
    }),
    ...chunkForParams(opRows, OP_COLUMNS, ctx.limits.sqlParamLimit).map(
      (chunk2) => ctx.db.insert(syncOps).values(chunk2)
    )
  ];
}
async function setCursor(ctx, deviceId, shareName, request) {
  const { member, share } = await requireMembership(ctx, deviceId, shareName);
  if (member.role === "source") {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} is the source of "${shareName}"; sources have no cursor`
    );
  }
  const cursor = Math.min(request.cursor, share.headSeq);
  await ctx.db.batch([
    ctx.db.update(members).set({ cursor, dryRun: request.dryRun, dryRunSeq: 0 }).where(and3(eq4(members.share, shareName), eq4(members.deviceId, deviceId))),
    supersedePendingInstructions(ctx, deviceId, shareName)
  ]);
  return { cursor, head: share.headSeq };
}
var OP_COLUMNS;
var init_instructions = __esm({
  "hub/services/instructions.ts"() {
    "use strict";
    init_fleetsync_error();
    init_database();
    init_schema();
    init_issue_device_instructions();
    init_shares2();
    OP_COLUMNS = 8;
  }
});

// hub/services/approval.ts
import { and as and4, eq as eq5, inArray as inArray3 } from "drizzle-orm";
async function initialApproval(ctx, input) {
  if (input.tokenRequiresApproval) return "pending";
  if (input.shares.length === 0) return "approved";
  const strict = await ctx.db.select({ name: shares.name }).from(shares).where(and4(inArray3(shares.name, input.shares), eq5(shares.approval, "required")));
  return strict.length > 0 ? "pending" : "approved";
}
function requireApproved(device) {
  if (device.approval === "pending") {
    throw new FleetsyncError(
      "awaiting_approval",
      `device ${device.id} is waiting for approval: fleetsync device approve ${device.id}`
    );
  }
  if (device.approval === "denied") {
    throw new FleetsyncError(
      "unauthenticated",
      `device ${device.id} was denied by the admin; enroll it again with a new token if that was a mistake`
    );
  }
}
async function decide(ctx, id, to) {
  const [device] = await ctx.db.select().from(devices).where(eq5(devices.id, id));
  if (!device) throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  if (device.revokedAt !== null)
    throw new FleetsyncError("conflict", `device ${id} was revoked; enroll it again with a new token`);
  if (device.approval !== "pending") {
    throw new FleetsyncError(
      "conflict",
      `device ${id} is not waiting for approval (it is ${device.approval}); see fleetsync device list`
    );
  }
  const updated = await ctx.db.update(devices).set({ approval: to }).where(and4(eq5(devices.id, id), eq5(devices.approval, "pending"))).returning({ id: devices.id });
  if (updated.length === 0)
    throw new FleetsyncError("conflict", `device ${id} was decided by someone else meanwhile`);
  await ctx.db.batch([
    supersedePendingInstructions(ctx, id),
    auditStatement(ctx, "admin", to === "approved" ? "device.approve" : "device.deny", id)
  ]);
  ctx.log.info(to === "approved" ? "device approved" : "device denied", { device: id });
  return { id, approval: to };
}
function approveDevice(ctx, id) {
  return decide(ctx, id, "approved");
}
function denyDevice(ctx, id) {
  return decide(ctx, id, "denied");
}
var init_approval = __esm({
  "hub/services/approval.ts"() {
    "use strict";
    init_fleetsync_error();
    init_schema();
    init_audit();
    init_instructions();
  }
});

// hub/services/authenticate.ts
import { eq as eq6, lt as lt2 } from "drizzle-orm";
import { decodeJwt as decodeJwt2, errors as errors2, importJWK as importJWK3, jwtVerify as jwtVerify2 } from "jose";
function bearerToken(header) {
  if (!header)
    throw new FleetsyncError("unauthenticated", "missing Authorization header; send 'Bearer <token>'");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new FleetsyncError("unauthenticated", "Authorization header is not 'Bearer <token>'");
  return match[1];
}
async function authenticateAdmin(ctx, header) {
  const token = bearerToken(header);
  const expected = await readSetting(ctx.db, "admin_token_hash");
  const actual = await hashSecret(token);
  if (!expected || !timingSafeEqual(expected, actual)) {
    throw new FleetsyncError(
      "unauthenticated",
      "admin token is not valid for this hub; see DATA/admin.token on the hub machine (on Workers: the ADMIN_TOKEN secret)"
    );
  }
}
async function authenticateDevice(ctx, request) {
  const token = bearerToken(request.authorization);
  let subject;
  try {
    subject = decodeJwt2(token).sub;
  } catch {
    throw new FleetsyncError("unauthenticated", "device token is not a JWT");
  }
  if (!subject) throw new FleetsyncError("unauthenticated", "device token has no subject (device id)");
  const [device] = await ctx.db.select().from(devices).where(eq6(devices.id, subject));
  if (!device) throw new FleetsyncError("unauthenticated", `device ${subject} is not enrolled at this hub`);
  if (device.revokedAt !== null) {
    throw new FleetsyncError(
      "unauthenticated",
      `device ${subject} was revoked at ${new Date(device.revokedAt).toISOString()}; enroll it again with a new token`
    );
  }
  const nowSeconds = Math.floor(ctx.now() / 1e3);
  let jti;
  let expiresAtSeconds;
  try {
    const key = await importJWK3(JSON.parse(device.publicJwk), "EdDSA");
    const { payload } = await jwtVerify2(token, key, {
      algorithms: ["EdDSA"],
      audience: ctx.identity.hubId,
      currentDate: new Date(nowSeconds * 1e3),
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "iat", "jti", "sub", "aud", "htm", "htu"]
    });
    if ((payload.iat ?? 0) > nowSeconds + CLOCK_SKEW_SECONDS) {
      throw new FleetsyncError(
        "unauthenticated",
        `device token was issued ${(payload.iat ?? 0) - nowSeconds} s in the future (more than ${CLOCK_SKEW_SECONDS} s); is the device clock right?`
      );
    }
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > DEVICE_JWT_MAX_LIFETIME_SECONDS) {
      throw new FleetsyncError(
        "unauthenticated",
        `device token lives longer than ${DEVICE_JWT_MAX_LIFETIME_SECONDS} s`
      );
    }
    const method = request.method.toUpperCase();
    if (payload.htm !== method || payload.htu !== request.path) {
      throw new FleetsyncError(
        "unauthenticated",
        `device token is bound to another request: expected ${method} ${request.path}, got ${String(payload.htm)} ${String(payload.htu)}`
      );
    }
    jti = String(payload.jti);
    expiresAtSeconds = payload.exp ?? nowSeconds;
  } catch (error) {
    if (error instanceof FleetsyncError) throw error;
    if (error instanceof errors2.JWTExpired) {
      throw new FleetsyncError("token_expired", "device token has expired; is the device clock right?");
    }
    if (error instanceof errors2.JWTClaimValidationFailed && error.claim === "aud") {
      throw new FleetsyncError("unauthenticated", "device token is for another hub (aud does not match)");
    }
    throw new FleetsyncError("unauthenticated", `device token does not verify: ${error.message}`);
  }
  await recordJti(ctx, device.id, jti, expiresAtSeconds);
  const nowMs = ctx.now();
  const isStale = device.lastSeenAt === null || nowMs - device.lastSeenAt > LAST_SEEN_RESOLUTION_MS;
  if (request.touchLastSeen !== false && isStale) {
    await ctx.db.update(devices).set({ lastSeenAt: nowMs }).where(eq6(devices.id, device.id));
  }
  requireApproved(device);
  return { id: device.id, name: device.name };
}
async function recordJti(ctx, deviceId, jti, expiresAtSeconds) {
  const nowMs = ctx.now();
  if (nowMs - (lastJtiPrune.get(ctx) ?? 0) > JTI_PRUNE_INTERVAL_MS) {
    lastJtiPrune.set(ctx, nowMs);
    await ctx.db.delete(deviceJtis).where(lt2(deviceJtis.expiresAt, nowMs));
  }
  const inserted = await ctx.db.insert(deviceJtis).values({ deviceId, jti, expiresAt: (expiresAtSeconds + CLOCK_SKEW_SECONDS) * 1e3 }).onConflictDoNothing().returning({ jti: deviceJtis.jti });
  if (inserted.length === 0)
    throw new FleetsyncError("unauthenticated", "device token was already used (replayed?)");
}
function timingSafeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
var CLOCK_SKEW_SECONDS, LAST_SEEN_RESOLUTION_MS, JTI_PRUNE_INTERVAL_MS, lastJtiPrune;
var init_authenticate = __esm({
  "hub/services/authenticate.ts"() {
    "use strict";
    init_device_jwt();
    init_fleetsync_error();
    init_schema();
    init_approval();
    init_initialize_hub();
    CLOCK_SKEW_SECONDS = 30;
    LAST_SEEN_RESOLUTION_MS = 15e3;
    JTI_PRUNE_INTERVAL_MS = 6e4;
    lastJtiPrune = /* @__PURE__ */ new WeakMap();
  }
});

// hub/services/collect-garbage.ts
import { sql as sql6 } from "drizzle-orm";
async function collectGarbage(ctx, graceMs = DEFAULT_GC_GRACE_MS) {
  const cutoff = ctx.now() - graceMs;
  await ctx.db.run(
    sql6`delete from ${shareBlocks} where ${shareBlocks.seenAt} < ${cutoff} and (${shareBlocks.share}, ${shareBlocks.hash}) not in (select e.share, j.value from entries e, json_each(e.blocks) j where e.type = 'file')`
  );
  const referenced = async () => {
    const rows = await ctx.db.selectDistinct({ hash: shareBlocks.hash }).from(shareBlocks);
    return new Set(rows.map((r) => r.hash));
  };
  const deleted = await ctx.blockStore.deleteUnreferenced(referenced, cutoff);
  if (deleted > 0) ctx.log.info("garbage-collected blocks", { deleted });
  return { deleted };
}
var DEFAULT_GC_GRACE_MS;
var init_collect_garbage = __esm({
  "hub/services/collect-garbage.ts"() {
    "use strict";
    init_schema();
    DEFAULT_GC_GRACE_MS = 60 * 60 * 1e3;
  }
});

// hub/services/devices.ts
import { and as and5, eq as eq7, isNull as isNull2 } from "drizzle-orm";
async function listDevices(ctx) {
  const rows = await ctx.db.select().from(devices).orderBy(devices.createdAt);
  const memberships = await ctx.db.select().from(members);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    enrolledAt: new Date(row.createdAt).toISOString(),
    lastSeenAt: row.lastSeenAt === null ? null : new Date(row.lastSeenAt).toISOString(),
    state: row.revokedAt !== null ? "revoked" : row.approval === "approved" ? "active" : row.approval,
    shares: memberships.filter((m) => m.deviceId === row.id).map((m) => `${m.share}:${m.role}`)
  }));
}
async function revokeDevice(ctx, id) {
  const updated = await ctx.db.update(devices).set({ revokedAt: ctx.now() }).where(and5(eq7(devices.id, id), isNull2(devices.revokedAt))).returning({ id: devices.id });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no active device with id ${id}; see fleetsync device list`);
  await ctx.db.batch([
    supersedePendingInstructions(ctx, id),
    auditStatement(ctx, "admin", "device.revoke", id)
  ]);
  return { id, revoked: true };
}
async function renameDevice(ctx, id, newName) {
  const name = newName.trim();
  if (name.length === 0 || name.length > MAX_DEVICE_NAME_LENGTH) {
    throw new FleetsyncError(
      "invalid",
      `field "name": use 1-${MAX_DEVICE_NAME_LENGTH} characters for the device's new name`
    );
  }
  const updated = await ctx.db.update(devices).set({ name }).where(eq7(devices.id, id)).returning({ id: devices.id });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  await auditStatement(ctx, "admin", "device.rename", id, { name });
  return { id, name };
}
async function removeDevice(ctx, id) {
  const [device] = await ctx.db.select().from(devices).where(eq7(devices.id, id));
  if (!device) throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  if (device.revokedAt === null)
    throw new FleetsyncError(
      "conflict",
      `device ${id} is still active; revoke it first: fleetsync device revoke ${id}`
    );
  const removedMemberships = await ctx.db.select({ share: members.share }).from(members).where(eq7(members.deviceId, id));
  await ctx.db.batch([
    ctx.db.delete(members).where(eq7(members.deviceId, id)),
    ctx.db.delete(instructions).where(eq7(instructions.deviceId, id)),
    ctx.db.delete(deviceJtis).where(eq7(deviceJtis.deviceId, id)),
    ctx.db.delete(devices).where(eq7(devices.id, id)),
    auditStatement(ctx, "admin", "device.remove", id, { name: device.name })
  ]);
  return { id, removed: true, shares: removedMemberships.map((m) => m.share) };
}
var MAX_DEVICE_NAME_LENGTH;
var init_devices = __esm({
  "hub/services/devices.ts"() {
    "use strict";
    init_fleetsync_error();
    init_schema();
    init_audit();
    init_instructions();
    MAX_DEVICE_NAME_LENGTH = 128;
  }
});

// hub/services/enrolment.ts
import { and as and6, desc as desc3, eq as eq8, inArray as inArray4, isNull as isNull3 } from "drizzle-orm";
import { createLocalJWKSet as createLocalJWKSet2, errors as errors3, jwtVerify as jwtVerify3, SignJWT as SignJWT3 } from "jose";
import { z as z13 } from "zod";
async function createEnrolmentToken(ctx, input) {
  if (input.shares.length === 0)
    throw new FleetsyncError("invalid", 'field "shares": name at least one share');
  const names = input.shares.map((s) => s.name);
  const known = new Set(
    (await ctx.db.select({ name: shares.name }).from(shares).where(inArray4(shares.name, names))).map(
      (r) => r.name
    )
  );
  const unknown = names.find((n) => !known.has(n));
  if (unknown) {
    throw new FleetsyncError(
      "not_found",
      `share "${unknown}" does not exist; create it first: fleetsync share create ${unknown}`
    );
  }
  const nowMs = ctx.now();
  const jti = crypto.randomUUID();
  const expiresAt = nowMs + input.ttlSeconds * 1e3;
  const token = await new SignJWT3({ shares: input.shares, label: input.label }).setProtectedHeader({ alg: "EdDSA", kid: ctx.identity.kid, typ: ENROL_TOKEN_TYP }).setIssuer(ctx.identity.hubId).setAudience(`${ctx.identity.hubId}/enroll`).setJti(jti).setIssuedAt(Math.floor(nowMs / 1e3)).setExpirationTime(Math.floor(expiresAt / 1e3)).sign(ctx.identity.privateKey);
  await ctx.db.batch([
    ctx.db.insert(enrolmentTokens).values({
      jti,
      label: input.label,
      shares: JSON.stringify(input.shares),
      createdAt: nowMs,
      expiresAt,
      approval: input.approval ?? false
    }),
    auditStatement(ctx, "admin", "token.create", jti, {
      shares: input.shares,
      label: input.label,
      approval: input.approval ?? false
    })
  ]);
  return { token, jti, expiresAt: new Date(expiresAt).toISOString() };
}
async function enrollDevice2(ctx, input) {
  const nowMs = ctx.now();
  let jti;
  let grants;
  let label;
  try {
    const { payload } = await jwtVerify3(input.token, createLocalJWKSet2(ctx.identity.jwks), {
      algorithms: ["EdDSA"],
      typ: ENROL_TOKEN_TYP,
      issuer: ctx.identity.hubId,
      audience: `${ctx.identity.hubId}/enroll`,
      currentDate: new Date(nowMs),
      requiredClaims: ["exp", "jti"]
    });
    jti = payload.jti;
    grants = GrantsSchema.parse(payload.shares);
    label = typeof payload.label === "string" ? payload.label.trim() : "";
  } catch (error) {
    if (error instanceof errors3.JWTExpired) {
      throw new FleetsyncError(
        "token_expired",
        "enrolment token has expired; ask the admin for a new one (fleetsync token create)"
      );
    }
    throw new FleetsyncError(
      "unauthenticated",
      "enrolment token is not valid for this hub (forged, damaged or minted by another hub)"
    );
  }
  const name = (input.name ?? (label || input.hostname) ?? "").slice(0, 128);
  if (!name) {
    throw new FleetsyncError(
      "invalid",
      'body: send "name" (agent enroll --name) or "hostname", or mint the token with --label; the token was not used'
    );
  }
  const deviceId = `dev_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const claimed = await ctx.db.update(enrolmentTokens).set({ usedAt: nowMs, usedBy: deviceId }).where(
    and6(eq8(enrolmentTokens.jti, jti), isNull3(enrolmentTokens.usedAt), isNull3(enrolmentTokens.revokedAt))
  ).returning({ jti: enrolmentTokens.jti, approval: enrolmentTokens.approval });
  if (claimed.length === 0) {
    const [row] = await ctx.db.select().from(enrolmentTokens).where(eq8(enrolmentTokens.jti, jti));
    if (!row) throw new FleetsyncError("unauthenticated", "enrolment token is not known to this hub");
    if (row.revokedAt !== null)
      throw new FleetsyncError("unauthenticated", "enrolment token was revoked; ask the admin for a new one");
    throw new FleetsyncError(
      "token_used",
      `token already used (by device ${row.usedBy}); each token enrolls one device`
    );
  }
  const existingShares = new Set(
    (await ctx.db.select({ name: shares.name }).from(shares).where(
      inArray4(
        shares.name,
        grants.map((g) => g.name)
      )
    )).map((r) => r.name)
  );
  const memberRows = grants.filter((g) => existingShares.has(g.name)).map((g) => ({ share: g.name, deviceId, role: g.role }));
  const approval = await initialApproval(ctx, {
    tokenRequiresApproval: claimed[0]?.approval === true,
    shares: memberRows.map((m) => m.share)
  });
  await ctx.db.batch([
    ctx.db.insert(devices).values({
      id: deviceId,
      name,
      publicJwk: JSON.stringify(input.publicKey),
      tokenJti: jti,
      createdAt: nowMs,
      lastSeenAt: nowMs,
      approval
    }),
    ...memberRows.map((row) => ctx.db.insert(members).values(row)),
    auditStatement(ctx, `device:${deviceId}`, "device.enroll", deviceId, { name, token: jti })
  ]);
  ctx.log.info("device enrolled", { device: deviceId, name, approval });
  return {
    deviceId,
    name,
    hubId: ctx.identity.hubId,
    jwks: ctx.identity.jwks,
    shares: await listDeviceShares(ctx, deviceId)
  };
}
async function listTokens(ctx) {
  const rows = await ctx.db.select().from(enrolmentTokens).orderBy(desc3(enrolmentTokens.createdAt));
  const nowMs = ctx.now();
  return rows.map((row) => ({
    jti: row.jti,
    label: row.label,
    shares: JSON.parse(row.shares),
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
    state: row.revokedAt !== null ? "revoked" : row.usedAt !== null ? "used" : row.expiresAt <= nowMs ? "expired" : "unused",
    usedBy: row.usedBy,
    approval: row.approval
  }));
}
async function revokeToken(ctx, jti) {
  const updated = await ctx.db.update(enrolmentTokens).set({ revokedAt: ctx.now() }).where(and6(eq8(enrolmentTokens.jti, jti), isNull3(enrolmentTokens.revokedAt))).returning({ jti: enrolmentTokens.jti });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no unrevoked token with id ${jti}; see fleetsync token list`);
  await auditStatement(ctx, "admin", "token.revoke", jti);
  return { jti, revoked: true };
}
var ENROL_TOKEN_TYP, GrantsSchema;
var init_enrolment = __esm({
  "hub/services/enrolment.ts"() {
    "use strict";
    init_fleetsync_error();
    init_shares();
    init_schema();
    init_approval();
    init_audit();
    init_shares2();
    ENROL_TOKEN_TYP = "fleetsync-enrol+jwt";
    GrantsSchema = z13.array(ShareGrantSchema);
  }
});

// hub/services/mass-delete-guard.ts
import { and as and7, count as count2, eq as eq9, ne as ne4 } from "drizzle-orm";
function isMassDelete(change) {
  const { deletes, live } = change;
  const creates = change.creates ?? 0;
  if (deletes === 0) return false;
  if (live >= 2 && deletes >= live && creates === 0) return true;
  const net = deletes - creates;
  return net >= MIN_MASS_DELETES && net >= live * MASS_DELETE_FRACTION;
}
function clearStatement(ctx, share, set) {
  return ctx.db.update(shares).set(set).where(eq9(shares.name, share));
}
async function guardMassDelete(ctx, input) {
  const { share, deviceId, deletes, creates } = input;
  const nowMs = ctx.now();
  const clearHold = {
    heldDeleteDevice: null,
    heldDeletes: null,
    heldLive: null,
    heldAt: null
  };
  const clearOwnHold = share.heldDeleteDevice === deviceId ? [clearStatement(ctx, share.name, clearHold)] : [];
  if (deletes < 2) return { held: void 0, statements: clearOwnHold };
  const [row] = await ctx.db.select({ n: count2() }).from(entries).where(and7(eq9(entries.share, share.name), ne4(entries.type, "deleted")));
  const live = row?.n ?? 0;
  if (!isMassDelete({ deletes, live, creates })) return { held: void 0, statements: clearOwnHold };
  if (share.deleteConfirmedUntil !== null && share.deleteConfirmedUntil > nowMs) {
    ctx.log.warn("confirmed mass delete let through", { share: share.name, device: deviceId, deletes, live });
    return {
      held: void 0,
      statements: [
        clearStatement(ctx, share.name, clearHold),
        auditStatement(ctx, `device:${deviceId}`, "share.mass-delete", share.name, { deletes, live })
      ]
    };
  }
  const [device] = await ctx.db.select({ name: devices.name }).from(devices).where(eq9(devices.id, deviceId));
  const reason = `report from ${device?.name ?? deviceId} (${deviceId}) would delete ${deletes} of ${live} entries of share ${share.name}; nothing was deleted. If that is intended: fleetsync share confirm-delete ${share.name}`;
  await ctx.db.update(shares).set({ heldDeleteDevice: deviceId, heldDeletes: deletes, heldLive: live, heldAt: nowMs }).where(eq9(shares.name, share.name));
  ctx.log.warn("mass delete held", { share: share.name, device: deviceId, deletes, live });
  return { held: { status: "held", deletes, live, reason } };
}
async function confirmMassDelete(ctx, name) {
  const until = ctx.now() + DELETE_CONFIRMATION_MS;
  const updated = await ctx.db.update(shares).set({ deleteConfirmedUntil: until }).where(eq9(shares.name, name)).returning({
    heldDeletes: shares.heldDeletes,
    heldLive: shares.heldLive,
    heldDeleteDevice: shares.heldDeleteDevice
  });
  const [share] = updated;
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  await auditStatement(ctx, "admin", "share.confirm-delete", name, { until });
  return {
    share: name,
    until: new Date(until).toISOString(),
    held: share.heldDeletes === null ? null : `${share.heldDeletes} of ${share.heldLive} entries from device ${share.heldDeleteDevice}`
  };
}
var MASS_DELETE_FRACTION, MIN_MASS_DELETES, DELETE_CONFIRMATION_MS;
var init_mass_delete_guard = __esm({
  "hub/services/mass-delete-guard.ts"() {
    "use strict";
    init_fleetsync_error();
    init_schema();
    init_audit();
    MASS_DELETE_FRACTION = 0.5;
    MIN_MASS_DELETES = 10;
    DELETE_CONFIRMATION_MS = 15 * 60 * 1e3;
  }
});

// hub/services/alert-plan.ts
function describeSilence(lastSeenAt, nowMs) {
  if (lastSeenAt === null) return "the hub has never heard from it";
  const minutes = Math.max(1, Math.round((nowMs - lastSeenAt) / 6e4));
  return `no contact for ${minutes} min (last seen ${new Date(lastSeenAt).toISOString()})`;
}
function planAlerts(input) {
  const out = [];
  const { nowMs } = input;
  for (const alert of input.rules) {
    const wants = (kind) => alert.events.includes(kind);
    const mine = new Map(input.states.filter((s) => s.alertId === alert.id).map((s) => [s.subject, s]));
    const tracksErrors = wants("error") || wants("recovered");
    const tracksOffline = wants("offline") || wants("recovered");
    if (tracksErrors) {
      const failing = /* @__PURE__ */ new Map();
      for (const m of input.members) if (m.lastError) failing.set(errorSubject(m.share, m.deviceId), m);
      for (const [subject, m] of failing) {
        if (mine.has(subject)) continue;
        out.push({
          alert,
          change: { kind: "enter", alertId: alert.id, subject, status: "error", since: nowMs },
          ...wants("error") ? {
            event: {
              what: "error",
              share: m.share,
              deviceId: m.deviceId,
              deviceName: m.deviceName,
              why: m.lastError,
              at: nowMs
            }
          } : {}
        });
      }
      for (const state of mine.values()) {
        if (state.status !== "error" || failing.has(state.subject)) continue;
        const [, share = "", deviceId = ""] = state.subject.split(":");
        const member = input.members.find((m) => m.share === share && m.deviceId === deviceId);
        const change = { kind: "leave", alertId: alert.id, subject: state.subject };
        if (!member || !wants("recovered")) out.push({ alert, change });
        else
          out.push({
            alert,
            change,
            event: {
              what: "recovered",
              share,
              deviceId,
              deviceName: member.deviceName,
              why: "applies changes again without errors",
              at: nowMs
            }
          });
      }
    }
    if (tracksOffline) {
      const byId = new Map(input.devices.map((d) => [d.id, d]));
      for (const d of input.devices) {
        const silent = d.lastSeenAt === null || nowMs - d.lastSeenAt > alert.offlineAfterMs;
        const subject = offlineSubject(d.id);
        if (!silent || mine.has(subject)) continue;
        out.push({
          alert,
          change: { kind: "enter", alertId: alert.id, subject, status: "offline", since: nowMs },
          ...wants("offline") ? {
            event: {
              what: "offline",
              share: d.shares.length > 0 ? d.shares.join(",") : null,
              deviceId: d.id,
              deviceName: d.name,
              why: describeSilence(d.lastSeenAt, nowMs),
              at: nowMs
            }
          } : {}
        });
      }
      for (const state of mine.values()) {
        if (state.status !== "offline") continue;
        const deviceId = state.subject.slice("offline:".length);
        const d = byId.get(deviceId);
        const change = { kind: "leave", alertId: alert.id, subject: state.subject };
        if (!d) {
          out.push({ alert, change });
          continue;
        }
        const back = d.lastSeenAt !== null && nowMs - d.lastSeenAt <= alert.offlineAfterMs;
        if (!back) continue;
        out.push({
          alert,
          change,
          ...wants("recovered") ? {
            event: {
              what: "recovered",
              share: d.shares.length > 0 ? d.shares.join(",") : null,
              deviceId: d.id,
              deviceName: d.name,
              why: "back online",
              at: nowMs
            }
          } : {}
        });
      }
    }
    if (wants("conflict")) {
      for (const c of input.conflicts) {
        out.push({
          alert,
          event: {
            what: "conflict",
            share: c.share,
            deviceId: c.deviceId,
            deviceName: c.deviceName,
            why: `conflicting change on ${c.path}; both versions were kept`,
            at: c.at
          }
        });
      }
    }
  }
  return out;
}
var ALERT_KINDS, errorSubject, offlineSubject;
var init_alert_plan = __esm({
  "hub/services/alert-plan.ts"() {
    "use strict";
    ALERT_KINDS = ["error", "offline", "conflict", "recovered"];
    errorSubject = (share, deviceId) => `error:${share}:${deviceId}`;
    offlineSubject = (deviceId) => `offline:${deviceId}`;
  }
});

// hub/services/alerts.ts
import { eq as eq10 } from "drizzle-orm";
async function addAlert(ctx, input) {
  let url;
  try {
    url = new URL(input.url);
  } catch {
    throw new FleetsyncError(
      "invalid",
      `field "url": "${input.url}" is not a URL; e.g. https://ntfy.sh/my-fleet`
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new FleetsyncError("invalid", `field "url": use an http(s) URL, not ${url.protocol}`);
  const events = [...new Set(input.on ?? ALERT_KINDS)];
  const unknown = events.find((e) => !ALERT_KINDS.includes(e));
  if (unknown !== void 0 || events.length === 0)
    throw new FleetsyncError(
      "invalid",
      `field "on": ${unknown === void 0 ? "name at least one event" : `"${unknown}" is not an event`}; use ${ALERT_KINDS.join(", ")}`
    );
  const offlineText = input.offlineAfter ?? DEFAULT_OFFLINE_AFTER;
  const offlineAfterMs = parseDurationMs(offlineText);
  if (offlineAfterMs === void 0 || offlineAfterMs < MIN_OFFLINE_AFTER_MS || offlineAfterMs > MAX_OFFLINE_AFTER_MS)
    throw new FleetsyncError(
      "invalid",
      `field "offlineAfter": "${offlineText}" must be a duration from 1m to 30d, such as 5m or 1h`
    );
  const id = `al_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const row = {
    id,
    url: url.toString(),
    events: JSON.stringify(events),
    offlineAfterMs,
    createdAt: ctx.now()
  };
  await ctx.db.batch([
    ctx.db.insert(alerts).values(row),
    auditStatement(ctx, "admin", "alert.add", id, { host: url.host, events, offlineAfterMs })
  ]);
  return toView(row);
}
function toView(row) {
  return {
    id: row.id,
    url: row.url,
    on: JSON.parse(row.events),
    offlineAfterSeconds: Math.round(row.offlineAfterMs / 1e3),
    createdAt: new Date(row.createdAt).toISOString()
  };
}
async function listAlerts(ctx) {
  return (await ctx.db.select().from(alerts).orderBy(alerts.createdAt)).map(toView);
}
async function loadAlertRules(ctx) {
  return (await ctx.db.select().from(alerts)).map((row) => ({
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events),
    offlineAfterMs: row.offlineAfterMs
  }));
}
async function removeAlert(ctx, id) {
  const removed = await ctx.db.delete(alerts).where(eq10(alerts.id, id)).returning({ id: alerts.id });
  if (removed.length === 0)
    throw new FleetsyncError("not_found", `no alert with id ${id}; see fleetsync alert list`);
  await ctx.db.batch([
    ctx.db.delete(alertStates).where(eq10(alertStates.alertId, id)),
    auditStatement(ctx, "admin", "alert.remove", id)
  ]);
  return { id, removed: true };
}
var MIN_OFFLINE_AFTER_MS, MAX_OFFLINE_AFTER_MS, DEFAULT_OFFLINE_AFTER;
var init_alerts = __esm({
  "hub/services/alerts.ts"() {
    "use strict";
    init_fleetsync_error();
    init_parse_duration();
    init_schema();
    init_alert_plan();
    init_audit();
    MIN_OFFLINE_AFTER_MS = 6e4;
    MAX_OFFLINE_AFTER_MS = 30 * 864e5;
    DEFAULT_OFFLINE_AFTER = "5m";
  }
});

// hub/services/metrics-tokens.ts
import { and as and8, desc as desc4, eq as eq11, isNull as isNull4 } from "drizzle-orm";
async function createMetricsToken(ctx, input) {
  const token = `${METRICS_TOKEN_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
  const id = `${METRICS_TOKEN_ID_PREFIX}${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await ctx.db.batch([
    ctx.db.insert(accessTokens).values({
      id,
      kind: "metrics",
      hash: await hashSecret(token),
      label: input.label,
      createdAt: ctx.now()
    }),
    auditStatement(ctx, "admin", "metrics-token.create", id, { label: input.label })
  ]);
  return { id, token, kind: "metrics" };
}
async function listMetricsTokens(ctx) {
  const rows = await ctx.db.select().from(accessTokens).orderBy(desc4(accessTokens.createdAt));
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    label: row.label,
    createdAt: new Date(row.createdAt).toISOString(),
    state: row.revokedAt === null ? "active" : "revoked"
  }));
}
async function revokeMetricsToken(ctx, id) {
  const updated = await ctx.db.update(accessTokens).set({ revokedAt: ctx.now() }).where(and8(eq11(accessTokens.id, id), isNull4(accessTokens.revokedAt))).returning({ id: accessTokens.id });
  if (updated.length === 0)
    throw new FleetsyncError("not_found", `no active metrics token with id ${id}; see fleetsync token list`);
  await auditStatement(ctx, "admin", "metrics-token.revoke", id);
  return { id, revoked: true };
}
async function authenticateMetricsReader(ctx, header) {
  const token = bearerToken(header);
  if (token.startsWith(METRICS_TOKEN_PREFIX)) {
    const [row] = await ctx.db.select().from(accessTokens).where(and8(eq11(accessTokens.hash, await hashSecret(token)), eq11(accessTokens.kind, "metrics")));
    if (!row)
      throw new FleetsyncError(
        "unauthenticated",
        "metrics token is not valid for this hub; create one with: fleetsync token create --metrics"
      );
    if (row.revokedAt !== null)
      throw new FleetsyncError(
        "unauthenticated",
        `metrics token ${row.id} was revoked; create a new one with: fleetsync token create --metrics`
      );
    return;
  }
  try {
    await authenticateAdmin(ctx, header);
  } catch (error) {
    if (!(error instanceof FleetsyncError)) throw error;
    throw new FleetsyncError(
      "unauthenticated",
      "/metrics needs the admin token or a metrics token (fleetsync token create --metrics) as 'Authorization: Bearer <token>'"
    );
  }
}
var METRICS_TOKEN_PREFIX, METRICS_TOKEN_ID_PREFIX;
var init_metrics_tokens = __esm({
  "hub/services/metrics-tokens.ts"() {
    "use strict";
    init_hex();
    init_fleetsync_error();
    init_schema();
    init_audit();
    init_authenticate();
    init_initialize_hub();
    METRICS_TOKEN_PREFIX = "fsm_";
    METRICS_TOKEN_ID_PREFIX = "mt_";
  }
});

// hub/http/json-error-offset.ts
function jsonErrorOffset(text2) {
  const open5 = [];
  let i = 0;
  let expecting = "value";
  const skipWhitespace = () => {
    while (i < text2.length && WHITESPACE.has(text2[i])) i++;
  };
  const scanString = () => {
    i++;
    while (i < text2.length) {
      const code = text2.charCodeAt(i);
      if (code === 34) {
        i++;
        return true;
      }
      if (code < 32) return false;
      if (code === 92) {
        const escaped = text2[i + 1];
        if (escaped !== void 0 && SIMPLE_ESCAPES.has(escaped)) i += 2;
        else if (escaped === "u" && /^[0-9a-fA-F]{4}$/.test(text2.slice(i + 2, i + 6))) i += 6;
        else {
          i++;
          return false;
        }
      } else i++;
    }
    return false;
  };
  while (true) {
    skipWhitespace();
    const ch = text2[i];
    switch (expecting) {
      case "value":
      case "first-value": {
        if (ch === void 0) return i;
        if (expecting === "first-value" && ch === "]") {
          i++;
          open5.pop();
          expecting = "after-value";
        } else if (ch === "{" || ch === "[") {
          open5.push(ch);
          i++;
          expecting = ch === "{" ? "first-key" : "first-value";
        } else if (ch === '"') {
          if (!scanString()) return i;
          expecting = "after-value";
        } else {
          NUMBER.lastIndex = i;
          const literal = LITERALS.find((word) => text2.startsWith(word, i));
          if (literal) i += literal.length;
          else if (NUMBER.test(text2)) i = NUMBER.lastIndex;
          else return i;
          expecting = "after-value";
        }
        break;
      }
      case "key":
      case "first-key": {
        if (expecting === "first-key" && ch === "}") {
          i++;
          open5.pop();
          expecting = "after-value";
          break;
        }
        if (ch !== '"' || !scanString()) return i;
        skipWhitespace();
        if (text2[i] !== ":") return i;
        i++;
        expecting = "value";
        break;
      }
      case "after-value": {
        const container = open5.at(-1);
        if (container === void 0) return i < text2.length ? i : void 0;
        if (ch === ",") {
          i++;
          expecting = container === "{" ? "key" : "value";
        } else if (ch === (container === "{" ? "}" : "]")) {
          i++;
          open5.pop();
        } else return i;
        break;
      }
    }
  }
}
function describeTextOffset(text2, offset) {
  const before = text2.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line}, column ${column} (offset ${offset})`;
}
var WHITESPACE, SIMPLE_ESCAPES, NUMBER, LITERALS;
var init_json_error_offset = __esm({
  "hub/http/json-error-offset.ts"() {
    "use strict";
    WHITESPACE = /* @__PURE__ */ new Set([" ", "	", "\n", "\r"]);
    SIMPLE_ESCAPES = /* @__PURE__ */ new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
    NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    LITERALS = ["true", "false", "null"];
  }
});

// hub/http/validate.ts
async function readJson(c, schema) {
  const text2 = await c.req.text();
  let value;
  try {
    value = JSON.parse(text2);
  } catch (error) {
    const offset = jsonErrorOffset(text2);
    const where = offset === void 0 ? "" : ` at ${describeTextOffset(text2, offset)}`;
    throw new FleetsyncError(
      "bad_request",
      `request body is not valid JSON${where}: ${error.message}`
    );
  }
  return validate(schema, value, "body");
}
function validate(schema, value, where) {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new FleetsyncError("invalid", describeZodError(parsed.error, where));
  return parsed.data;
}
var init_validate = __esm({
  "hub/http/validate.ts"() {
    "use strict";
    init_fleetsync_error();
    init_json_error_offset();
  }
});

// hub/http/fleet-admin-routes.ts
import { Hono } from "hono";
import { z as z14 } from "zod";
function fleetAdminRoutes(ctx) {
  const app = new Hono();
  app.post("/devices/:id/approve", async (c) => c.json(await approveDevice(ctx, c.req.param("id"))));
  app.post("/devices/:id/deny", async (c) => c.json(await denyDevice(ctx, c.req.param("id"))));
  app.get("/metrics-tokens", async (c) => c.json({ tokens: await listMetricsTokens(ctx) }));
  app.post(
    "/metrics-tokens",
    async (c) => c.json(await createMetricsToken(ctx, await readJson(c, CreateMetricsTokenRequestSchema)), 201)
  );
  app.post(
    "/metrics-tokens/:id/revoke",
    async (c) => c.json(await revokeMetricsToken(ctx, c.req.param("id")))
  );
  app.get("/alerts", async (c) => c.json({ alerts: await listAlerts(ctx) }));
  app.post(
    "/alerts",
    async (c) => c.json(await addAlert(ctx, await readJson(c, AddAlertRequestSchema)), 201)
  );
  app.delete("/alerts/:id", async (c) => c.json(await removeAlert(ctx, c.req.param("id"))));
  return app;
}
var CreateMetricsTokenRequestSchema, AddAlertRequestSchema;
var init_fleet_admin_routes = __esm({
  "hub/http/fleet-admin-routes.ts"() {
    "use strict";
    init_alert_plan();
    init_alerts();
    init_approval();
    init_metrics_tokens();
    init_validate();
    CreateMetricsTokenRequestSchema = z14.strictObject({ label: z14.string().max(200).default("") });
    AddAlertRequestSchema = z14.strictObject({
      url: z14.string().min(1).max(2e3),
      on: z14.array(z14.enum(ALERT_KINDS)).min(1).max(ALERT_KINDS.length).optional(),
      offlineAfter: z14.string().max(20).optional()
    });
  }
});

// hub/http/admin-routes.ts
import { Hono as Hono2 } from "hono";
import { z as z15 } from "zod";
function adminRoutes(ctx) {
  const app = new Hono2();
  app.use(async (c, next) => {
    await authenticateAdmin(ctx, c.req.header("authorization"));
    await next();
  });
  app.get("/shares", async (c) => c.json({ shares: await listShares(ctx) }));
  app.post(
    "/shares",
    async (c) => c.json(await createShare(ctx, await readJson(c, CreateShareRequestSchema)), 201)
  );
  app.get("/shares/:name", async (c) => c.json(await showShare(ctx, c.req.param("name"))));
  app.patch("/shares/:name", async (c) => {
    const { pihole } = await readJson(c, SetShareRequestSchema);
    return c.json(await setPiholeItems(ctx, c.req.param("name"), pihole));
  });
  app.delete("/shares/:name", async (c) => c.json(await deleteShare(ctx, c.req.param("name"))));
  app.post(
    "/shares/:name/confirm-delete",
    async (c) => c.json(await confirmMassDelete(ctx, c.req.param("name")))
  );
  app.get("/devices", async (c) => c.json({ devices: await listDevices(ctx) }));
  app.patch("/devices/:id", async (c) => {
    const { name } = await readJson(c, RenameDeviceRequestSchema);
    return c.json(await renameDevice(ctx, c.req.param("id"), name));
  });
  app.delete("/devices/:id", async (c) => c.json(await removeDevice(ctx, c.req.param("id"))));
  app.post("/devices/:id/revoke", async (c) => c.json(await revokeDevice(ctx, c.req.param("id"))));
  app.get("/tokens", async (c) => c.json({ tokens: await listTokens(ctx) }));
  app.post("/tokens", async (c) => {
    const body = await readJson(c, CreateTokenRequestSchema);
    const ttlMs = parseDurationMs(body.ttl);
    if (ttlMs === void 0) throw new FleetsyncError("invalid", 'body field "ttl": not a duration');
    return c.json(
      await createEnrolmentToken(ctx, {
        shares: body.shares,
        ttlSeconds: Math.ceil(ttlMs / 1e3),
        label: body.label,
        approval: body.approval
      }),
      201
    );
  });
  app.post("/tokens/:jti/revoke", async (c) => c.json(await revokeToken(ctx, c.req.param("jti"))));
  app.post("/gc", async (c) => {
    const query = validate(
      z15.object({ graceSeconds: z15.coerce.number().int().min(0).optional() }),
      c.req.query(),
      "query"
    );
    return c.json(
      await collectGarbage(ctx, query.graceSeconds === void 0 ? void 0 : query.graceSeconds * 1e3)
    );
  });
  app.route("/", fleetAdminRoutes(ctx));
  app.all("*", (c) => {
    throw new FleetsyncError("not_found", `no route for ${c.req.method} ${c.req.path}`);
  });
  return app;
}
var CreateShareRequestSchema, SetShareRequestSchema, RenameDeviceRequestSchema, MAX_TOKEN_TTL_MS, CreateTokenRequestSchema;
var init_admin_routes = __esm({
  "hub/http/admin-routes.ts"() {
    "use strict";
    init_fleetsync_error();
    init_pihole_items();
    init_shares();
    init_parse_duration();
    init_authenticate();
    init_collect_garbage();
    init_devices();
    init_enrolment();
    init_mass_delete_guard();
    init_shares2();
    init_fleet_admin_routes();
    init_validate();
    CreateShareRequestSchema = z15.strictObject({
      name: ShareNameSchema,
      kind: z15.enum(SHARE_KINDS).default("folder"),
      deletes: z15.enum(DELETE_POLICIES).default("propagate"),
      conflicts: z15.enum(CONFLICT_POLICIES).default("keep-both"),
      approval: z15.enum(["none", "required"]).default("none"),
      pihole: PiholeItemsSchema.optional()
    });
    SetShareRequestSchema = z15.strictObject({ pihole: PiholeItemsChangeSchema });
    RenameDeviceRequestSchema = z15.strictObject({ name: z15.string().trim().min(1).max(128) });
    MAX_TOKEN_TTL_MS = 365 * 864e5;
    CreateTokenRequestSchema = z15.strictObject({
      shares: z15.array(ShareGrantSchema).min(1).max(50),
      ttl: z15.string().default("24h").refine(
        (t) => (parseDurationMs(t) ?? Infinity) <= MAX_TOKEN_TTL_MS,
        "use a duration such as 30m, 24h or 7d, at most 365d"
      ),
      label: z15.string().max(200).default(""),
      approval: z15.boolean().default(false)
    });
  }
});

// hub/http/dashboard/dashboard-assets.ts
var DASHBOARD_CSS, DASHBOARD_JS;
var init_dashboard_assets = __esm({
  "hub/http/dashboard/dashboard-assets.ts"() {
    "use strict";
    DASHBOARD_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #5c6670; --line: #d8dee4; --bad: #b42318;
  --warn: #9a6700; --ok: #1a7f37; --chip: #eef1f4; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --line: #30363d;
  --bad: #ff7b72; --warn: #d29922; --ok: #3fb950; --chip: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; margin-right: auto; }
header a { color: inherit; }
header form { margin: 0; }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
a { color: #0969da; }
.table { overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 999px; background: var(--chip); white-space: nowrap; font-size: .85rem; }
.status-erroring, .status-failed, .status-denied, .status-revoked { color: var(--bad); font-weight: 600; }
.status-offline, .status-behind, .status-pending, .status-partial, .status-dry-run { color: var(--warn); font-weight: 600; }
.status-up-to-date, .status-ok, .status-active, .status-online { color: var(--ok); }
.error { color: var(--bad); }
.muted { color: var(--muted); }
.banner { padding: .6rem .8rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid var(--line); }
.banner.bad { border-color: var(--bad); color: var(--bad); }
.banner.ok { border-color: var(--ok); }
pre, code { font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { white-space: pre-wrap; word-break: break-all; background: var(--chip); padding: .6rem; border-radius: 6px; }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
input, select, button { font: inherit; padding: .35rem .55rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; background: var(--chip); }
button.danger { color: var(--bad); }
label { display: inline-flex; gap: .35rem; align-items: center; }
.grid { display: grid; gap: .6rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); }
.grid label { min-width: 0; }
.grid label input:not([type="checkbox"]), .grid label select { flex: 1; min-width: 0; width: 100%; }
details { margin: .2rem 0; }
#live { font-size: .8rem; }
@media (max-width: 40rem) { main { padding: .6rem; } th, td { padding: .35rem .4rem; } }
`;
    DASHBOARD_JS = `
(() => {
  const live = document.getElementById("live");
  const main = () => document.getElementById("main");
  let busy = false;
  let again = false;
  async function refresh() {
    const current = main();
    if (!current || current.dataset.keep === "true") return;
    const focused = document.activeElement;
    if (focused && current.contains(focused) && /^(INPUT|SELECT|TEXTAREA)$/.test(focused.tagName)) {
      again = true;
      setTimeout(refresh, 3000);
      return;
    }
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(location.pathname + location.search, { credentials: "same-origin" });
      if (new URL(response.url).pathname === "/login") { location.assign("/login"); return; }
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("main");
      if (next) {
        current.replaceWith(next);
        document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
      }
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const events = new EventSource("/events");
  events.addEventListener("open", () => { if (live) live.textContent = "\u25CF live"; });
  // The hub ends each stream after a while and the browser reconnects at once: only a closed one is news.
  events.addEventListener("error", () => {
    if (live && events.readyState === EventSource.CLOSED) live.textContent = "\u25CB not live (reload the page)";
  });
  events.addEventListener("change", refresh);
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    navigator.clipboard && navigator.clipboard.writeText(button.dataset.copy).then(() => { button.textContent = "copied"; });
  });
})();
`;
  }
});

// hub/services/device-presence.ts
function isOnline(lastSeenAt, nowMs) {
  return lastSeenAt !== null && nowMs - lastSeenAt <= ONLINE_WINDOW_MS;
}
var ONLINE_WINDOW_MS;
var init_device_presence = __esm({
  "hub/services/device-presence.ts"() {
    "use strict";
    ONLINE_WINDOW_MS = 9e4;
  }
});

// hub/services/dashboard-member-status.ts
function memberStatus(facts, nowMs) {
  if (facts.revoked || facts.approval === "denied") return "revoked";
  if (facts.approval === "pending") return "pending";
  if (facts.lastError) return "erroring";
  if (!isOnline(facts.lastSeenAt, nowMs)) return "offline";
  if (facts.lag <= 0) return "up to date";
  const recentlyApplied = facts.lastApplyAt !== null && nowMs - facts.lastApplyAt <= SYNCING_WINDOW_MS;
  return recentlyApplied || facts.hasPendingInstruction ? "syncing" : "behind";
}
function statusRank(status) {
  return MEMBER_STATUSES.indexOf(status);
}
var MEMBER_STATUSES, SYNCING_WINDOW_MS;
var init_dashboard_member_status = __esm({
  "hub/services/dashboard-member-status.ts"() {
    "use strict";
    init_device_presence();
    MEMBER_STATUSES = [
      "erroring",
      "offline",
      "behind",
      "pending",
      "syncing",
      "up to date",
      "revoked"
    ];
    SYNCING_WINDOW_MS = 6e4;
  }
});

// hub/services/member-lags.ts
import { and as and9, count as count3, eq as eq12, gt as gt3, ne as ne5, sql as sql7 } from "drizzle-orm";
async function memberLags(ctx) {
  const rows = await ctx.db.select({
    share: members.share,
    deviceId: members.deviceId,
    files: count3(entries.path),
    bytes: sql7`coalesce(sum(case when ${entries.type} = 'file' then ${entries.size} else 0 end), 0)`
  }).from(members).innerJoin(entries, and9(eq12(entries.share, members.share), gt3(entries.seq, members.cursor))).where(ne5(members.role, "source")).groupBy(members.share, members.deviceId);
  return new Map(
    rows.map((r) => [`${r.share}\0${r.deviceId}`, { files: r.files, bytes: Number(r.bytes) }])
  );
}
var init_member_lags = __esm({
  "hub/services/member-lags.ts"() {
    "use strict";
    init_schema();
  }
});

// hub/services/dashboard-members.ts
import { count as count4, eq as eq13 } from "drizzle-orm";
async function readMembers(ctx, share) {
  const nowMs = ctx.now();
  const rows = await ctx.db.select({ member: members, device: devices, head: shares.headSeq }).from(members).innerJoin(devices, eq13(devices.id, members.deviceId)).innerJoin(shares, eq13(shares.name, members.share)).where(share === void 0 ? void 0 : eq13(members.share, share));
  const lags = await memberLags(ctx);
  const pending = await ctx.db.select({ share: instructions.share, deviceId: instructions.deviceId, n: count4() }).from(instructions).where(eq13(instructions.status, "pending")).groupBy(instructions.share, instructions.deviceId);
  const hasPending = new Set(pending.map((p) => `${p.share}\0${p.deviceId}`));
  const views = rows.map(({ member, device, head }) => {
    const key = `${member.share}\0${member.deviceId}`;
    const isSource = member.role === "source";
    const lagOperations = isSource ? 0 : Math.max(0, head - member.cursor);
    return {
      share: member.share,
      deviceId: device.id,
      deviceName: device.name,
      role: member.role,
      cursor: isSource ? head : member.cursor,
      head,
      lagOperations,
      lagFiles: isSource ? 0 : lags.get(key)?.files ?? 0,
      lagBytes: isSource ? 0 : lags.get(key)?.bytes ?? 0,
      lastSeenAt: device.lastSeenAt,
      lastApplyAt: member.lastApplyAt,
      lastReportAt: member.lastReportAt,
      lastError: member.lastError,
      dryRun: member.dryRun,
      online: isOnline(device.lastSeenAt, nowMs),
      status: memberStatus(
        {
          role: member.role,
          lag: lagOperations,
          lastError: member.lastError,
          lastSeenAt: device.lastSeenAt,
          lastApplyAt: member.lastApplyAt,
          revoked: device.revokedAt !== null,
          approval: device.approval,
          hasPendingInstruction: hasPending.has(key)
        },
        nowMs
      )
    };
  });
  return views.sort(
    (a, b) => statusRank(a.status) - statusRank(b.status) || a.share.localeCompare(b.share) || a.deviceName.localeCompare(b.deviceName)
  );
}
var init_dashboard_members = __esm({
  "hub/services/dashboard-members.ts"() {
    "use strict";
    init_schema();
    init_dashboard_member_status();
    init_device_presence();
    init_member_lags();
  }
});

// hub/services/dashboard-fleet.ts
import { and as and10, count as count5, desc as desc5, eq as eq14, isNull as isNull5 } from "drizzle-orm";
function deviceState(row) {
  if (row.revokedAt !== null) return "revoked";
  return row.approval === "approved" ? "active" : row.approval;
}
async function readFleet(ctx) {
  const nowMs = ctx.now();
  const shareRows = await ctx.db.select().from(shares).orderBy(shares.name);
  const memberViews = await readMembers(ctx);
  const deviceRows = await ctx.db.select().from(devices).orderBy(desc5(devices.createdAt));
  const byShare = /* @__PURE__ */ new Map();
  for (const m of memberViews) byShare.set(m.share, [...byShare.get(m.share) ?? [], m]);
  const shareViews = shareRows.map((s) => {
    const list = byShare.get(s.name) ?? [];
    const counts = Object.fromEntries(MEMBER_STATUSES.map((st) => [st, 0]));
    for (const m of list) counts[m.status] += 1;
    const worst = list.reduce(
      (w, m) => statusRank(m.status) < statusRank(w) ? m.status : w,
      "up to date"
    );
    return {
      name: s.name,
      kind: s.kind,
      head: s.headSeq,
      approval: s.approval,
      members: list.length,
      counts,
      worst
    };
  }).sort((a, b) => statusRank(a.worst) - statusRank(b.worst) || a.name.localeCompare(b.name));
  const deviceViews = deviceRows.map((d) => {
    const state = deviceState(d);
    const mine = memberViews.filter((m) => m.deviceId === d.id);
    const own = state === "pending" ? "pending" : state === "active" ? isOnline(d.lastSeenAt, nowMs) ? "up to date" : "offline" : "revoked";
    const worst = mine.reduce(
      (w, m) => statusRank(m.status) < statusRank(w) ? m.status : w,
      own
    );
    return {
      id: d.id,
      name: d.name,
      state,
      online: (state === "active" || state === "pending") && isOnline(d.lastSeenAt, nowMs),
      lastSeenAt: d.lastSeenAt,
      agentVersion: d.agentVersion,
      enrolledAt: d.createdAt,
      shares: mine.map((m) => ({ name: m.share, role: m.role, status: m.status, lastError: m.lastError })),
      worst
    };
  }).sort((a, b) => statusRank(a.worst) - statusRank(b.worst) || a.name.localeCompare(b.name));
  return { shares: shareViews, devices: deviceViews, nowMs };
}
async function countPendingDevices(ctx) {
  const [row] = await ctx.db.select({ n: count5() }).from(devices).where(and10(eq14(devices.approval, "pending"), isNull5(devices.revokedAt)));
  return row?.n ?? 0;
}
var init_dashboard_fleet = __esm({
  "hub/services/dashboard-fleet.ts"() {
    "use strict";
    init_schema();
    init_dashboard_member_status();
    init_dashboard_members();
    init_device_presence();
  }
});

// hub/services/dashboard-device.ts
import { desc as desc6, eq as eq15 } from "drizzle-orm";
async function readDeviceDetail(ctx, id) {
  const [device] = await ctx.db.select().from(devices).where(eq15(devices.id, id));
  if (!device) throw new FleetsyncError("not_found", `no device with id ${id}; see fleetsync device list`);
  const memberViews = (await readMembers(ctx)).filter((m) => m.deviceId === id);
  const runs = await ctx.db.select().from(syncRuns).where(eq15(syncRuns.deviceId, id)).orderBy(desc6(syncRuns.id)).limit(30);
  const audit = await ctx.db.select().from(auditEvents).where(eq15(auditEvents.target, id)).orderBy(desc6(auditEvents.id)).limit(30);
  return {
    device: {
      id: device.id,
      name: device.name,
      state: deviceState(device),
      online: device.revokedAt === null && device.approval !== "denied" && isOnline(device.lastSeenAt, ctx.now()),
      agentVersion: device.agentVersion,
      lastSeenAt: device.lastSeenAt,
      enrolledAt: device.createdAt,
      revokedAt: device.revokedAt
    },
    shares: memberViews,
    runs,
    errors: runs.filter((r) => r.result !== "ok"),
    audit
  };
}
var init_dashboard_device = __esm({
  "hub/services/dashboard-device.ts"() {
    "use strict";
    init_fleetsync_error();
    init_schema();
    init_dashboard_fleet();
    init_dashboard_members();
    init_device_presence();
  }
});

// hub/services/dashboard-share.ts
import { and as and11, desc as desc7, eq as eq16, inArray as inArray5, like as like2, or } from "drizzle-orm";
async function readShareDetail(ctx, name) {
  const [share] = await ctx.db.select().from(shares).where(eq16(shares.name, name));
  if (!share)
    throw new FleetsyncError("not_found", `share "${name}" does not exist; see fleetsync share list`);
  const memberViews = await readMembers(ctx, name);
  const changes = await ctx.db.select({
    path: entries.path,
    seq: entries.seq,
    type: entries.type,
    size: entries.size,
    deviceId: entries.deviceId,
    updatedAt: entries.updatedAt
  }).from(entries).where(eq16(entries.share, name)).orderBy(desc7(entries.seq)).limit(RECENT_CHANGES);
  const runs = await ctx.db.select({ run: syncRuns, deviceName: devices.name }).from(syncRuns).leftJoin(devices, eq16(devices.id, syncRuns.deviceId)).where(eq16(syncRuns.share, name)).orderBy(desc7(syncRuns.id)).limit(RECENT_RUNS2);
  const runIds = runs.map((r) => r.run.id);
  const ops = runIds.length === 0 ? [] : await ctx.db.select().from(syncOps).where(inArray5(syncOps.runId, runIds)).orderBy(syncOps.id);
  const opsByRun = /* @__PURE__ */ new Map();
  for (const op of ops) opsByRun.set(op.runId, [...opsByRun.get(op.runId) ?? [], op]);
  const conflicts = await ctx.db.select({ op: syncOps, at: syncRuns.at, deviceId: syncRuns.deviceId }).from(syncOps).innerJoin(syncRuns, eq16(syncRuns.id, syncOps.runId)).where(
    and11(
      eq16(syncRuns.share, name),
      or(like2(syncOps.action, "%conflict%"), like2(syncOps.path, "%.sync-conflict-%"))
    )
  ).orderBy(desc7(syncOps.id)).limit(50);
  return {
    share,
    piholeItems: piholeItemsOf(share),
    members: memberViews,
    changes,
    runs: runs.map(({ run: run2, deviceName }) => {
      const list = opsByRun.get(run2.id) ?? [];
      return {
        ...run2,
        deviceName,
        ops: list.slice(0, OPS_PER_RUN),
        moreOps: Math.max(0, list.length - OPS_PER_RUN)
      };
    }),
    conflicts: conflicts.map((c) => ({
      path: c.op.path,
      action: c.op.action,
      at: c.at,
      deviceId: c.deviceId
    }))
  };
}
var RECENT_CHANGES, RECENT_RUNS2, OPS_PER_RUN;
var init_dashboard_share = __esm({
  "hub/services/dashboard-share.ts"() {
    "use strict";
    init_fleetsync_error();
    init_schema();
    init_dashboard_members();
    init_shares2();
    RECENT_CHANGES = 25;
    RECENT_RUNS2 = 20;
    OPS_PER_RUN = 50;
  }
});

// hub/http/dashboard/layout.tsx
import { Fragment, jsx, jsxs } from "hono/jsx/jsx-runtime";
function Layout(props) {
  return /* @__PURE__ */ jsxs("html", { lang: "en", children: [
    /* @__PURE__ */ jsxs("head", { children: [
      /* @__PURE__ */ jsx("meta", { charset: "utf-8" }),
      /* @__PURE__ */ jsx("meta", { name: "viewport", content: "width=device-width, initial-scale=1" }),
      /* @__PURE__ */ jsx("title", { children: `${props.title} \xB7 fleetsync` }),
      /* @__PURE__ */ jsx("link", { rel: "stylesheet", href: "/assets/dashboard.css" }),
      props.loggedIn && !props.keep ? /* @__PURE__ */ jsx("noscript", { children: /* @__PURE__ */ jsx("meta", { "http-equiv": "refresh", content: "30" }) }) : null
    ] }),
    /* @__PURE__ */ jsxs("body", { children: [
      /* @__PURE__ */ jsxs("header", { children: [
        /* @__PURE__ */ jsx("span", { class: "brand", children: "fleetsync" }),
        props.loggedIn ? /* @__PURE__ */ jsxs(Fragment, { children: [
          /* @__PURE__ */ jsxs("nav", { class: "actions", children: [
            /* @__PURE__ */ jsx("a", { href: "/", children: "Fleet" }),
            /* @__PURE__ */ jsxs("a", { href: "/pending", children: [
              "Pending",
              props.pendingCount ? ` (${props.pendingCount})` : ""
            ] }),
            /* @__PURE__ */ jsx("a", { href: "/tokens", children: "Tokens" })
          ] }),
          /* @__PURE__ */ jsx("span", { id: "live", class: "muted", children: "\u25CB not live" }),
          /* @__PURE__ */ jsx("form", { method: "post", action: "/logout", children: /* @__PURE__ */ jsx("button", { type: "submit", children: "Log out" }) })
        ] }) : null
      ] }),
      /* @__PURE__ */ jsx("main", { id: "main", "data-keep": props.keep ? "true" : "false", children: props.children }),
      props.loggedIn ? /* @__PURE__ */ jsx("script", { src: "/assets/dashboard.js", defer: true }) : null
    ] })
  ] });
}
function Notice(props) {
  if (!props.text) return null;
  return /* @__PURE__ */ jsx("p", { class: `banner ${props.bad ? "bad" : "ok"}`, role: props.bad ? "alert" : "status", children: props.text });
}
var init_layout = __esm({
  "hub/http/dashboard/layout.tsx"() {
    "use strict";
  }
});

// hub/http/dashboard/pages/error-page.tsx
import { Fragment as Fragment2, jsx as jsx2, jsxs as jsxs2 } from "hono/jsx/jsx-runtime";
function ErrorPage(props) {
  return /* @__PURE__ */ jsxs2(Fragment2, { children: [
    /* @__PURE__ */ jsx2("h1", { children: "That did not work" }),
    /* @__PURE__ */ jsx2(Notice, { text: props.message, bad: true }),
    /* @__PURE__ */ jsx2("p", { children: /* @__PURE__ */ jsx2("a", { href: props.back, children: "Back" }) })
  ] });
}
var init_error_page = __esm({
  "hub/http/dashboard/pages/error-page.tsx"() {
    "use strict";
    init_layout();
  }
});

// hub/http/dashboard/page-renderer.tsx
import { jsx as jsx3, jsxs as jsxs3 } from "hono/jsx/jsx-runtime";
function field(form, name) {
  const value = form[name];
  return typeof value === "string" ? value : "";
}
function localPath(path, fallback) {
  return path.startsWith("/") && !path.startsWith("//") ? path : fallback;
}
function createPageRenderer(ctx) {
  function publicPage(c, title, body, status = 200) {
    const html = /* @__PURE__ */ jsx3(Layout, { title, children: body });
    return c.html(`<!doctype html>${html}`, status, SECURITY_HEADERS);
  }
  async function page(c, title, body, options = {}) {
    const pendingCount = await countPendingDevices(ctx);
    const html = /* @__PURE__ */ jsxs3(Layout, { title, loggedIn: true, pendingCount, keep: options.keep, children: [
      /* @__PURE__ */ jsx3(Notice, { text: c.req.query("notice") }),
      body
    ] });
    return c.html(`<!doctype html>${html}`, options.status ?? 200, SECURITY_HEADERS);
  }
  function refusal(c, error, back) {
    return page(c, "Refused", /* @__PURE__ */ jsx3(ErrorPage, { message: error.message, back }), { status: error.status });
  }
  async function pageOrRefusal(c, back, load) {
    try {
      const { title, body } = await load();
      return await page(c, title, body);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return refusal(c, error, back);
    }
  }
  async function act(c, back, action) {
    try {
      const notice = await action();
      return c.redirect(`${back}${back.includes("?") ? "&" : "?"}notice=${encodeURIComponent(notice)}`, 303);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return refusal(c, error, back);
    }
  }
  return { publicPage, page, refusal, pageOrRefusal, act };
}
var SECURITY_HEADERS;
var init_page_renderer = __esm({
  "hub/http/dashboard/page-renderer.tsx"() {
    "use strict";
    init_fleetsync_error();
    init_dashboard_fleet();
    init_layout();
    init_error_page();
    SECURITY_HEADERS = {
      "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store"
    };
  }
});

// hub/http/dashboard/format.ts
function formatBytes2(bytes2) {
  if (bytes2 < 1024) return `${bytes2} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes2 / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
function formatAgo(atMs, nowMs) {
  if (atMs === null) return "never";
  const seconds = Math.max(0, Math.round((nowMs - atMs) / 1e3));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}
function isoOrEmpty(atMs) {
  return atMs === null ? "" : new Date(atMs).toISOString();
}
function statusClass(status) {
  return `status status-${status.replaceAll(" ", "-")}`;
}
var init_format = __esm({
  "hub/http/dashboard/format.ts"() {
    "use strict";
  }
});

// hub/http/dashboard/pages/device-page.tsx
import { Fragment as Fragment3, jsx as jsx4, jsxs as jsxs4 } from "hono/jsx/jsx-runtime";
function DevicePage(props) {
  const { device, shares: shares2, runs, errors: errors4, audit } = props.detail;
  const now = props.nowMs;
  const base = `/devices/${encodeURIComponent(device.id)}`;
  return /* @__PURE__ */ jsxs4(Fragment3, { children: [
    /* @__PURE__ */ jsxs4("h1", { children: [
      "Device ",
      device.name,
      " ",
      /* @__PURE__ */ jsx4("span", { class: statusClass(device.state), children: device.state }),
      " ",
      /* @__PURE__ */ jsx4("span", { class: statusClass(device.online ? "online" : "offline"), children: device.online ? "online" : "offline" })
    ] }),
    /* @__PURE__ */ jsxs4("p", { children: [
      /* @__PURE__ */ jsx4("code", { children: device.id }),
      " \xB7 agent ",
      device.agentVersion ?? "version not reported",
      " \xB7 enrolled",
      " ",
      formatAgo(device.enrolledAt, now),
      " \xB7 last seen ",
      formatAgo(device.lastSeenAt, now)
    ] }),
    /* @__PURE__ */ jsxs4("div", { class: "actions", children: [
      device.state === "pending" ? /* @__PURE__ */ jsxs4(Fragment3, { children: [
        /* @__PURE__ */ jsx4("form", { class: "inline", method: "post", action: `${base}/approve`, children: /* @__PURE__ */ jsx4("button", { type: "submit", children: "Approve" }) }),
        /* @__PURE__ */ jsx4("form", { class: "inline", method: "post", action: `${base}/deny`, children: /* @__PURE__ */ jsx4("button", { type: "submit", class: "danger", children: "Deny" }) })
      ] }) : null,
      /* @__PURE__ */ jsxs4("form", { class: "inline", method: "post", action: `${base}/rename`, children: [
        /* @__PURE__ */ jsxs4("label", { children: [
          "name ",
          /* @__PURE__ */ jsx4("input", { name: "name", value: device.name, maxlength: 128, required: true })
        ] }),
        " ",
        /* @__PURE__ */ jsx4("button", { type: "submit", children: "Rename" })
      ] }),
      device.state === "active" || device.state === "pending" ? /* @__PURE__ */ jsx4("form", { class: "inline", method: "post", action: `${base}/revoke`, children: /* @__PURE__ */ jsx4("button", { type: "submit", class: "danger", children: "Revoke" }) }) : null,
      /* @__PURE__ */ jsx4("form", { class: "inline", method: "post", action: `${base}/remove`, children: /* @__PURE__ */ jsx4("button", { type: "submit", class: "danger", children: "Remove" }) })
    ] }),
    /* @__PURE__ */ jsx4("h2", { children: "Shares" }),
    shares2.length === 0 ? /* @__PURE__ */ jsx4("p", { class: "muted", children: "Member of no share." }) : /* @__PURE__ */ jsx4("div", { class: "table", children: /* @__PURE__ */ jsxs4("table", { children: [
      /* @__PURE__ */ jsx4("thead", { children: /* @__PURE__ */ jsxs4("tr", { children: [
        /* @__PURE__ */ jsx4("th", { children: "share" }),
        /* @__PURE__ */ jsx4("th", { children: "role" }),
        /* @__PURE__ */ jsx4("th", { children: "status" }),
        /* @__PURE__ */ jsx4("th", { children: "cursor / head" }),
        /* @__PURE__ */ jsx4("th", { children: "last error" })
      ] }) }),
      /* @__PURE__ */ jsx4("tbody", { children: shares2.map((m) => /* @__PURE__ */ jsxs4("tr", { children: [
        /* @__PURE__ */ jsx4("td", { children: /* @__PURE__ */ jsx4("a", { href: `/shares/${encodeURIComponent(m.share)}`, children: m.share }) }),
        /* @__PURE__ */ jsx4("td", { children: m.role }),
        /* @__PURE__ */ jsx4("td", { children: /* @__PURE__ */ jsx4("span", { class: statusClass(m.status), children: m.status }) }),
        /* @__PURE__ */ jsxs4("td", { children: [
          m.cursor,
          " / ",
          m.head
        ] }),
        /* @__PURE__ */ jsx4("td", { class: "error", children: m.lastError ?? "" })
      ] })) })
    ] }) }),
    /* @__PURE__ */ jsx4("h2", { children: "Errors" }),
    errors4.length === 0 ? /* @__PURE__ */ jsx4("p", { class: "muted", children: "No failed runs recorded." }) : /* @__PURE__ */ jsx4("ul", { children: errors4.map((r) => /* @__PURE__ */ jsxs4("li", { class: "error", children: [
      r.share,
      ", ",
      formatAgo(r.at, now),
      ": ",
      r.error ?? r.result
    ] })) }),
    /* @__PURE__ */ jsx4("h2", { children: "History" }),
    /* @__PURE__ */ jsx4("div", { class: "table", children: /* @__PURE__ */ jsxs4("table", { children: [
      /* @__PURE__ */ jsx4("thead", { children: /* @__PURE__ */ jsxs4("tr", { children: [
        /* @__PURE__ */ jsx4("th", { children: "when" }),
        /* @__PURE__ */ jsx4("th", { children: "share" }),
        /* @__PURE__ */ jsx4("th", { children: "kind" }),
        /* @__PURE__ */ jsx4("th", { children: "seq" }),
        /* @__PURE__ */ jsx4("th", { children: "files" }),
        /* @__PURE__ */ jsx4("th", { children: "result" })
      ] }) }),
      /* @__PURE__ */ jsxs4("tbody", { children: [
        runs.map((r) => /* @__PURE__ */ jsxs4("tr", { children: [
          /* @__PURE__ */ jsx4("td", { children: formatAgo(r.at, now) }),
          /* @__PURE__ */ jsx4("td", { children: r.share }),
          /* @__PURE__ */ jsx4("td", { children: r.kind === "dry-run" ? "dry run" : r.kind }),
          /* @__PURE__ */ jsxs4("td", { children: [
            r.fromSeq,
            "\u2013",
            r.toSeq
          ] }),
          /* @__PURE__ */ jsxs4("td", { children: [
            r.files,
            " (",
            formatBytes2(r.bytes),
            ")"
          ] }),
          /* @__PURE__ */ jsx4("td", { children: /* @__PURE__ */ jsx4("span", { class: statusClass(r.result), children: r.result }) })
        ] })),
        audit.map((a) => /* @__PURE__ */ jsxs4("tr", { children: [
          /* @__PURE__ */ jsx4("td", { children: formatAgo(a.at, now) }),
          /* @__PURE__ */ jsxs4("td", { colspan: 5, children: [
            a.action,
            " by ",
            a.actor
          ] })
        ] }))
      ] })
    ] }) })
  ] });
}
var init_device_page = __esm({
  "hub/http/dashboard/pages/device-page.tsx"() {
    "use strict";
    init_format();
  }
});

// hub/http/dashboard/pages/fleet-page.tsx
import { Fragment as Fragment4, jsx as jsx5, jsxs as jsxs5 } from "hono/jsx/jsx-runtime";
function FleetPage(props) {
  const { shares: shares2, devices: devices2, nowMs } = props.fleet;
  return /* @__PURE__ */ jsxs5(Fragment4, { children: [
    /* @__PURE__ */ jsx5("h1", { children: "Fleet" }),
    /* @__PURE__ */ jsx5("h2", { children: "Shares" }),
    shares2.length === 0 ? /* @__PURE__ */ jsx5("p", { class: "muted", children: "No shares yet. Create one: fleetsync share create NAME" }) : /* @__PURE__ */ jsx5("div", { class: "table", children: /* @__PURE__ */ jsxs5("table", { children: [
      /* @__PURE__ */ jsx5("thead", { children: /* @__PURE__ */ jsxs5("tr", { children: [
        /* @__PURE__ */ jsx5("th", { children: "share" }),
        /* @__PURE__ */ jsx5("th", { children: "kind" }),
        /* @__PURE__ */ jsx5("th", { children: "head" }),
        /* @__PURE__ */ jsx5("th", { children: "members" }),
        COUNTED.map((s) => /* @__PURE__ */ jsx5("th", { children: s }))
      ] }) }),
      /* @__PURE__ */ jsx5("tbody", { children: shares2.map((s) => /* @__PURE__ */ jsxs5("tr", { "data-share": s.name, children: [
        /* @__PURE__ */ jsxs5("td", { children: [
          /* @__PURE__ */ jsx5("a", { href: `/shares/${encodeURIComponent(s.name)}`, children: s.name }),
          " ",
          /* @__PURE__ */ jsx5("span", { class: statusClass(s.worst), children: s.worst })
        ] }),
        /* @__PURE__ */ jsx5("td", { children: s.kind }),
        /* @__PURE__ */ jsx5("td", { "data-head": true, children: s.head }),
        /* @__PURE__ */ jsx5("td", { children: s.members }),
        COUNTED.map((st) => /* @__PURE__ */ jsx5(
          "td",
          {
            class: s.counts[st] > 0 && st !== "up to date" && st !== "syncing" ? statusClass(st) : "",
            children: s.counts[st]
          }
        ))
      ] })) })
    ] }) }),
    /* @__PURE__ */ jsx5("h2", { children: "Devices" }),
    devices2.length === 0 ? /* @__PURE__ */ jsx5("p", { class: "muted", children: "No devices yet. Mint a token on the Tokens page and run the enroll command on the device." }) : /* @__PURE__ */ jsx5("div", { class: "table", children: /* @__PURE__ */ jsxs5("table", { children: [
      /* @__PURE__ */ jsx5("thead", { children: /* @__PURE__ */ jsxs5("tr", { children: [
        /* @__PURE__ */ jsx5("th", { children: "device" }),
        /* @__PURE__ */ jsx5("th", { children: "state" }),
        /* @__PURE__ */ jsx5("th", { children: "online" }),
        /* @__PURE__ */ jsx5("th", { children: "last seen" }),
        /* @__PURE__ */ jsx5("th", { children: "version" }),
        /* @__PURE__ */ jsx5("th", { children: "shares" })
      ] }) }),
      /* @__PURE__ */ jsx5("tbody", { children: devices2.map((d) => /* @__PURE__ */ jsxs5("tr", { "data-device": d.id, children: [
        /* @__PURE__ */ jsxs5("td", { children: [
          /* @__PURE__ */ jsx5("a", { href: `/devices/${encodeURIComponent(d.id)}`, children: d.name }),
          /* @__PURE__ */ jsx5("div", { class: "muted", children: /* @__PURE__ */ jsx5("code", { children: d.id }) })
        ] }),
        /* @__PURE__ */ jsx5("td", { children: /* @__PURE__ */ jsx5("span", { class: statusClass(d.state), children: d.state }) }),
        /* @__PURE__ */ jsx5("td", { children: d.state === "revoked" || d.state === "denied" ? /* @__PURE__ */ jsx5("span", { class: "muted", children: "\u2014" }) : /* @__PURE__ */ jsx5("span", { class: statusClass(d.online ? "online" : "offline"), children: d.online ? "online" : "offline" }) }),
        /* @__PURE__ */ jsx5("td", { children: /* @__PURE__ */ jsx5("time", { datetime: isoOrEmpty(d.lastSeenAt), children: formatAgo(d.lastSeenAt, nowMs) }) }),
        /* @__PURE__ */ jsx5("td", { children: d.agentVersion ?? /* @__PURE__ */ jsx5("span", { class: "muted", children: "not reported" }) }),
        /* @__PURE__ */ jsx5("td", { children: d.shares.map((m) => /* @__PURE__ */ jsxs5("div", { children: [
          m.name,
          ":",
          m.role,
          " ",
          /* @__PURE__ */ jsx5("span", { class: statusClass(m.status), children: m.status }),
          m.lastError ? /* @__PURE__ */ jsx5("div", { class: "error", children: m.lastError }) : null
        ] })) })
      ] })) })
    ] }) })
  ] });
}
var COUNTED;
var init_fleet_page = __esm({
  "hub/http/dashboard/pages/fleet-page.tsx"() {
    "use strict";
    init_format();
    COUNTED = ["up to date", "syncing", "behind", "erroring", "offline", "pending"];
  }
});

// hub/http/dashboard/pages/pending-page.tsx
import { Fragment as Fragment5, jsx as jsx6, jsxs as jsxs6 } from "hono/jsx/jsx-runtime";
function PendingPage(props) {
  return /* @__PURE__ */ jsxs6(Fragment5, { children: [
    /* @__PURE__ */ jsx6("h1", { children: "Pending devices" }),
    props.devices.length === 0 ? /* @__PURE__ */ jsx6("p", { class: "muted", children: "No device is waiting. Tokens minted with approval (or shares created with approval required) put new devices here." }) : /* @__PURE__ */ jsx6("div", { class: "table", children: /* @__PURE__ */ jsxs6("table", { children: [
      /* @__PURE__ */ jsx6("thead", { children: /* @__PURE__ */ jsxs6("tr", { children: [
        /* @__PURE__ */ jsx6("th", { children: "device" }),
        /* @__PURE__ */ jsx6("th", { children: "enrolled" }),
        /* @__PURE__ */ jsx6("th", { children: "last seen" }),
        /* @__PURE__ */ jsx6("th", { children: "shares" }),
        /* @__PURE__ */ jsx6("th", { children: "decide" })
      ] }) }),
      /* @__PURE__ */ jsx6("tbody", { children: props.devices.map((d) => /* @__PURE__ */ jsxs6("tr", { "data-device": d.id, children: [
        /* @__PURE__ */ jsxs6("td", { children: [
          /* @__PURE__ */ jsx6("a", { href: `/devices/${encodeURIComponent(d.id)}`, children: d.name }),
          /* @__PURE__ */ jsx6("div", { class: "muted", children: /* @__PURE__ */ jsx6("code", { children: d.id }) })
        ] }),
        /* @__PURE__ */ jsx6("td", { children: formatAgo(d.enrolledAt, props.nowMs) }),
        /* @__PURE__ */ jsx6("td", { children: formatAgo(d.lastSeenAt, props.nowMs) }),
        /* @__PURE__ */ jsx6("td", { children: d.shares.map((s) => `${s.name}:${s.role}`).join(", ") }),
        /* @__PURE__ */ jsxs6("td", { class: "actions", children: [
          /* @__PURE__ */ jsxs6(
            "form",
            {
              class: "inline",
              method: "post",
              action: `/devices/${encodeURIComponent(d.id)}/approve`,
              children: [
                /* @__PURE__ */ jsx6("input", { type: "hidden", name: "back", value: "/pending" }),
                /* @__PURE__ */ jsx6("button", { type: "submit", children: "Approve" })
              ]
            }
          ),
          /* @__PURE__ */ jsxs6("form", { class: "inline", method: "post", action: `/devices/${encodeURIComponent(d.id)}/deny`, children: [
            /* @__PURE__ */ jsx6("input", { type: "hidden", name: "back", value: "/pending" }),
            /* @__PURE__ */ jsx6("button", { type: "submit", class: "danger", children: "Deny" })
          ] })
        ] })
      ] })) })
    ] }) })
  ] });
}
var init_pending_page = __esm({
  "hub/http/dashboard/pages/pending-page.tsx"() {
    "use strict";
    init_format();
  }
});

// hub/http/dashboard/pages/share-page.tsx
import { Fragment as Fragment6, jsx as jsx7, jsxs as jsxs7 } from "hono/jsx/jsx-runtime";
function SharePage(props) {
  const { share, piholeItems, members: members2, changes, runs, conflicts } = props.detail;
  const now = props.nowMs;
  return /* @__PURE__ */ jsxs7(Fragment6, { children: [
    /* @__PURE__ */ jsxs7("h1", { children: [
      "Share ",
      share.name,
      " ",
      /* @__PURE__ */ jsxs7("span", { class: "muted", children: [
        "(",
        share.kind,
        ")"
      ] })
    ] }),
    /* @__PURE__ */ jsxs7("p", { children: [
      "head ",
      /* @__PURE__ */ jsx7("strong", { "data-head": true, children: share.headSeq }),
      " \xB7 deletes ",
      share.deletes,
      " \xB7 conflicts",
      " ",
      share.conflicts,
      " \xB7 approval ",
      share.approval
    ] }),
    piholeItems ? /* @__PURE__ */ jsxs7("p", { "data-pihole-items": true, children: [
      "syncs ",
      piholeItems.sync.join(", "),
      " \xB7 config keys",
      " ",
      piholeItems.config.length > 0 ? piholeItems.config.join(", ") : "none"
    ] }) : null,
    /* @__PURE__ */ jsx7("h2", { children: "Members" }),
    /* @__PURE__ */ jsx7("div", { class: "table", children: /* @__PURE__ */ jsxs7("table", { children: [
      /* @__PURE__ */ jsx7("thead", { children: /* @__PURE__ */ jsxs7("tr", { children: [
        /* @__PURE__ */ jsx7("th", { children: "device" }),
        /* @__PURE__ */ jsx7("th", { children: "role" }),
        /* @__PURE__ */ jsx7("th", { children: "status" }),
        /* @__PURE__ */ jsx7("th", { children: "cursor" }),
        /* @__PURE__ */ jsx7("th", { children: "lag" }),
        /* @__PURE__ */ jsx7("th", { children: "last applied" }),
        /* @__PURE__ */ jsx7("th", { children: "last seen" }),
        /* @__PURE__ */ jsx7("th", { children: "last error" })
      ] }) }),
      /* @__PURE__ */ jsx7("tbody", { children: members2.map((m) => /* @__PURE__ */ jsxs7("tr", { "data-member": m.deviceId, children: [
        /* @__PURE__ */ jsx7("td", { children: /* @__PURE__ */ jsx7("a", { href: `/devices/${encodeURIComponent(m.deviceId)}`, children: m.deviceName }) }),
        /* @__PURE__ */ jsxs7("td", { children: [
          m.role,
          m.dryRun ? " (dry run)" : ""
        ] }),
        /* @__PURE__ */ jsx7("td", { children: /* @__PURE__ */ jsx7("span", { class: statusClass(m.status), children: m.status }) }),
        /* @__PURE__ */ jsx7("td", { "data-cursor": true, children: m.cursor }),
        /* @__PURE__ */ jsx7("td", { children: m.role === "source" ? "\u2014" : `${m.lagOperations} ops, ${m.lagFiles} files, ${formatBytes2(m.lagBytes)}` }),
        /* @__PURE__ */ jsx7("td", { children: /* @__PURE__ */ jsx7("time", { datetime: isoOrEmpty(m.role === "source" ? m.lastReportAt : m.lastApplyAt), children: formatAgo(m.role === "source" ? m.lastReportAt : m.lastApplyAt, now) }) }),
        /* @__PURE__ */ jsx7("td", { children: formatAgo(m.lastSeenAt, now) }),
        /* @__PURE__ */ jsx7("td", { class: "error", children: m.lastError ?? "" })
      ] })) })
    ] }) }),
    members2.length === 0 ? /* @__PURE__ */ jsx7("p", { class: "muted", children: "No members yet: mint a token for this share." }) : null,
    /* @__PURE__ */ jsx7("h2", { children: "Recent changes" }),
    changes.length === 0 ? /* @__PURE__ */ jsx7("p", { class: "muted", children: "Nothing reported yet." }) : /* @__PURE__ */ jsx7("div", { class: "table", children: /* @__PURE__ */ jsxs7("table", { children: [
      /* @__PURE__ */ jsx7("thead", { children: /* @__PURE__ */ jsxs7("tr", { children: [
        /* @__PURE__ */ jsx7("th", { children: "seq" }),
        /* @__PURE__ */ jsx7("th", { children: "path" }),
        /* @__PURE__ */ jsx7("th", { children: "type" }),
        /* @__PURE__ */ jsx7("th", { children: "size" }),
        /* @__PURE__ */ jsx7("th", { children: "when" })
      ] }) }),
      /* @__PURE__ */ jsx7("tbody", { id: "changes", children: changes.map((e) => /* @__PURE__ */ jsxs7("tr", { "data-path": e.path, children: [
        /* @__PURE__ */ jsx7("td", { children: e.seq }),
        /* @__PURE__ */ jsx7("td", { children: /* @__PURE__ */ jsx7("code", { children: e.path }) }),
        /* @__PURE__ */ jsx7("td", { children: e.type }),
        /* @__PURE__ */ jsx7("td", { children: e.type === "file" ? formatBytes2(e.size) : "" }),
        /* @__PURE__ */ jsx7("td", { children: formatAgo(e.updatedAt, now) })
      ] })) })
    ] }) }),
    /* @__PURE__ */ jsx7("h2", { children: "Conflicts" }),
    conflicts.length === 0 ? /* @__PURE__ */ jsx7("p", { class: "muted", children: "None recorded." }) : /* @__PURE__ */ jsx7("ul", { children: conflicts.map((c) => /* @__PURE__ */ jsxs7("li", { children: [
      /* @__PURE__ */ jsx7("code", { children: c.path }),
      " (",
      c.action,
      ") on ",
      c.deviceId,
      ", ",
      formatAgo(c.at, now)
    ] })) }),
    /* @__PURE__ */ jsx7("h2", { children: "Sync runs" }),
    runs.length === 0 ? /* @__PURE__ */ jsx7("p", { class: "muted", children: "No sync runs yet." }) : /* @__PURE__ */ jsx7("div", { class: "table", children: /* @__PURE__ */ jsxs7("table", { children: [
      /* @__PURE__ */ jsx7("thead", { children: /* @__PURE__ */ jsxs7("tr", { children: [
        /* @__PURE__ */ jsx7("th", { children: "when" }),
        /* @__PURE__ */ jsx7("th", { children: "device" }),
        /* @__PURE__ */ jsx7("th", { children: "kind" }),
        /* @__PURE__ */ jsx7("th", { children: "seq" }),
        /* @__PURE__ */ jsx7("th", { children: "result" }),
        /* @__PURE__ */ jsx7("th", { children: "operations" })
      ] }) }),
      /* @__PURE__ */ jsx7("tbody", { children: runs.map((r) => /* @__PURE__ */ jsxs7("tr", { "data-run": r.id, children: [
        /* @__PURE__ */ jsx7("td", { children: formatAgo(r.at, now) }),
        /* @__PURE__ */ jsx7("td", { children: r.deviceName ?? r.deviceId }),
        /* @__PURE__ */ jsx7("td", { children: r.kind === "dry-run" ? /* @__PURE__ */ jsx7("span", { class: statusClass("dry-run"), children: "dry run" }) : r.kind }),
        /* @__PURE__ */ jsxs7("td", { children: [
          r.fromSeq,
          "\u2013",
          r.toSeq
        ] }),
        /* @__PURE__ */ jsxs7("td", { children: [
          /* @__PURE__ */ jsx7("span", { class: statusClass(r.result), children: r.result }),
          r.error ? /* @__PURE__ */ jsx7("div", { class: "error", children: r.error }) : null
        ] }),
        /* @__PURE__ */ jsx7("td", { children: /* @__PURE__ */ jsxs7("details", { children: [
          /* @__PURE__ */ jsxs7("summary", { children: [
            r.files,
            " (",
            formatBytes2(r.bytes),
            ")"
          ] }),
          /* @__PURE__ */ jsxs7("ul", { children: [
            r.ops.map((op) => /* @__PURE__ */ jsxs7("li", { class: op.ok ? "" : "error", children: [
              op.action,
              " ",
              /* @__PURE__ */ jsx7("code", { children: op.path }),
              op.ok ? "" : `: ${op.error ?? "failed"}`
            ] })),
            r.moreOps > 0 ? /* @__PURE__ */ jsxs7("li", { class: "muted", children: [
              "and ",
              r.moreOps,
              " more"
            ] }) : null
          ] })
        ] }) })
      ] })) })
    ] }) })
  ] });
}
var init_share_page = __esm({
  "hub/http/dashboard/pages/share-page.tsx"() {
    "use strict";
    init_format();
  }
});

// hub/services/dashboard-sessions.ts
import { and as and12, eq as eq17, gt as gt4, lt as lt3 } from "drizzle-orm";
async function sessionCookieKey(ctx) {
  const existing = await readSetting(ctx.db, COOKIE_KEY_SETTING);
  if (existing) return existing;
  await ctx.db.insert(hubSettings).values({ key: COOKIE_KEY_SETTING, value: toHex(crypto.getRandomValues(new Uint8Array(32))) }).onConflictDoNothing();
  return await readSetting(ctx.db, COOKIE_KEY_SETTING);
}
async function logIn(ctx, adminToken) {
  await authenticateAdmin(ctx, `Bearer ${adminToken}`);
  const id = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const nowMs = ctx.now();
  const expiresAt = nowMs + SESSION_TTL_MS;
  await ctx.db.batch([
    ctx.db.delete(dashboardSessions).where(lt3(dashboardSessions.expiresAt, nowMs)),
    ctx.db.insert(dashboardSessions).values({ idHash: await hashSecret(id), createdAt: nowMs, expiresAt }),
    auditStatement(ctx, "admin", "dashboard.login", "dashboard")
  ]);
  return { id, expiresAt };
}
async function isSessionValid(ctx, id) {
  const rows = await ctx.db.select({ expiresAt: dashboardSessions.expiresAt }).from(dashboardSessions).where(
    and12(eq17(dashboardSessions.idHash, await hashSecret(id)), gt4(dashboardSessions.expiresAt, ctx.now()))
  );
  return rows.length > 0;
}
async function logOut(ctx, id) {
  await ctx.db.delete(dashboardSessions).where(eq17(dashboardSessions.idHash, await hashSecret(id)));
}
var SESSION_TTL_MS, COOKIE_KEY_SETTING;
var init_dashboard_sessions = __esm({
  "hub/services/dashboard-sessions.ts"() {
    "use strict";
    init_hex();
    init_schema();
    init_audit();
    init_authenticate();
    init_initialize_hub();
    SESSION_TTL_MS = 12 * 36e5;
    COOKIE_KEY_SETTING = "dashboard_cookie_key";
  }
});

// hub/http/dashboard/session-guard.ts
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
function requestHost(c) {
  return c.req.header("host") ?? new URL(c.req.url).host;
}
async function readSession(ctx, c) {
  const id = await getSignedCookie(c, await sessionCookieKey(ctx), SESSION_COOKIE);
  if (!id) return void 0;
  return await isSessionValid(ctx, id) ? id : void 0;
}
async function writeSessionCookie(ctx, c, id) {
  await setSignedCookie(c, SESSION_COOKIE, id, await sessionCookieKey(ctx), {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1e3),
    secure: isHttps(c)
  });
}
function clearSessionCookie(c) {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c) });
}
function isHttps(c) {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}
function requireSession(ctx) {
  return async (c, next) => {
    const id = await readSession(ctx, c);
    if (!id) {
      if (c.req.method === "GET" && c.req.path !== "/events") return c.redirect("/login", 302);
      throw new FleetsyncError("unauthenticated", "log in to the dashboard first (GET /login)");
    }
    c.set("sessionId", id);
    await next();
  };
}
var SESSION_COOKIE, SAFE_METHODS, refuseCrossOrigin;
var init_session_guard = __esm({
  "hub/http/dashboard/session-guard.ts"() {
    "use strict";
    init_fleetsync_error();
    init_dashboard_sessions();
    SESSION_COOKIE = "fleetsync_session";
    SAFE_METHODS = /* @__PURE__ */ new Set(["GET", "HEAD", "OPTIONS"]);
    refuseCrossOrigin = async (c, next) => {
      if (SAFE_METHODS.has(c.req.method)) return next();
      const origin = c.req.header("origin");
      if (origin !== void 0 && origin !== "null") {
        let host;
        try {
          host = new URL(origin).host;
        } catch {
          host = void 0;
        }
        if (host === requestHost(c)) return next();
        throw new FleetsyncError(
          "forbidden",
          `cross-origin ${c.req.method} refused: the request came from ${origin}, not from this hub's dashboard`
        );
      }
      if (c.req.header("sec-fetch-site") === "same-origin") return next();
      throw new FleetsyncError(
        "forbidden",
        `${c.req.method} ${c.req.path} refused: no Origin header shows it came from this hub's dashboard`
      );
    };
  }
});

// hub/http/dashboard/fleet-page-routes.tsx
import { Hono as Hono3 } from "hono";
import { jsx as jsx8 } from "hono/jsx/jsx-runtime";
function fleetPageRoutes(ctx, render) {
  const app = new Hono3();
  const session = requireSession(ctx);
  app.get("/", session, async (c) => render.page(c, "Fleet", /* @__PURE__ */ jsx8(FleetPage, { fleet: await readFleet(ctx) })));
  app.get(
    "/shares/:name",
    session,
    (c) => render.pageOrRefusal(c, "/", async () => {
      const detail = await readShareDetail(ctx, c.req.param("name"));
      return { title: `Share ${detail.share.name}`, body: /* @__PURE__ */ jsx8(SharePage, { detail, nowMs: ctx.now() }) };
    })
  );
  app.get(
    "/devices/:id",
    session,
    (c) => render.pageOrRefusal(c, "/", async () => {
      const detail = await readDeviceDetail(ctx, c.req.param("id"));
      return {
        title: `Device ${detail.device.name}`,
        body: /* @__PURE__ */ jsx8(DevicePage, { detail, nowMs: ctx.now() })
      };
    })
  );
  app.get("/pending", session, async (c) => {
    const fleet = await readFleet(ctx);
    const waiting = fleet.devices.filter((d) => d.state === "pending");
    return render.page(c, "Pending devices", /* @__PURE__ */ jsx8(PendingPage, { devices: waiting, nowMs: fleet.nowMs }));
  });
  const deviceAction = (verb, fallback) => async (c) => {
    const id = c.req.param("id") ?? "";
    const form = await c.req.parseBody();
    const back = localPath(field(form, "back"), fallback ?? `/devices/${encodeURIComponent(id)}`);
    return render.act(c, back, () => verb(id, form));
  };
  const post = (path, verb, fallback) => app.post(path, refuseCrossOrigin, session, deviceAction(verb, fallback));
  post("/devices/:id/approve", async (id) => {
    await approveDevice(ctx, id);
    return `device ${id} approved; it starts syncing on its next poll`;
  });
  post("/devices/:id/deny", async (id) => {
    await denyDevice(ctx, id);
    return `device ${id} denied`;
  });
  post("/devices/:id/revoke", async (id) => {
    await revokeDevice(ctx, id);
    return `device ${id} revoked`;
  });
  post("/devices/:id/rename", async (id, form) => {
    const renamed = await renameDevice(ctx, id, field(form, "name"));
    return `device ${id} renamed to ${renamed.name}`;
  });
  post(
    "/devices/:id/remove",
    async (id) => {
      await removeDevice(ctx, id);
      return `device ${id} removed`;
    },
    "/"
  );
  return app;
}
var init_fleet_page_routes = __esm({
  "hub/http/dashboard/fleet-page-routes.tsx"() {
    "use strict";
    init_approval();
    init_dashboard_device();
    init_dashboard_fleet();
    init_dashboard_share();
    init_devices();
    init_page_renderer();
    init_device_page();
    init_fleet_page();
    init_pending_page();
    init_share_page();
    init_session_guard();
  }
});

// hub/services/dashboard-state-version.ts
import { sql as sql8 } from "drizzle-orm";
async function readStateVersion(ctx) {
  const onlineSince = ctx.now() - ONLINE_WINDOW_MS;
  const [row] = await ctx.db.select({
    shares: sql8`(select group_concat(name || ':' || head_seq || ':' || approval, ',') from (select * from shares order by name))`,
    members: sql8`(select group_concat(share || ':' || device_id || ':' || role || ':' || cursor || ':' || coalesce(last_error, ''), ',') from (select * from members order by share, device_id))`,
    devices: sql8`(select group_concat(id || ':' || name || ':' || approval || ':' || coalesce(revoked_at, 0) || ':' || coalesce(agent_version, '') || ':' || (coalesce(last_seen_at, 0) >= ${onlineSince}), ',') from (select * from devices order by id))`,
    runs: sql8`(select coalesce(max(id), 0) from sync_runs)`,
    tokens: sql8`(select count(*) || ':' || coalesce(max(used_at), 0) || ':' || coalesce(max(revoked_at), 0) from enrolment_tokens)`,
    metricsTokens: sql8`(select count(*) || ':' || coalesce(max(revoked_at), 0) from access_tokens)`
  }).from(sql8`(select 1)`);
  const text2 = JSON.stringify(row ?? {});
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text2));
  return toHex(new Uint8Array(digest)).slice(0, 32);
}
var init_dashboard_state_version = __esm({
  "hub/services/dashboard-state-version.ts"() {
    "use strict";
    init_hex();
    init_device_presence();
  }
});

// hub/http/dashboard/live-events.ts
import { Hono as Hono4 } from "hono";
import { streamSSE } from "hono/streaming";
function liveEventRoutes(ctx) {
  const app = new Hono4();
  app.get(
    "/events",
    requireSession(ctx),
    (c) => streamSSE(c, async (stream) => {
      let open5 = true;
      stream.onAbort(() => {
        open5 = false;
      });
      const endsAt = Date.now() + ctx.limits.maxWaitSeconds * 1e3;
      const known = c.req.header("last-event-id");
      let seen = await readStateVersion(ctx);
      await stream.writeSSE({ event: "hello", data: "watching", id: seen, retry: RECONNECT_MS });
      if (known !== void 0 && known !== seen)
        await stream.writeSSE({ event: "change", data: seen, id: seen });
      let quietMs = 0;
      while (open5 && !ctx.stopping?.aborted && Date.now() < endsAt) {
        await stream.sleep(LIVE_POLL_MS);
        if (!open5 || ctx.stopping?.aborted) break;
        const now = await readStateVersion(ctx);
        if (now !== seen) {
          seen = now;
          quietMs = 0;
          await stream.writeSSE({ event: "change", data: now, id: now });
          continue;
        }
        quietMs += LIVE_POLL_MS;
        if (quietMs >= KEEPALIVE_MS) {
          quietMs = 0;
          await stream.write(": keepalive\n\n");
        }
      }
    })
  );
  return app;
}
var LIVE_POLL_MS, KEEPALIVE_MS, RECONNECT_MS;
var init_live_events = __esm({
  "hub/http/dashboard/live-events.ts"() {
    "use strict";
    init_dashboard_state_version();
    init_session_guard();
    LIVE_POLL_MS = 1e3;
    KEEPALIVE_MS = 15e3;
    RECONNECT_MS = 1e3;
  }
});

// hub/http/dashboard/pages/login-page.tsx
import { Fragment as Fragment7, jsx as jsx9, jsxs as jsxs8 } from "hono/jsx/jsx-runtime";
function LoginPage(props) {
  return /* @__PURE__ */ jsxs8(Fragment7, { children: [
    /* @__PURE__ */ jsx9("h1", { children: "Log in" }),
    /* @__PURE__ */ jsx9(Notice, { text: props.error, bad: true }),
    /* @__PURE__ */ jsx9(Notice, { text: props.notice }),
    /* @__PURE__ */ jsxs8("form", { method: "post", action: "/login", class: "actions", children: [
      /* @__PURE__ */ jsxs8("label", { children: [
        "admin token",
        /* @__PURE__ */ jsx9("input", { type: "password", name: "token", autocomplete: "current-password", required: true, autofocus: true, size: 40 })
      ] }),
      /* @__PURE__ */ jsx9("button", { type: "submit", children: "Log in" })
    ] }),
    /* @__PURE__ */ jsx9("p", { class: "muted", children: "The admin token is in DATA/admin.token on the hub machine (on Workers: the ADMIN_TOKEN secret)." })
  ] });
}
var init_login_page = __esm({
  "hub/http/dashboard/pages/login-page.tsx"() {
    "use strict";
    init_layout();
  }
});

// hub/http/dashboard/login-routes.tsx
import { Hono as Hono5 } from "hono";
import { jsx as jsx10 } from "hono/jsx/jsx-runtime";
function loginRoutes(ctx, render) {
  const app = new Hono5();
  app.get("/login", async (c) => {
    if (await readSession(ctx, c)) return c.redirect("/", 302);
    return render.publicPage(c, "Log in", /* @__PURE__ */ jsx10(LoginPage, { notice: c.req.query("notice") }));
  });
  app.post("/login", refuseCrossOrigin, async (c) => {
    const form = await c.req.parseBody();
    try {
      const opened = await logIn(ctx, field(form, "token").trim());
      await writeSessionCookie(ctx, c, opened.id);
      return c.redirect("/", 303);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return render.publicPage(c, "Log in", /* @__PURE__ */ jsx10(LoginPage, { error: error.message }), error.status);
    }
  });
  app.post("/logout", refuseCrossOrigin, requireSession(ctx), async (c) => {
    await logOut(ctx, c.get("sessionId"));
    clearSessionCookie(c);
    return c.redirect("/login?notice=logged%20out", 303);
  });
  return app;
}
var init_login_routes = __esm({
  "hub/http/dashboard/login-routes.tsx"() {
    "use strict";
    init_fleetsync_error();
    init_dashboard_sessions();
    init_page_renderer();
    init_login_page();
    init_session_guard();
  }
});

// hub/services/dashboard-enroll-command.ts
function enrollCommand(input) {
  const paths = input.shares.map((g) => ` --path ${g.name}=/path/to/${g.name}`).join("");
  return `npx fleetsync agent enroll --hub ${input.hubUrl} --token ${input.token} --state ./fleetsync-agent${paths}`;
}
var init_dashboard_enroll_command = __esm({
  "hub/services/dashboard-enroll-command.ts"() {
    "use strict";
  }
});

// hub/http/dashboard/pages/tokens-page.tsx
import { Fragment as Fragment8, jsx as jsx11, jsxs as jsxs9 } from "hono/jsx/jsx-runtime";
function TokensPage(props) {
  return /* @__PURE__ */ jsxs9(Fragment8, { children: [
    /* @__PURE__ */ jsx11("h1", { children: "Tokens" }),
    props.created ? /* @__PURE__ */ jsx11("section", { class: "banner ok", id: "created", children: props.created.kind === "enrolment" ? /* @__PURE__ */ jsxs9(Fragment8, { children: [
      /* @__PURE__ */ jsx11("p", { children: "Token minted. Run this on the device (shown once):" }),
      /* @__PURE__ */ jsx11("pre", { id: "enroll-command", children: props.created.command }),
      /* @__PURE__ */ jsx11("button", { type: "button", "data-copy": props.created.command, children: "Copy command" })
    ] }) : /* @__PURE__ */ jsxs9(Fragment8, { children: [
      /* @__PURE__ */ jsx11("p", { children: "Metrics token minted (shown once). Give it to Prometheus as a bearer token:" }),
      /* @__PURE__ */ jsx11("pre", { id: "metrics-token", children: props.created.token }),
      /* @__PURE__ */ jsx11("button", { type: "button", "data-copy": props.created.token, children: "Copy token" })
    ] }) }) : null,
    /* @__PURE__ */ jsx11("h2", { children: "Mint an enrolment token" }),
    props.shareNames.length === 0 ? /* @__PURE__ */ jsx11("p", { class: "muted", children: "Create a share first: fleetsync share create NAME" }) : /* @__PURE__ */ jsxs9("form", { method: "post", action: "/tokens", class: "grid", children: [
      /* @__PURE__ */ jsxs9("label", { children: [
        "share",
        /* @__PURE__ */ jsx11("select", { name: "share", children: props.shareNames.map((n) => /* @__PURE__ */ jsx11("option", { value: n, children: n })) })
      ] }),
      /* @__PURE__ */ jsxs9("label", { children: [
        "role",
        /* @__PURE__ */ jsxs9("select", { name: "role", children: [
          /* @__PURE__ */ jsx11("option", { value: "replica", children: "replica" }),
          /* @__PURE__ */ jsx11("option", { value: "source", children: "source" }),
          /* @__PURE__ */ jsx11("option", { value: "peer", children: "peer" })
        ] })
      ] }),
      /* @__PURE__ */ jsxs9("label", { children: [
        "valid for ",
        /* @__PURE__ */ jsx11("input", { name: "ttl", value: "24h", size: 6 })
      ] }),
      /* @__PURE__ */ jsxs9("label", { children: [
        "label ",
        /* @__PURE__ */ jsx11("input", { name: "label", maxlength: 200 })
      ] }),
      /* @__PURE__ */ jsxs9("label", { children: [
        /* @__PURE__ */ jsx11("input", { type: "checkbox", name: "approval", value: "1" }),
        " hold the device for approval"
      ] }),
      /* @__PURE__ */ jsx11("button", { type: "submit", children: "Mint token" })
    ] }),
    /* @__PURE__ */ jsx11("h2", { children: "Enrolment tokens" }),
    /* @__PURE__ */ jsx11("div", { class: "table", children: /* @__PURE__ */ jsxs9("table", { children: [
      /* @__PURE__ */ jsx11("thead", { children: /* @__PURE__ */ jsxs9("tr", { children: [
        /* @__PURE__ */ jsx11("th", { children: "id" }),
        /* @__PURE__ */ jsx11("th", { children: "label" }),
        /* @__PURE__ */ jsx11("th", { children: "shares" }),
        /* @__PURE__ */ jsx11("th", { children: "state" }),
        /* @__PURE__ */ jsx11("th", { children: "expires" }),
        /* @__PURE__ */ jsx11("th", { children: "used by" }),
        /* @__PURE__ */ jsx11("th", {})
      ] }) }),
      /* @__PURE__ */ jsx11("tbody", { children: props.tokens.map((t) => /* @__PURE__ */ jsxs9("tr", { "data-token": t.jti, children: [
        /* @__PURE__ */ jsx11("td", { children: /* @__PURE__ */ jsx11("code", { children: t.jti }) }),
        /* @__PURE__ */ jsx11("td", { children: t.label }),
        /* @__PURE__ */ jsxs9("td", { children: [
          t.shares.map((s) => `${s.name}:${s.role}`).join(", "),
          t.approval ? " (approval)" : ""
        ] }),
        /* @__PURE__ */ jsx11("td", { children: /* @__PURE__ */ jsx11("span", { class: statusClass(t.state === "unused" ? "ok" : t.state), children: t.state }) }),
        /* @__PURE__ */ jsx11("td", { children: t.expiresAt }),
        /* @__PURE__ */ jsx11("td", { children: t.usedBy ?? "" }),
        /* @__PURE__ */ jsx11("td", { children: t.state === "unused" ? /* @__PURE__ */ jsx11("form", { class: "inline", method: "post", action: `/tokens/${encodeURIComponent(t.jti)}/revoke`, children: /* @__PURE__ */ jsx11("button", { type: "submit", class: "danger", children: "Revoke" }) }) : null })
      ] })) })
    ] }) }),
    /* @__PURE__ */ jsx11("h2", { children: "Metrics tokens" }),
    /* @__PURE__ */ jsxs9("form", { method: "post", action: "/metrics-tokens", class: "actions", children: [
      /* @__PURE__ */ jsxs9("label", { children: [
        "label ",
        /* @__PURE__ */ jsx11("input", { name: "label", maxlength: 200 })
      ] }),
      /* @__PURE__ */ jsx11("button", { type: "submit", children: "Mint metrics token" })
    ] }),
    props.metricsTokens.length === 0 ? null : /* @__PURE__ */ jsx11("div", { class: "table", children: /* @__PURE__ */ jsxs9("table", { children: [
      /* @__PURE__ */ jsx11("thead", { children: /* @__PURE__ */ jsxs9("tr", { children: [
        /* @__PURE__ */ jsx11("th", { children: "id" }),
        /* @__PURE__ */ jsx11("th", { children: "label" }),
        /* @__PURE__ */ jsx11("th", { children: "state" }),
        /* @__PURE__ */ jsx11("th", { children: "created" }),
        /* @__PURE__ */ jsx11("th", {})
      ] }) }),
      /* @__PURE__ */ jsx11("tbody", { children: props.metricsTokens.map((t) => /* @__PURE__ */ jsxs9("tr", { children: [
        /* @__PURE__ */ jsx11("td", { children: /* @__PURE__ */ jsx11("code", { children: t.id }) }),
        /* @__PURE__ */ jsx11("td", { children: t.label }),
        /* @__PURE__ */ jsx11("td", { children: /* @__PURE__ */ jsx11("span", { class: statusClass(t.state), children: t.state }) }),
        /* @__PURE__ */ jsx11("td", { children: t.createdAt }),
        /* @__PURE__ */ jsx11("td", { children: t.state === "active" ? /* @__PURE__ */ jsx11(
          "form",
          {
            class: "inline",
            method: "post",
            action: `/metrics-tokens/${encodeURIComponent(t.id)}/revoke`,
            children: /* @__PURE__ */ jsx11("button", { type: "submit", class: "danger", children: "Revoke" })
          }
        ) : null })
      ] })) })
    ] }) })
  ] });
}
var init_tokens_page = __esm({
  "hub/http/dashboard/pages/tokens-page.tsx"() {
    "use strict";
    init_format();
  }
});

// hub/http/dashboard/token-routes.tsx
import { Hono as Hono6 } from "hono";
import { z as z16 } from "zod";
import { jsx as jsx12 } from "hono/jsx/jsx-runtime";
function tokenRoutes(ctx, render) {
  const app = new Hono6();
  const session = requireSession(ctx);
  async function tokensPage(c, created) {
    const props = {
      tokens: await listTokens(ctx),
      metricsTokens: await listMetricsTokens(ctx),
      shareNames: (await listShares(ctx)).map((s) => s.name),
      created
    };
    return render.page(c, "Tokens", /* @__PURE__ */ jsx12(TokensPage, { ...props }), {
      status: created ? 201 : 200,
      keep: created !== void 0
    });
  }
  app.get("/tokens", session, (c) => tokensPage(c));
  app.post("/tokens", refuseCrossOrigin, session, async (c) => {
    try {
      const parsed = TokenFormSchema.safeParse(await c.req.parseBody());
      if (!parsed.success) throw new FleetsyncError("invalid", describeZodError(parsed.error, "form"));
      const form = parsed.data;
      const ttlMs = parseDurationMs(form.ttl);
      if (ttlMs === void 0)
        throw new FleetsyncError("invalid", 'form field "ttl": use a duration such as 30m, 24h or 7d');
      const grants = [{ name: form.share, role: form.role }];
      const minted = await createEnrolmentToken(ctx, {
        shares: grants,
        ttlSeconds: Math.ceil(ttlMs / 1e3),
        label: form.label,
        approval: form.approval !== void 0
      });
      const hubUrl = new URL(c.req.url).origin;
      const command = enrollCommand({ hubUrl, token: minted.token, shares: grants });
      return tokensPage(c, { kind: "enrolment", token: minted.token, command });
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return render.refusal(c, error, "/tokens");
    }
  });
  app.post("/tokens/:jti/revoke", refuseCrossOrigin, session, (c) => {
    const jti = c.req.param("jti");
    return render.act(c, "/tokens", async () => {
      await revokeToken(ctx, jti);
      return `token ${jti} revoked`;
    });
  });
  app.post("/metrics-tokens", refuseCrossOrigin, session, async (c) => {
    const label = field(await c.req.parseBody(), "label").slice(0, 200);
    const minted = await createMetricsToken(ctx, { label });
    return tokensPage(c, { kind: "metrics", token: minted.token });
  });
  app.post("/metrics-tokens/:id/revoke", refuseCrossOrigin, session, (c) => {
    const id = c.req.param("id");
    return render.act(c, "/tokens", async () => {
      await revokeMetricsToken(ctx, id);
      return `metrics token ${id} revoked`;
    });
  });
  return app;
}
var MAX_TOKEN_TTL_MS2, TokenFormSchema;
var init_token_routes = __esm({
  "hub/http/dashboard/token-routes.tsx"() {
    "use strict";
    init_fleetsync_error();
    init_shares();
    init_parse_duration();
    init_dashboard_enroll_command();
    init_enrolment();
    init_metrics_tokens();
    init_shares2();
    init_page_renderer();
    init_tokens_page();
    init_session_guard();
    MAX_TOKEN_TTL_MS2 = 365 * 864e5;
    TokenFormSchema = z16.object({
      share: ShareNameSchema,
      role: z16.enum(ROLES),
      ttl: z16.string().default("24h").refine(
        (t) => (parseDurationMs(t) ?? Infinity) <= MAX_TOKEN_TTL_MS2,
        "use a duration such as 30m, 24h or 7d, at most 365d"
      ),
      label: z16.string().max(200).default(""),
      approval: z16.string().optional()
    });
  }
});

// hub/http/dashboard/dashboard-routes.ts
import { Hono as Hono7 } from "hono";
function dashboardRoutes(ctx) {
  const app = new Hono7();
  const render = createPageRenderer(ctx);
  app.get(
    "/assets/dashboard.css",
    (c) => c.body(DASHBOARD_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=300" })
  );
  app.get(
    "/assets/dashboard.js",
    (c) => c.body(DASHBOARD_JS, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "max-age=300"
    })
  );
  app.route("/", loginRoutes(ctx, render));
  app.route("/", fleetPageRoutes(ctx, render));
  app.route("/", tokenRoutes(ctx, render));
  app.route("/", liveEventRoutes(ctx));
  return app;
}
var init_dashboard_routes = __esm({
  "hub/http/dashboard/dashboard-routes.ts"() {
    "use strict";
    init_dashboard_assets();
    init_fleet_page_routes();
    init_live_events();
    init_login_routes();
    init_page_renderer();
    init_token_routes();
  }
});

// hub/services/block-access.ts
import { and as and13, eq as eq18, inArray as inArray6, sql as sql9 } from "drizzle-orm";
async function requireBlockUpload(ctx, deviceId) {
  const [sending] = await ctx.db.select({ share: members.share }).from(members).where(and13(eq18(members.deviceId, deviceId), inArray6(members.role, ["source", "peer"]))).limit(1);
  if (!sending) {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} is not a source or peer of any share, so it may not upload blocks`
    );
  }
}
async function requireBlockRead(ctx, deviceId, hashes) {
  const readable = /* @__PURE__ */ new Set();
  for (const chunk2 of chunkForParams([...new Set(hashes)], 1, ctx.limits.sqlParamLimit - 1)) {
    const rows = await ctx.db.selectDistinct({ hash: shareBlocks.hash }).from(shareBlocks).innerJoin(members, eq18(members.share, shareBlocks.share)).where(
      and13(
        eq18(members.deviceId, deviceId),
        inArray6(members.role, ["replica", "peer"]),
        inArray6(shareBlocks.hash, chunk2)
      )
    );
    for (const row of rows) readable.add(row.hash);
  }
  const refused = hashes.find((hash) => !readable.has(hash));
  if (refused !== void 0) {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} may not read block ${refused}: no share it receives (as replica or peer) references it`
    );
  }
}
function shareBlockStatements(ctx, share, hashes, nowMs) {
  const rows = [...new Set(hashes)].map((hash) => ({ share, hash, seenAt: nowMs }));
  return chunkForParams(rows, SHARE_BLOCK_COLUMNS, ctx.limits.sqlParamLimit).map(
    (chunk2) => ctx.db.insert(shareBlocks).values(chunk2).onConflictDoUpdate({
      target: [shareBlocks.share, shareBlocks.hash],
      set: { seenAt: sql9`excluded.seen_at` }
    })
  );
}
var SHARE_BLOCK_COLUMNS;
var init_block_access = __esm({
  "hub/services/block-access.ts"() {
    "use strict";
    init_fleetsync_error();
    init_database();
    init_schema();
    SHARE_BLOCK_COLUMNS = 3;
  }
});

// hub/services/blocks.ts
async function storeBlocks(ctx, input) {
  await requireBlockUpload(ctx, input.deviceId);
  const body = input.body;
  let stored = 0;
  let bytes2 = 0;
  let pending = [];
  let pendingBytes = 0;
  const flush2 = async () => {
    await ctx.blockStore.put(pending, ctx.now());
    pending = [];
    pendingBytes = 0;
  };
  try {
    for await (const frame of decodeBlockFrames(body)) {
      const actual = await sha256Hex(frame.bytes);
      if (actual !== frame.hash) {
        throw new FleetsyncError(
          "invalid",
          `block ${frame.hash} does not match its content (sha256 is ${actual}); it was not stored`
        );
      }
      pending.push(frame);
      pendingBytes += frame.bytes.length;
      if (pendingBytes >= STORE_BATCH_BYTES) await flush2();
      stored++;
      bytes2 += frame.bytes.length;
    }
    await flush2();
  } catch (error) {
    if (error instanceof FleetsyncError) throw error;
    if (error instanceof Error && error.name === "BlockFrameError")
      throw new FleetsyncError("bad_request", error.message);
    throw error;
  }
  return { stored, bytes: bytes2 };
}
async function streamBlocks(ctx, input) {
  const { hashes } = input;
  await requireBlockRead(ctx, input.deviceId, hashes);
  let index2 = 0;
  return new ReadableStream({
    async pull(controller) {
      while (index2 < hashes.length) {
        const hash = hashes[index2++];
        const bytes2 = await ctx.blockStore.get(hash);
        if (!bytes2) continue;
        controller.enqueue(encodeBlockFrameHeader(hash, bytes2.length));
        controller.enqueue(bytes2);
        return;
      }
      controller.close();
    }
  });
}
var STORE_BATCH_BYTES;
var init_blocks = __esm({
  "hub/services/blocks.ts"() {
    "use strict";
    init_block_frames();
    init_hex();
    init_fleetsync_error();
    init_block_access();
    STORE_BATCH_BYTES = 8 * 1024 * 1024;
  }
});

// hub/services/check-tree.ts
import { and as and14, eq as eq19, inArray as inArray7, ne as ne6, or as or2, sql as sql10 } from "drizzle-orm";
async function checkTree(ctx, input) {
  const { share, changed, reported } = input;
  const live = changed.filter((e) => e.type !== "deleted");
  const refuse = (leaf, below, kind = "file") => {
    return new FleetsyncError(
      "invalid",
      `report for share "${share}" would leave "${leaf}" (a ${kind}) with "${below}" below it; a path cannot be both a ${kind} and a folder: report one of them deleted`
    );
  };
  const ancestors = /* @__PURE__ */ new Set();
  for (const entry of live) {
    for (let p = parentOf(entry.path); p !== ""; p = parentOf(p)) ancestors.add(p);
  }
  const lookup3 = [...ancestors].filter((p) => !reported.has(p));
  const committedTypes = /* @__PURE__ */ new Map();
  for (const chunk2 of chunkForParams(lookup3, 1, ctx.limits.sqlParamLimit - 1)) {
    const rows = await ctx.db.select({ path: entries.path, type: entries.type }).from(entries).where(and14(eq19(entries.share, share), inArray7(entries.path, chunk2)));
    for (const row of rows) committedTypes.set(row.path, row.type);
  }
  for (const entry of live) {
    for (let p = parentOf(entry.path); p !== ""; p = parentOf(p)) {
      const type = reported.get(p)?.type ?? committedTypes.get(p);
      if (isLeaf(type)) throw refuse(p, entry.path, type);
    }
  }
  const newLeaves = live.filter((e) => isLeaf(e.type) && !isLeaf(input.committed.get(e.path)?.type));
  const deletes = [...reported.values()].filter((e) => e.type === "deleted").length;
  const perQuery = Math.max(
    1,
    Math.min(MAX_RANGES_PER_QUERY, Math.floor((ctx.limits.sqlParamLimit - 2) / 3))
  );
  for (let i = 0; i < newLeaves.length; i += perQuery) {
    const chunk2 = newLeaves.slice(i, i + perQuery);
    const rows = await ctx.db.select({ path: entries.path }).from(entries).where(
      and14(
        or2(
          ...chunk2.map(
            (e) => sql10`(${entries.share} = ${share} and ${entries.path} >= ${`${e.path}/`} and ${entries.path} < ${`${e.path}0`})`
          )
        ),
        ne6(entries.type, "deleted")
      )
    ).limit(deletes + 1);
    const below = rows.find((row) => reported.get(row.path)?.type !== "deleted");
    if (below) {
      const leaf = chunk2.find((e) => below.path.startsWith(`${e.path}/`));
      throw refuse(leaf?.path ?? parentOf(below.path), below.path, leaf?.type);
    }
  }
}
var MAX_RANGES_PER_QUERY, isLeaf;
var init_check_tree = __esm({
  "hub/services/check-tree.ts"() {
    "use strict";
    init_fleetsync_error();
    init_normalize_share_path();
    init_database();
    init_schema();
    MAX_RANGES_PER_QUERY = 200;
    isLeaf = (type) => type === "file" || type === "symlink";
  }
});

// hub/services/resolve-concurrent.ts
function winnerOf(a, b) {
  if (a.entry.mtimeMs !== b.entry.mtimeMs) return a.entry.mtimeMs > b.entry.mtimeMs ? a : b;
  return a.deviceId <= b.deviceId ? a : b;
}
function resolveConcurrent(options) {
  const { reported, current, policy, nowMs } = options;
  const r = reported.entry;
  const c = current.entry;
  if (isSameEntry(r, c)) return { commit: [], outcome: void 0 };
  const path = r.path;
  const copyOf = (loser2) => {
    let name = conflictName(path, loser2.deviceName, nowMs);
    for (let n = 2; options.isTaken(name); n++) name = conflictName(path, `${loser2.deviceName}-${n}`, nowMs);
    return { entry: { ...loser2.entry, path: name }, deviceId: loser2.deviceId, path: name };
  };
  const keepHub = { entry: c, deviceId: current.deviceId, resend: true };
  if (r.type === "deleted") {
    return { commit: [keepHub], outcome: { winner: "hub", reason: "modify beats delete" } };
  }
  if (c.type === "deleted") {
    return {
      commit: [{ entry: r, deviceId: reported.deviceId }],
      outcome: { winner: "reported", reason: "modify beats delete" }
    };
  }
  if (r.type === "dir" && c.type === "dir") {
    return {
      commit: [{ entry: r, deviceId: reported.deviceId }],
      outcome: { winner: "reported", reason: "both are directories" }
    };
  }
  if (r.type === "dir" || c.type === "dir") {
    const dirSide = r.type === "dir" ? reported : current;
    const other = dirSide === reported ? current : reported;
    const copy2 = copyOf(other);
    return {
      commit: [
        { entry: copy2.entry, deviceId: copy2.deviceId },
        dirSide === reported ? { entry: r, deviceId: reported.deviceId } : keepHub
      ],
      outcome: {
        winner: dirSide === reported ? "reported" : "hub",
        copy: copy2.path,
        reason: "a directory keeps its path"
      }
    };
  }
  const winner = winnerOf(reported, current);
  const loser = winner === reported ? current : reported;
  if (r.type === "file" && c.type === "file" && r.hash === c.hash) {
    return {
      commit: winner === reported ? [{ entry: r, deviceId: reported.deviceId }] : [],
      outcome: void 0
    };
  }
  const keepBoth = policy === "keep-both" || r.type !== c.type;
  const atPath = winner === reported ? [{ entry: r, deviceId: reported.deviceId }] : [keepHub];
  if (!keepBoth) {
    return {
      commit: atPath,
      outcome: {
        winner: winner === reported ? "reported" : "hub",
        reason: "newest wins; the other is in trash where it was"
      }
    };
  }
  const copy = copyOf(loser);
  return {
    commit: [{ entry: copy.entry, deviceId: copy.deviceId }, ...atPath],
    outcome: {
      winner: winner === reported ? "reported" : "hub",
      copy: copy.path,
      reason: winner.entry.mtimeMs !== loser.entry.mtimeMs ? "newer modification time" : "same time; device order"
    }
  };
}
var init_resolve_concurrent = __esm({
  "hub/services/resolve-concurrent.ts"() {
    "use strict";
    init_conflict_name();
    init_entry();
  }
});

// hub/services/commit-report.ts
import { and as and15, eq as eq20, inArray as inArray8, sql as sql11 } from "drizzle-orm";
async function commitReport(ctx, deviceId, shareName, reported, scan) {
  const { member } = await requireMembership(ctx, deviceId, shareName);
  if (member.role === "replica") {
    throw new FleetsyncError(
      "forbidden",
      `device ${deviceId} is a replica of "${shareName}" and may not report changes`
    );
  }
  const latest = /* @__PURE__ */ new Map();
  for (const entry of reported) {
    if (entry.type === "file" && entry.blocks.length !== Math.ceil(entry.size / entry.blockSize)) {
      throw new FleetsyncError(
        "invalid",
        `entry "${entry.path}": ${entry.blocks.length} blocks do not cover ${entry.size} bytes`
      );
    }
    if (entry.type === "file") {
      const expected = await contentHash(entry.size, entry.blockSize, entry.blocks);
      if (entry.hash !== expected) {
        throw new FleetsyncError(
          "invalid",
          `entry "${entry.path}": hash ${JSON.stringify(entry.hash.slice(0, 64))} is not the content hash of its size and blocks (${expected}); no replica could verify it`
        );
      }
    }
    if (entry.type === "symlink" && !entry.target) {
      throw new FleetsyncError(
        "invalid",
        `entry "${entry.path}": a symlink needs a non-empty target; report the link with its target`
      );
    }
    latest.set(entry.path, entry);
  }
  const current = /* @__PURE__ */ new Map();
  const versions = /* @__PURE__ */ new Map();
  for (const chunk2 of chunkForParams([...latest.keys()], 1, ctx.limits.sqlParamLimit - 1)) {
    const rows2 = await ctx.db.select().from(entries).where(and15(eq20(entries.share, shareName), inArray8(entries.path, chunk2)));
    for (const row of rows2) {
      current.set(row.path, rowToEntry(row));
      versions.set(row.path, { seq: row.seq, deviceId: row.deviceId });
    }
  }
  const [share] = await ctx.db.select().from(shares).where(eq20(shares.name, shareName));
  if (!share) throw new FleetsyncError("not_found", `share "${shareName}" does not exist`);
  const settled = await settleConcurrent(ctx, {
    deviceId,
    policy: share.conflicts,
    reported: [...latest.values()],
    current,
    versions,
    isPeer: member.role === "peer"
  });
  const changed = settled.commit.filter(({ entry, resend }) => {
    const existing = current.get(entry.path);
    if (resend) return existing !== void 0;
    if (existing) return !isSameEntry(existing, entry);
    return entry.type !== "deleted";
  }).map(({ entry }) => entry);
  const authorOf = new Map(settled.commit.map(({ entry, deviceId: author }) => [entry.path, author]));
  await checkTree(ctx, {
    share: shareName,
    changed,
    reported: new Map(settled.commit.map(({ entry }) => [entry.path, entry])),
    committed: current
  });
  const conflicts = settled.conflicts.length > 0 ? { conflicts: settled.conflicts } : {};
  if (changed.length === 0) return { status: "accepted", accepted: 0, head: share.headSeq, ...conflicts };
  const deletes = changed.filter((e) => e.type === "deleted").length;
  const creates = changed.filter(
    (e) => e.type !== "deleted" && (current.get(e.path)?.type ?? "deleted") === "deleted"
  ).length;
  const guard = await guardMassDelete(ctx, {
    share,
    deviceId,
    deletes: Math.max(deletes, scan?.deletes ?? 0),
    creates: scan && scan.deletes > deletes ? scan.creates : creates
  });
  if (guard.held) return guard.held;
  const needed = [...new Set(changed.flatMap((e) => e.type === "file" ? e.blocks : []))];
  const stored = await ctx.blockStore.has(needed);
  const missing = needed.filter((hash) => !stored.has(hash));
  if (missing.length > 0) return { status: "missing", missing };
  const nowMs = ctx.now();
  const headSql = sql11`(select ${shares.headSeq} from ${shares} where ${shares.name} = ${shareName})`;
  const rows = changed.map((entry, i) => ({
    ...entryToRow(entry, shareName, authorOf.get(entry.path) ?? deviceId, nowMs),
    seq: sql11`${headSql} + ${i + 1}`
  }));
  const entryStatements = chunkForParams(rows, ENTRY_COLUMNS, ctx.limits.sqlParamLimit).map(
    (chunk2) => ctx.db.insert(entries).values(chunk2).onConflictDoUpdate({
      target: [entries.share, entries.path],
      set: {
        seq: sql11`excluded.seq`,
        type: sql11`excluded.type`,
        size: sql11`excluded.size`,
        mode: sql11`excluded.mode`,
        mtimeMs: sql11`excluded.mtime_ms`,
        blockSize: sql11`excluded.block_size`,
        blocks: sql11`excluded.blocks`,
        target: sql11`excluded.target`,
        hash: sql11`excluded.hash`,
        deviceId: sql11`excluded.device_id`,
        updatedAt: sql11`excluded.updated_at`
      }
    })
  );
  const bytes2 = changed.reduce((sum, e) => sum + (e.type === "file" ? e.size : 0), 0);
  const runId = sql11`(select max(${syncRuns.id}) from ${syncRuns})`;
  const conflictRows = settled.conflicts.map((conflict) => ({
    runId,
    seq: headSql,
    path: conflict.path,
    action: "conflict",
    bytes: 0,
    ok: true,
    error: `${conflict.winner === "reported" ? "this report's version" : "the hub's version"} kept (${conflict.reason})${conflict.copy ? `; the other is ${conflict.copy}` : ""}`
  }));
  const opRows = changed.map((entry, i) => ({
    runId,
    seq: sql11`${headSql} - ${changed.length - i - 1}`,
    path: entry.path,
    action: entry.type === "deleted" ? "delete" : `report-${entry.type}`,
    bytes: entry.type === "file" ? entry.size : 0,
    ok: true
  }));
  const [first] = await ctx.db.batch([
    ctx.db.insert(syncRuns).values({
      share: shareName,
      deviceId,
      kind: "report",
      fromSeq: sql11`${headSql} + 1`,
      toSeq: sql11`${headSql} + ${changed.length}`,
      files: changed.length,
      bytes: bytes2,
      result: "ok",
      at: nowMs
    }).returning({ fromSeq: syncRuns.fromSeq }),
    ...entryStatements,
    ctx.db.update(shares).set({ headSeq: sql11`${shares.headSeq} + ${changed.length}` }).where(eq20(shares.name, shareName)),
    ...chunkForParams(opRows, OP_COLUMNS2, ctx.limits.sqlParamLimit).map(
      (chunk2) => ctx.db.insert(syncOps).values(chunk2)
    ),
    ...chunkForParams(conflictRows, OP_COLUMNS2 + 1, ctx.limits.sqlParamLimit).map(
      (chunk2) => ctx.db.insert(syncOps).values(chunk2)
    ),
    ...shareBlockStatements(ctx, shareName, needed, nowMs),
    ...guard.statements,
    ctx.db.update(members).set({ lastReportAt: nowMs, lastError: null, lastErrorAt: null }).where(and15(eq20(members.share, shareName), eq20(members.deviceId, deviceId)))
  ]);
  const head = (first[0]?.fromSeq ?? 1) - 1 + changed.length;
  await ctx.notifier.notify(shareName);
  ctx.log.info("report committed", { share: shareName, device: deviceId, entries: changed.length, head });
  if (settled.conflicts.length > 0) {
    ctx.log.info("concurrent changes settled", {
      share: shareName,
      device: deviceId,
      conflicts: settled.conflicts
    });
  }
  return { status: "accepted", accepted: changed.length, head, ...conflicts };
}
async function settleConcurrent(ctx, input) {
  const strip = ({ baseSeq: _, ...entry }) => entry;
  const isConcurrent = (entry) => {
    const version = input.versions.get(entry.path);
    return input.isPeer && entry.baseSeq !== void 0 && version !== void 0 && version.seq !== entry.baseSeq && version.deviceId !== input.deviceId;
  };
  const concurrent = input.reported.filter(isConcurrent);
  if (concurrent.length === 0) {
    return {
      commit: input.reported.map((e) => ({ entry: strip(e), deviceId: input.deviceId })),
      conflicts: []
    };
  }
  const ids = [.../* @__PURE__ */ new Set([input.deviceId, ...concurrent.map((e) => input.versions.get(e.path).deviceId)])];
  const names = /* @__PURE__ */ new Map();
  for (const chunk2 of chunkForParams(ids, 1, ctx.limits.sqlParamLimit - 1)) {
    const rows = await ctx.db.select({ id: devices.id, name: devices.name }).from(devices).where(inArray8(devices.id, chunk2));
    for (const row of rows) names.set(row.id, row.name);
  }
  const taken = new Set([...input.current.values()].filter((e) => e.type !== "deleted").map((e) => e.path));
  const commit = [];
  const conflicts = [];
  const nowMs = ctx.now();
  for (const entry of input.reported) {
    if (!isConcurrent(entry)) {
      commit.push({ entry: strip(entry), deviceId: input.deviceId });
      continue;
    }
    const version = input.versions.get(entry.path);
    const resolution = resolveConcurrent({
      reported: {
        entry: strip(entry),
        deviceId: input.deviceId,
        deviceName: names.get(input.deviceId) ?? input.deviceId
      },
      current: {
        entry: input.current.get(entry.path),
        deviceId: version.deviceId,
        deviceName: names.get(version.deviceId) ?? version.deviceId
      },
      policy: input.policy,
      nowMs,
      isTaken: (path) => taken.has(path)
    });
    for (const item of resolution.commit) {
      taken.add(item.entry.path);
      commit.push(item);
    }
    if (resolution.outcome) conflicts.push({ path: entry.path, ...resolution.outcome });
  }
  return { commit, conflicts };
}
var ENTRY_COLUMNS, OP_COLUMNS2;
var init_commit_report = __esm({
  "hub/services/commit-report.ts"() {
    "use strict";
    init_content_hash();
    init_fleetsync_error();
    init_entry();
    init_database();
    init_schema();
    init_block_access();
    init_check_tree();
    init_entry_rows();
    init_mass_delete_guard();
    init_resolve_concurrent();
    init_shares2();
    ENTRY_COLUMNS = 15;
    OP_COLUMNS2 = 8;
  }
});

// hub/services/member-status.ts
import { and as and16, eq as eq21 } from "drizzle-orm";
async function reportMemberStatus(ctx, input) {
  await requireMembership(ctx, input.deviceId, input.share);
  const nowMs = ctx.now();
  const at = input.lastError === null ? null : nowMs;
  await ctx.db.update(members).set({ lastError: input.lastError, lastErrorAt: at }).where(and16(eq21(members.share, input.share), eq21(members.deviceId, input.deviceId)));
  if (input.lastError !== null)
    ctx.log.warn("member reports a problem", {
      share: input.share,
      device: input.deviceId,
      error: input.lastError
    });
  return {
    share: input.share,
    lastError: input.lastError,
    lastErrorAt: at === null ? null : new Date(at).toISOString()
  };
}
var init_member_status = __esm({
  "hub/services/member-status.ts"() {
    "use strict";
    init_schema();
    init_shares2();
  }
});

// hub/services/agent-version.ts
import { eq as eq22 } from "drizzle-orm";
function parseAgentVersion(userAgent) {
  return userAgent === void 0 ? void 0 : AGENT_PATTERN.exec(userAgent)?.[1];
}
async function recordAgentVersion(ctx, deviceId, userAgent) {
  const version = parseAgentVersion(userAgent);
  if (version === void 0) return;
  let seen = seenByHub.get(ctx);
  if (!seen) {
    seen = /* @__PURE__ */ new Map();
    seenByHub.set(ctx, seen);
  }
  if (seen.get(deviceId) === version) return;
  await ctx.db.update(devices).set({ agentVersion: version }).where(eq22(devices.id, deviceId));
  seen.set(deviceId, version);
}
var AGENT_PATTERN, seenByHub;
var init_agent_version = __esm({
  "hub/services/agent-version.ts"() {
    "use strict";
    init_schema();
    AGENT_PATTERN = /^fleetsync-agent\/([0-9A-Za-z.+-]{1,40})/;
    seenByHub = /* @__PURE__ */ new WeakMap();
  }
});

// hub/http/device-auth.ts
import { createMiddleware } from "hono/factory";
function deviceAuth(ctx) {
  return createMiddleware(async (c, next) => {
    const device = await authenticateDevice(ctx, {
      authorization: c.req.header("authorization"),
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      touchLastSeen: c.req.header(PRESENCE_HEADER) !== "none"
    });
    c.set("deviceId", device.id);
    await recordAgentVersion(ctx, device.id, c.req.header("user-agent"));
    await next();
  });
}
var init_device_auth = __esm({
  "hub/http/device-auth.ts"() {
    "use strict";
    init_messages();
    init_agent_version();
    init_authenticate();
  }
});

// hub/http/device-routes.ts
import { Hono as Hono8 } from "hono";
import { z as z17 } from "zod";
function deviceRoutes(ctx, clientAddress) {
  const app = new Hono8();
  app.post("/enroll", async (c) => {
    const retryAfter = await ctx.enrolLimiter.hit(clientAddress(c), ctx.now());
    if (retryAfter > 0) {
      throw new FleetsyncError(
        "rate_limited",
        `too many enrolment attempts from this address; retry in ${retryAfter} s`,
        { retryAfterSeconds: retryAfter }
      );
    }
    return c.json(await enrollDevice2(ctx, await readJson(c, EnrollRequestSchema)), 201);
  });
  const authenticated = new Hono8();
  authenticated.use(deviceAuth(ctx));
  authenticated.get(
    "/config",
    async (c) => c.json({
      deviceId: c.get("deviceId"),
      hubId: ctx.identity.hubId,
      shares: await listDeviceShares(ctx, c.get("deviceId"))
    })
  );
  authenticated.post("/shares/:share/reports", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    const body = await readJson(c, ReportRequestSchema);
    return c.json(await commitReport(ctx, c.get("deviceId"), share, body.entries, body.scan));
  });
  authenticated.put("/shares/:share/cursor", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    return c.json(await setCursor(ctx, c.get("deviceId"), share, await readJson(c, CursorRequestSchema)));
  });
  authenticated.put("/shares/:share/status", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    const body = await readJson(c, StatusRequestSchema);
    return c.json(await reportMemberStatus(ctx, { deviceId: c.get("deviceId"), share, ...body }));
  });
  authenticated.post("/blocks", async (c) => {
    const body = c.req.raw.body;
    if (!body) throw new FleetsyncError("bad_request", "block upload has no body");
    return c.json(await storeBlocks(ctx, { deviceId: c.get("deviceId"), body }));
  });
  authenticated.get("/blocks", async (c) => {
    const { hashes } = validate(FetchQuerySchema, c.req.query(), "query");
    const stream = await streamBlocks(ctx, { deviceId: c.get("deviceId"), hashes });
    return c.body(stream, 200, { "content-type": BLOCKS_CONTENT_TYPE });
  });
  authenticated.get("/instructions", async (c) => {
    const { wait } = validate(WaitQuerySchema, c.req.query(), "query");
    const instructions2 = await nextInstructions(ctx, c.get("deviceId"), wait, c.req.raw.signal);
    const body = JSON.stringify({ instructions: instructions2 });
    const length = new TextEncoder().encode(body).length;
    return c.body(body, 200, { "content-type": "application/json", "content-length": String(length) });
  });
  authenticated.post("/instructions/:id/ack", async (c) => {
    const ack = await readJson(c, AckRequestSchema);
    return c.json(await acknowledgeInstruction(ctx, c.get("deviceId"), c.req.param("id"), ack));
  });
  app.route("/", authenticated);
  return app;
}
var FetchQuerySchema, WaitQuerySchema;
var init_device_routes = __esm({
  "hub/http/device-routes.ts"() {
    "use strict";
    init_block_frames();
    init_fleetsync_error();
    init_entry();
    init_messages();
    init_shares();
    init_blocks();
    init_commit_report();
    init_enrolment();
    init_instructions();
    init_member_status();
    init_shares2();
    init_device_auth();
    init_validate();
    FetchQuerySchema = z17.object({
      hashes: z17.string().transform((s) => s.split(",")).pipe(z17.array(HashSchema).min(1).max(MAX_HASHES_PER_FETCH))
    });
    WaitQuerySchema = z17.object({ wait: z17.coerce.number().int().min(0).max(3600).default(0) });
  }
});

// hub/services/metrics-text.ts
function escapeLabelValue(value) {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}
function escapeHelp(text2) {
  return text2.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}
function formatValue(value) {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
function formatLabels(labels) {
  const pairs = Object.entries(labels ?? {});
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}
function formatMetrics(families) {
  const lines = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(
        `${family.name}${sample.suffix ?? ""}${formatLabels(sample.labels)} ${formatValue(sample.value)}`
      );
    }
  }
  return `${lines.join("\n")}
`;
}
var PROMETHEUS_CONTENT_TYPE;
var init_metrics_text = __esm({
  "hub/services/metrics-text.ts"() {
    "use strict";
    PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  }
});

// hub/services/metrics.ts
import { count as count6, eq as eq23, like as like3, or as or3 } from "drizzle-orm";
async function renderMetrics(ctx, http) {
  const nowMs = ctx.now();
  const shareRows = await ctx.db.select().from(shares).orderBy(shares.name);
  const heads = new Map(shareRows.map((s) => [s.name, s.headSeq]));
  const deviceRows = await ctx.db.select().from(devices).orderBy(devices.id);
  const lastSeen = new Map(deviceRows.map((d) => [d.id, d.lastSeenAt]));
  const memberRows = await ctx.db.select().from(members).orderBy(members.share, members.deviceId);
  const lags = await memberLags(ctx);
  const pending = await ctx.db.select({ share: instructions.share, deviceId: instructions.deviceId, n: count6() }).from(instructions).where(eq23(instructions.status, "pending")).groupBy(instructions.share, instructions.deviceId);
  const applied = await ctx.db.select({ share: syncRuns.share, deviceId: syncRuns.deviceId, ok: syncOps.ok, n: count6() }).from(syncOps).innerJoin(syncRuns, eq23(syncRuns.id, syncOps.runId)).where(eq23(syncRuns.kind, "apply")).groupBy(syncRuns.share, syncRuns.deviceId, syncOps.ok);
  const runs = await ctx.db.select({ share: syncRuns.share, kind: syncRuns.kind, result: syncRuns.result, n: count6() }).from(syncRuns).groupBy(syncRuns.share, syncRuns.kind, syncRuns.result);
  const conflicts = await ctx.db.select({ share: syncRuns.share, n: count6() }).from(syncOps).innerJoin(syncRuns, eq23(syncRuns.id, syncOps.runId)).where(or3(like3(syncOps.action, "%conflict%"), like3(syncOps.path, "%.sync-conflict-%"))).groupBy(syncRuns.share);
  const receiving = memberRows.filter((m) => m.role !== "source");
  const cursorOf = (m) => m.role === "source" ? heads.get(m.share) ?? 0 : m.cursor;
  const memberLabels = (m) => ({ share: m.share, device: m.deviceId });
  const state = (d) => d.revokedAt !== null ? "revoked" : d.approval === "approved" ? "active" : d.approval;
  const stateCounts = /* @__PURE__ */ new Map([
    ["active", 0],
    ["pending", 0],
    ["denied", 0],
    ["revoked", 0]
  ]);
  for (const d of deviceRows) stateCounts.set(state(d), (stateCounts.get(state(d)) ?? 0) + 1);
  const families = [
    {
      name: "fleetsync_share_head_sequence",
      help: "The share's head: the sequence number of its latest accepted change.",
      type: "gauge",
      samples: shareRows.map((s) => ({ labels: { share: s.name }, value: s.headSeq }))
    },
    {
      name: "fleetsync_member_cursor_sequence",
      help: "The highest sequence the member has applied (a source is always at the head).",
      type: "gauge",
      samples: memberRows.map((m) => ({ labels: { ...memberLabels(m), role: m.role }, value: cursorOf(m) }))
    },
    {
      name: "fleetsync_member_lag_operations",
      help: "Sequence numbers between the member's cursor and the share's head.",
      type: "gauge",
      samples: receiving.map((m) => ({
        labels: memberLabels(m),
        value: Math.max(0, (heads.get(m.share) ?? 0) - m.cursor)
      }))
    },
    {
      name: "fleetsync_member_lag_files",
      help: "Paths changed in the share since the member's cursor.",
      type: "gauge",
      samples: receiving.map((m) => ({
        labels: memberLabels(m),
        value: lags.get(`${m.share}\0${m.deviceId}`)?.files ?? 0
      }))
    },
    {
      name: "fleetsync_member_lag_bytes",
      help: "File bytes changed in the share since the member's cursor.",
      type: "gauge",
      samples: receiving.map((m) => ({
        labels: memberLabels(m),
        value: lags.get(`${m.share}\0${m.deviceId}`)?.bytes ?? 0
      }))
    },
    {
      name: "fleetsync_member_last_seen_timestamp_seconds",
      help: "When the hub last heard from the member's device (Unix time).",
      type: "gauge",
      samples: memberRows.filter((m) => lastSeen.get(m.deviceId) != null).map((m) => ({ labels: memberLabels(m), value: (lastSeen.get(m.deviceId) ?? 0) / 1e3 }))
    },
    {
      name: "fleetsync_device_info",
      help: "One per enrolled device: its id, name and state (active, pending, denied, revoked).",
      type: "gauge",
      samples: deviceRows.map((d) => ({ labels: { device: d.id, name: d.name, state: state(d) }, value: 1 }))
    },
    {
      name: "fleetsync_device_up",
      help: "1 when the device is active and was heard from in the last 90 seconds, else 0.",
      type: "gauge",
      samples: deviceRows.map((d) => ({
        labels: { device: d.id },
        value: state(d) === "active" && isOnline(d.lastSeenAt, nowMs) ? 1 : 0
      }))
    },
    {
      name: "fleetsync_devices",
      help: "Enrolled devices by state.",
      type: "gauge",
      samples: [...stateCounts].map(([s, value]) => ({ labels: { state: s }, value }))
    },
    {
      name: "fleetsync_instructions_pending",
      help: "Signed instructions handed out and not yet acknowledged, per member.",
      type: "gauge",
      samples: pending.map((p) => ({ labels: memberLabels(p), value: p.n }))
    },
    {
      name: "fleetsync_applied_operations_total",
      help: "Operations replicas reported applying, by result (ok or failed).",
      type: "counter",
      samples: applied.map((a) => ({
        labels: { ...memberLabels(a), result: a.ok ? "ok" : "failed" },
        value: a.n
      }))
    },
    {
      name: "fleetsync_sync_runs_total",
      help: "Sync runs in the op log, by kind (report, apply, dry-run) and result (ok, partial, failed).",
      type: "counter",
      samples: runs.map((r) => ({ labels: { share: r.share, kind: r.kind, result: r.result }, value: r.n }))
    },
    {
      name: "fleetsync_conflicts_total",
      help: "Conflicting changes recorded in the op log.",
      type: "counter",
      samples: shareRows.map((s) => ({
        labels: { share: s.name },
        value: conflicts.find((c) => c.share === s.name)?.n ?? 0
      }))
    },
    ...http.families()
  ];
  return formatMetrics(families);
}
var init_metrics = __esm({
  "hub/services/metrics.ts"() {
    "use strict";
    init_schema();
    init_device_presence();
    init_member_lags();
    init_metrics_text();
  }
});

// hub/http/metrics-routes.ts
import { Hono as Hono9 } from "hono";
import { routePath } from "hono/route";
function recordHttpMetrics(recorder) {
  return async (c, next) => {
    const started = performance.now();
    const length = Number(c.req.header("content-length") ?? 0);
    try {
      await next();
    } finally {
      const route = routePath(c) || "unmatched";
      recorder.observe({
        method: c.req.method,
        route,
        status: c.res.status,
        durationSeconds: (performance.now() - started) / 1e3
      });
      if (Number.isFinite(length) && length > 0) recorder.received(c.req.method, route, length);
      const method = c.req.method;
      const declared = Number(c.res.headers.get("content-length") ?? Number.NaN);
      const body = Number.isFinite(declared) ? null : c.res.body;
      if (Number.isFinite(declared) && declared > 0) recorder.sent(method, route, declared);
      if (body) {
        const counter = new TransformStream({
          transform(chunk2, controller) {
            recorder.sent(method, route, chunk2.byteLength);
            controller.enqueue(chunk2);
          }
        });
        c.res = new Response(body.pipeThrough(counter), c.res);
      }
    }
  };
}
function metricsRoutes(ctx, recorder) {
  const app = new Hono9();
  app.get("/metrics", async (c) => {
    await authenticateMetricsReader(ctx, c.req.header("authorization"));
    return c.body(await renderMetrics(ctx, recorder), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
var init_metrics_routes = __esm({
  "hub/http/metrics-routes.ts"() {
    "use strict";
    init_metrics();
    init_metrics_text();
    init_metrics_tokens();
  }
});

// hub/http/create-app.ts
import { DrizzleQueryError } from "drizzle-orm/errors";
import { Hono as Hono10 } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
function createApp(ctx, options = {}) {
  const app = new Hono10();
  const clientAddress = options.clientAddress ?? ((c) => c.req.header("x-forwarded-for") ?? "unknown");
  app.use(requestId());
  const httpMetrics = createHttpMetricsRecorder();
  app.use(recordHttpMetrics(httpMetrics));
  app.use("*", async (c, next) => {
    const isBlockUpload = c.req.method === "POST" && c.req.path === "/v1/blocks";
    const maxSize = isBlockUpload ? ctx.limits.maxBlockBodyBytes : ctx.limits.maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new FleetsyncError(
          "payload_too_large",
          `request body is larger than ${maxSize} bytes; send less per request`
        );
      }
    })(c, next);
  });
  app.use("/v1/*", async (_c, next) => {
    const problem = await ctx.health.problem();
    if (problem) throw new FleetsyncError("unavailable", problem, { retryable: false });
    await next();
  });
  app.get("/healthz", async (c) => {
    const problem = await ctx.health.problem();
    if (problem) throw new FleetsyncError("unavailable", problem, { retryable: false });
    return c.json({ ok: true, hubId: ctx.identity.hubId });
  });
  app.get("/.well-known/jwks.json", (c) => c.json(ctx.identity.jwks));
  app.route("/v1/admin", adminRoutes(ctx));
  app.route("/v1", deviceRoutes(ctx, clientAddress));
  app.route("/", metricsRoutes(ctx, httpMetrics));
  app.route("/", dashboardRoutes(ctx));
  app.notFound((c) => {
    throw new FleetsyncError("not_found", `no route for ${c.req.method} ${c.req.path}`);
  });
  app.onError((error, c) => {
    let failure;
    if (error instanceof FleetsyncError) failure = error;
    else if (error instanceof HTTPException && error.status === 413) {
      failure = new FleetsyncError("payload_too_large", "request body is too large");
    } else if (error instanceof HTTPException && error.status < 500) {
      failure = new FleetsyncError("bad_request", error.message || "bad request");
    } else if (isStorageFull(error)) {
      const message = `the hub is out of disk space (DATA=${ctx.storageLabel}); free space on the hub`;
      ctx.log.error(message, { requestId: c.get("requestId"), path: c.req.path });
      failure = new FleetsyncError("insufficient_storage", message);
    } else {
      ctx.log.error("request failed", {
        requestId: c.get("requestId"),
        path: c.req.path,
        error: describeInternalError(error)
      });
      failure = new FleetsyncError("internal", "the hub failed to handle this request; see the hub log");
    }
    const body = {
      error: { code: failure.code, message: failure.message, requestId: c.get("requestId") ?? "" }
    };
    if (failure.retryAfterSeconds !== void 0) c.header("Retry-After", String(failure.retryAfterSeconds));
    return c.json(body, failure.status);
  });
  return app;
}
function describeInternalError(error) {
  if (error instanceof DrizzleQueryError) {
    return `query failed: ${error.query.slice(0, 300)}: ${String(error.cause).slice(0, 500)}`;
  }
  return String(error).slice(0, 1e3);
}
var init_create_app = __esm({
  "hub/http/create-app.ts"() {
    "use strict";
    init_fleetsync_error();
    init_is_storage_full();
    init_metrics_http_recorder();
    init_admin_routes();
    init_dashboard_routes();
    init_device_routes();
    init_metrics_routes();
  }
});

// hub/node/file-block-store.ts
import { randomBytes as randomBytes2 } from "node:crypto";
import { constants as constants3 } from "node:fs";
import { mkdir as mkdir7, open as open4, readdir, readFile as readFile7, rename as rename7, rm as rm6, stat as stat4, unlink } from "node:fs/promises";
import { join as join14 } from "node:path";
async function inBatches(items, act) {
  for (let i = 0; i < items.length; i += CONCURRENCY)
    await Promise.all(items.slice(i, i + CONCURRENCY).map(act));
}
async function createFileBlockStore(options) {
  const { dir, previous } = options;
  const tempDir = join14(dir, "tmp");
  await mkdir7(tempDir, { recursive: true, mode: 448 });
  for (const name of await readdir(tempDir)) await rm6(join14(tempDir, name), { force: true });
  const pathOf = (hash) => join14(dir, hash.slice(0, 2), hash);
  const exists = (hash) => stat4(pathOf(hash)).then(
    () => true,
    () => false
  );
  return {
    async has(hashes) {
      const found = /* @__PURE__ */ new Set();
      const unique = [...new Set(hashes)];
      await inBatches(unique, async (hash) => {
        if (await exists(hash)) found.add(hash);
      });
      if (previous && found.size < unique.length) {
        for (const hash of await previous.has(unique.filter((h) => !found.has(h)))) found.add(hash);
      }
      return found;
    },
    async put(blocks2, nowMs) {
      const fresh = /* @__PURE__ */ new Map();
      for (const block of blocks2) fresh.set(block.hash, block.bytes);
      await inBatches([...fresh.keys()], async (hash) => {
        if (await exists(hash)) fresh.delete(hash);
      });
      if (fresh.size === 0) return;
      const written = [];
      try {
        await inBatches([...fresh], async ([hash, bytes2]) => {
          const temp = join14(tempDir, `${hash}.${randomBytes2(6).toString("hex")}`);
          const handle = await open4(temp, O_WRONLY2 | O_CREAT2 | O_EXCL2, 384);
          written.push({ hash, temp, handle });
          await handle.writeFile(bytes2);
          const seconds = nowMs / 1e3;
          await handle.utimes(seconds, seconds);
          await handle.sync();
        });
        const dirs = /* @__PURE__ */ new Set();
        for (const { hash, temp, handle } of written) {
          await handle.close();
          const target = pathOf(hash);
          await mkdir7(join14(target, ".."), { recursive: true, mode: 448 });
          await rename7(temp, target);
          dirs.add(join14(target, ".."));
        }
        written.length = 0;
        await inBatches([...dirs], syncDir);
      } finally {
        for (const { temp, handle } of written) {
          await handle.close().catch(() => {
          });
          await rm6(temp, { force: true });
        }
      }
    },
    async get(hash) {
      try {
        return await readFile7(pathOf(hash));
      } catch (error) {
        if (error.code !== "ENOENT") throw error;
        return previous?.get(hash);
      }
    },
    async deleteUnreferenced(referenced, olderThanMs) {
      const keep = await referenced();
      let deleted = 0;
      for (const prefix of await readdir(dir)) {
        if (prefix === "tmp") continue;
        const names = await readdir(join14(dir, prefix)).catch(() => []);
        await inBatches(names, async (name) => {
          if (keep.has(name)) return;
          const path = join14(dir, prefix, name);
          const st = await stat4(path).catch(() => void 0);
          if (!st || st.mtimeMs >= olderThanMs) return;
          await unlink(path).catch(() => {
          });
          deleted++;
        });
      }
      if (previous) deleted += await previous.deleteUnreferenced(async () => keep, olderThanMs);
      return deleted;
    }
  };
}
async function syncDir(path) {
  const handle = await open4(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
var O_CREAT2, O_EXCL2, O_WRONLY2, CONCURRENCY;
var init_file_block_store = __esm({
  "hub/node/file-block-store.ts"() {
    "use strict";
    ({ O_CREAT: O_CREAT2, O_EXCL: O_EXCL2, O_WRONLY: O_WRONLY2 } = constants3);
    CONCURRENCY = 32;
  }
});

// hub/services/alert-delivery.ts
function isNtfyUrl(url) {
  const host = new URL(url).hostname;
  return host === "ntfy.sh" || host.startsWith("ntfy.");
}
function alertSentence(event) {
  const where = event.share ? ` in share ${event.share}` : "";
  return `fleetsync: ${event.what} \u2014 device ${event.deviceName} (${event.deviceId})${where}: ${event.why}`;
}
function alertMessage(input) {
  const { event } = input;
  if (isNtfyUrl(input.url)) {
    return {
      body: alertSentence(event),
      headers: {
        "content-type": "text/plain; charset=utf-8",
        title: `fleetsync ${event.what}: ${event.deviceName}`,
        tags: event.what === "recovered" ? "white_check_mark" : "warning"
      }
    };
  }
  return {
    body: JSON.stringify({
      what: event.what,
      share: event.share,
      device: { id: event.deviceId, name: event.deviceName },
      why: event.why,
      when: new Date(event.at).toISOString(),
      hubId: input.hubId,
      alertId: input.alertId
    }),
    headers: { "content-type": "application/json" }
  };
}
async function deliverAlert(options) {
  let problem = "";
  for (let attempt = 1; attempt <= options.retryDelaysMs.length + 1; attempt++) {
    try {
      const response = await options.fetch(options.url, {
        method: "POST",
        headers: { ...options.message.headers, "user-agent": "fleetsync-hub" },
        body: options.message.body,
        signal: AbortSignal.timeout(options.attemptTimeoutMs),
        redirect: "manual"
      });
      await response.body?.cancel().catch(() => {
      });
      if (response.ok) return { ok: true, attempts: attempt };
      problem = `answered ${response.status}`;
      const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
      if (!retryable) return { ok: false, attempts: attempt, problem };
    } catch (error) {
      const cause = error.cause?.code;
      problem = cause ?? error.message;
    }
    const delay = options.retryDelaysMs[attempt - 1];
    if (delay !== void 0) await options.sleep(delay);
  }
  return { ok: false, attempts: options.retryDelaysMs.length + 1, problem };
}
var init_alert_delivery = __esm({
  "hub/services/alert-delivery.ts"() {
    "use strict";
  }
});

// hub/services/alert-monitor.ts
import { and as and17, eq as eq24, gt as gt5, isNull as isNull6, like as like4, max, or as or4 } from "drizzle-orm";
function createAlertMonitor(ctx, options) {
  let running;
  return {
    check() {
      running ??= checkOnce(ctx, options).finally(() => {
        running = void 0;
      });
      return running;
    }
  };
}
async function newConflicts(ctx) {
  const stored = await readSetting(ctx.db, CONFLICT_CURSOR);
  const [top] = await ctx.db.select({ id: max(syncOps.id) }).from(syncOps);
  const head = top?.id ?? 0;
  if (stored === void 0) {
    await ctx.db.insert(hubSettings).values({ key: CONFLICT_CURSOR, value: String(head) }).onConflictDoNothing();
    return { conflicts: [] };
  }
  const from = Number(stored);
  if (head <= from) return { conflicts: [] };
  const rows = await ctx.db.select({ op: syncOps, run: syncRuns, deviceName: devices.name }).from(syncOps).innerJoin(syncRuns, eq24(syncRuns.id, syncOps.runId)).leftJoin(devices, eq24(devices.id, syncRuns.deviceId)).where(
    and17(
      gt5(syncOps.id, from),
      or4(like4(syncOps.action, "%conflict%"), like4(syncOps.path, "%.sync-conflict-%"))
    )
  );
  const claim = async () => {
    const moved = await ctx.db.update(hubSettings).set({ value: String(head) }).where(and17(eq24(hubSettings.key, CONFLICT_CURSOR), eq24(hubSettings.value, stored))).returning({ key: hubSettings.key });
    return moved.length > 0;
  };
  return {
    conflicts: rows.filter((r) => r.op.id <= head).map((r) => ({
      share: r.run.share,
      deviceId: r.run.deviceId,
      deviceName: r.deviceName ?? r.run.deviceId,
      path: r.op.path,
      at: r.run.at
    })),
    claim
  };
}
async function claimChange(ctx, change) {
  if (change.kind === "enter") {
    const inserted = await ctx.db.insert(alertStates).values({
      alertId: change.alertId,
      subject: change.subject,
      status: change.status,
      since: change.since
    }).onConflictDoNothing().returning({ subject: alertStates.subject });
    return inserted.length > 0;
  }
  const deleted = await ctx.db.delete(alertStates).where(and17(eq24(alertStates.alertId, change.alertId), eq24(alertStates.subject, change.subject))).returning({ subject: alertStates.subject });
  return deleted.length > 0;
}
async function checkOnce(ctx, options) {
  const counts = { sent: 0, failed: 0, dropped: 0 };
  const rules = await loadAlertRules(ctx);
  if (rules.length === 0) return counts;
  const nowMs = ctx.now();
  const states = await ctx.db.select().from(alertStates);
  const active = and17(isNull6(devices.revokedAt), eq24(devices.approval, "approved"));
  const memberRows = await ctx.db.select({
    share: members.share,
    deviceId: members.deviceId,
    deviceName: devices.name,
    lastError: members.lastError
  }).from(members).innerJoin(devices, eq24(devices.id, members.deviceId)).where(active);
  const deviceRows = await ctx.db.select({ id: devices.id, name: devices.name, lastSeenAt: devices.lastSeenAt }).from(devices).where(active);
  const conflicts = await newConflicts(ctx);
  const planned = planAlerts({
    rules,
    states,
    members: memberRows,
    devices: deviceRows.map((d) => ({
      ...d,
      shares: memberRows.filter((m) => m.deviceId === d.id).map((m) => m.share)
    })),
    conflicts: conflicts.conflicts,
    nowMs
  });
  const conflictsClaimed = conflicts.claim ? await conflicts.claim() : false;
  const toSend = [];
  for (const item of planned) {
    if (item.change ? !await claimChange(ctx, item.change) : !conflictsClaimed) continue;
    if (item.event) toSend.push(item);
  }
  const sleep2 = (ms) => new Promise((resolve7) => setTimeout(resolve7, ms));
  await Promise.all(
    toSend.map(async ({ alert, event }) => {
      if (!event) return;
      if (await options.limiter.hit(alert.id, ctx.now()) > 0) {
        counts.dropped++;
        ctx.log.warn("alert rate limit reached; event dropped", {
          alert: alert.id,
          what: event.what,
          device: event.deviceId
        });
        return;
      }
      const result = await deliverAlert({
        fetch: options.fetch ?? fetch,
        url: alert.url,
        message: alertMessage({ url: alert.url, alertId: alert.id, hubId: ctx.identity.hubId, event }),
        retryDelaysMs: options.retryDelaysMs ?? [1e3, 5e3],
        attemptTimeoutMs: options.attemptTimeoutMs ?? 1e4,
        sleep: sleep2
      });
      if (result.ok) {
        counts.sent++;
        ctx.log.info("alert sent", {
          alert: alert.id,
          what: event.what,
          device: event.deviceId,
          attempts: result.attempts
        });
      } else {
        counts.failed++;
        ctx.log.error("alert could not be delivered", {
          alert: alert.id,
          host: new URL(alert.url).host,
          what: event.what,
          attempts: result.attempts,
          problem: result.problem
        });
      }
    })
  );
  return counts;
}
var CONFLICT_CURSOR;
var init_alert_monitor = __esm({
  "hub/services/alert-monitor.ts"() {
    "use strict";
    init_schema();
    init_alert_delivery();
    init_alert_plan();
    init_alerts();
    init_initialize_hub();
    CONFLICT_CURSOR = "alerts_conflict_op_id";
  }
});

// hub/main.node.ts
import { chmod as chmod3, mkdir as mkdir8, readFile as readFile8, stat as stat5, writeFile as writeFile8 } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import { join as join15, resolve as resolve4 } from "node:path";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
async function startHub(options) {
  const dataDir = resolve4(options.dataDir);
  await mkdir8(dataDir, { recursive: true, mode: 448 });
  const log = options.log ?? createJsonLogger((line) => process.stdout.write(`${line}
`), { component: "hub" });
  const dbUrl = options.dbUrl ?? `file:${join15(dataDir, "hub.db")}`;
  const opened = await openLibsql(dbUrl, options.dbAuthToken);
  const dataDirWatch = options.dbUrl ? void 0 : await watchDataDir({ dataDir, file: join15(dataDir, "hub.db"), log });
  const stopping = new AbortController();
  const useFileStore = (options.blockStore ?? (options.dbUrl ? "db" : "file")) === "file";
  const { ctx, newAdminToken } = await buildHubContext({
    db: opened.db,
    log,
    storageLabel: dataDir,
    ...options.limits ? { limits: options.limits } : {},
    blockStore: (table) => useFileStore ? createFileBlockStore({ dir: join15(dataDir, "blocks"), previous: table }) : table,
    notifier: options.dbUrl ? createPollingNotifier(async () => {
      const result = await opened.client.execute("select name, head_seq from shares");
      return new Map(result.rows.map((row) => [String(row.name), Number(row.head_seq)]));
    }) : createInProcessNotifier(),
    ...dataDirWatch ? { health: dataDirWatch } : {},
    ...options.enrolAttemptsPerMinute ? { enrolLimiter: createWindowRateLimiter(options.enrolAttemptsPerMinute, 6e4) } : {},
    stopping: stopping.signal,
    coalesceInstructions: true
  });
  if (newAdminToken) {
    const file = join15(dataDir, "admin.token");
    await writeFile8(file, `${newAdminToken}
`, { mode: 384 });
    await chmod3(file, 384);
    options.onAdminToken?.(newAdminToken, file);
  }
  const tls = options.tls && {
    cert: await readFile8(options.tls.certFile).catch((error) => {
      throw new Error(`reading --tls-cert ${options.tls?.certFile}: ${error.message}`, { cause: error });
    }),
    key: await readFile8(options.tls.keyFile).catch((error) => {
      throw new Error(`reading --tls-key ${options.tls?.keyFile}: ${error.message}`, { cause: error });
    })
  };
  const app = createApp(ctx, { clientAddress: (c) => getConnInfo(c).remote.address ?? "unknown" });
  const fetch2 = async (request, env) => {
    const response = await app.fetch(request, env);
    if (!stopping.signal.aborted) return response;
    const closing = new Response(response.body, response);
    closing.headers.set("connection", "close");
    return closing;
  };
  const server = await new Promise((resolveServer, reject) => {
    const s = serve(
      tls ? {
        fetch: fetch2,
        hostname: options.host,
        port: options.port,
        createServer: createHttpsServer,
        serverOptions: tls
      } : { fetch: fetch2, hostname: options.host, port: options.port },
      () => resolveServer(s)
    );
    s.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `${tls ? "https" : "http"}://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  const gcTimer = setInterval(() => {
    collectGarbage(ctx).catch((error) => log.error("garbage collection failed", { error: String(error) }));
  }, GC_INTERVAL_MS);
  gcTimer.unref();
  const alertMonitor = createAlertMonitor(ctx, {
    limiter: createWindowRateLimiter(ALERT_EVENTS_PER_MINUTE, 6e4)
  });
  const alertTimer = setInterval(() => {
    alertMonitor.check().catch((error) => log.error("alert check failed", { error: String(error) }));
  }, options.alertCheckIntervalMs ?? ALERT_CHECK_INTERVAL_MS);
  alertTimer.unref();
  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      clearInterval(gcTimer);
      clearInterval(alertTimer);
      dataDirWatch?.stop();
      stopping.abort();
      await new Promise((done) => {
        server.close(() => done());
        if ("closeIdleConnections" in server) {
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
        }
      });
      opened.close();
      log.info("hub stopped");
    })();
    return stopped;
  };
  log.info("hub listening", { url, data: dataDir, db: options.dbUrl ? "remote libSQL" : dbUrl });
  return { url, port, ctx, stop };
}
async function watchDataDir(options) {
  const initial = await stat5(options.file);
  let problem;
  let lastCheck = Date.now();
  const check = async () => {
    lastCheck = Date.now();
    if (problem) return;
    const now = await stat5(options.file).catch(() => void 0);
    if (now && now.ino === initial.ino && now.dev === initial.dev) return;
    problem ??= `the hub's data directory ${options.dataDir} was deleted (${options.file} is ${now ? "another file now" : "gone"}) while the hub was running; nothing more is accepted; restart the hub`;
    options.log.error("data directory lost", { data: options.dataDir, problem });
  };
  const timer = setInterval(() => void check(), DATA_DIR_CHECK_INTERVAL_MS);
  timer.unref();
  return {
    async problem() {
      if (!problem && Date.now() - lastCheck >= DATA_DIR_REQUEST_CHECK_MS) await check();
      return problem;
    },
    stop: () => clearInterval(timer)
  };
}
var GC_INTERVAL_MS, ALERT_CHECK_INTERVAL_MS, ALERT_EVENTS_PER_MINUTE, STOP_GRACE_MS, DATA_DIR_CHECK_INTERVAL_MS, DATA_DIR_REQUEST_CHECK_MS;
var init_main_node = __esm({
  "hub/main.node.ts"() {
    "use strict";
    init_in_process_notifier();
    init_json_logger();
    init_polling_notifier();
    init_window_rate_limiter();
    init_build_hub_context();
    init_open_libsql();
    init_create_app();
    init_file_block_store();
    init_alert_monitor();
    init_collect_garbage();
    GC_INTERVAL_MS = 10 * 60 * 1e3;
    ALERT_CHECK_INTERVAL_MS = 5e3;
    ALERT_EVENTS_PER_MINUTE = 30;
    STOP_GRACE_MS = 5e3;
    DATA_DIR_CHECK_INTERVAL_MS = 2e3;
    DATA_DIR_REQUEST_CHECK_MS = 1e3;
  }
});

// cli/start-workers-hub.ts
import { execFile as execFile3 } from "node:child_process";
import { chmod as chmod4, mkdir as mkdir9, readFile as readFile9, writeFile as writeFile9 } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer as createServer2 } from "node:net";
import { join as join16, resolve as resolve5 } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify as promisify3 } from "node:util";
function wranglerBin() {
  try {
    return createRequire(join16(REPO_ROOT, "package.json")).resolve("wrangler/bin/wrangler.js");
  } catch (error) {
    throw new Error(
      "fleetsync hub --workers needs wrangler (4.86, a dev dependency of fleetsync): run npm install in the fleetsync checkout",
      { cause: error }
    );
  }
}
function localWranglerEnv(stateDir, base = process.env) {
  const env = {
    ...base,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: join16(stateDir, "logs"),
    XDG_CONFIG_HOME: join16(stateDir, "config"),
    NO_COLOR: "1"
  };
  for (const name of [
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "CLOUDFLARE_EMAIL",
    "CLOUDFLARE_ACCOUNT_ID"
  ]) {
    delete env[name];
  }
  return env;
}
async function freePort(host) {
  const server = createServer2();
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, host, done);
  });
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (typeof address !== "object" || !address) throw new Error(`no free port on ${host}`);
  return address.port;
}
async function adminTokenFor(dataDir, onAdminToken) {
  const file = join16(dataDir, "admin.token");
  const existing = (await readFile9(file, "utf8").catch(() => "")).trim();
  if (existing) return existing;
  const token = `${ADMIN_TOKEN_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
  await writeFile9(file, `${token}
`, { mode: 384 });
  await chmod4(file, 384);
  onAdminToken?.(token, file);
  return token;
}
async function startWorkersHub(options) {
  const wrangler = wranglerBin();
  const dataDir = resolve5(options.dataDir);
  const stateDir = join16(dataDir, "workers");
  await mkdir9(stateDir, { recursive: true, mode: 448 });
  const adminToken = await adminTokenFor(dataDir, options.onAdminToken);
  const envFile = join16(stateDir, "hub.env");
  const vars = [`ADMIN_TOKEN=${adminToken}`];
  if (options.enrolAttemptsPerMinute)
    vars.push(`ENROL_ATTEMPTS_PER_MINUTE=${options.enrolAttemptsPerMinute}`);
  await writeFile9(envFile, `${vars.join("\n")}
`, { mode: 384 });
  await chmod4(envFile, 384);
  const env = localWranglerEnv(stateDir);
  const common = ["-c", WRANGLER_CONFIG, "--persist-to", join16(stateDir, "state")];
  await promisify3(execFile3)(
    process.execPath,
    [wrangler, "d1", "migrations", "apply", "DB", "--local", ...common],
    { cwd: REPO_ROOT, env, timeout: START_TIMEOUT_MS }
  ).catch((error) => {
    throw new Error(
      `applying the D1 migrations under ${stateDir} failed: ${error.message}
${error.stdout ?? ""}${error.stderr ?? ""}`,
      { cause: error }
    );
  });
  const buildDir = join16(stateDir, "build");
  await promisify3(execFile3)(
    process.execPath,
    [wrangler, "deploy", "--dry-run", "--outdir", buildDir, "-c", WRANGLER_CONFIG],
    { cwd: REPO_ROOT, env, timeout: START_TIMEOUT_MS }
  ).catch((error) => {
    throw new Error(
      `bundling the Worker into ${buildDir} failed: ${error.message}
${error.stdout ?? ""}${error.stderr ?? ""}`,
      { cause: error }
    );
  });
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  const { Miniflare } = await import("miniflare");
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  const secrets = { ADMIN_TOKEN: adminToken };
  if (options.enrolAttemptsPerMinute)
    secrets.ENROL_ATTEMPTS_PER_MINUTE = String(options.enrolAttemptsPerMinute);
  const forward = (stream) => {
    let rest = "";
    stream.on("data", (chunk2) => {
      const lines = (rest + chunk2.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) options.onOutput?.(line);
    });
  };
  const miniflare = new Miniflare({
    ...workerOptions,
    name: "fleetsync-hub",
    modules: true,
    scriptPath: join16(buildDir, "main.worker.js"),
    modulesRoot: buildDir,
    bindings: { ...workerOptions.bindings ?? {}, ...secrets },
    host: options.host,
    port,
    // Where `wrangler d1 migrations apply --persist-to` put the database (its v3 layout).
    defaultPersistRoot: join16(stateDir, "state", "v3"),
    handleRuntimeStdio: (stdout, stderr) => {
      forward(stdout);
      forward(stderr);
    }
  });
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  let stopped;
  const stop = () => {
    stopped ??= miniflare.dispose().catch(() => {
    });
    return stopped;
  };
  try {
    await miniflare.ready;
    await waitUntilHealthy(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: process.pid, stop };
}
async function waitUntilHealthy(url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (true) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`the Workers hub did not answer ${url}/healthz within ${START_TIMEOUT_MS} ms`);
    await new Promise((done) => setTimeout(done, 250));
  }
}
var REPO_ROOT, WRANGLER_CONFIG, START_TIMEOUT_MS;
var init_start_workers_hub = __esm({
  "cli/start-workers-hub.ts"() {
    "use strict";
    init_initialize_hub();
    init_hex();
    REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
    WRANGLER_CONFIG = join16(REPO_ROOT, "wrangler.toml");
    START_TIMEOUT_MS = 18e4;
  }
});

// cli/hub-command.ts
var hub_command_exports = {};
__export(hub_command_exports, {
  HUB_HELP: () => HUB_HELP,
  runHubCommand: () => runHubCommand
});
import { writeFile as writeFile10 } from "node:fs/promises";
import { join as join17, resolve as resolve6 } from "node:path";
import { parseArgs as parseArgs3 } from "node:util";
async function runHubCommand(argv2, env) {
  const { values } = parseArgs3({
    args: argv2,
    options: {
      data: { type: "string", default: "./data" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8787" },
      "block-store": { type: "string" },
      "enrol-limit": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      workers: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false }
    }
  });
  if (values.help) {
    console.log(HUB_HELP);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${values.port} is not a port number`);
  const enrolLimit = values["enrol-limit"] === void 0 ? void 0 : Number(values["enrol-limit"]);
  if (enrolLimit !== void 0 && (!Number.isInteger(enrolLimit) || enrolLimit < 1))
    throw new UsageError(`--enrol-limit ${values["enrol-limit"]} is not a positive whole number`);
  if (values.workers) {
    for (const flag of ["block-store", "tls-cert", "tls-key"]) {
      if (values[flag] !== void 0)
        throw new UsageError(
          `--${flag} is for the Node hub; the Workers hub keeps blocks in R2 and gets TLS from Cloudflare (drop --${flag})`
        );
    }
    return runWorkersHub({
      dataDir: values.data,
      host: values.host,
      port,
      ...enrolLimit ? { enrolAttemptsPerMinute: enrolLimit } : {}
    });
  }
  const blockStore = values["block-store"];
  if (blockStore !== void 0 && blockStore !== "file" && blockStore !== "db")
    throw new UsageError(`--block-store ${blockStore}: use file or db`);
  if (values["tls-cert"] === void 0 !== (values["tls-key"] === void 0))
    throw new UsageError(
      "--tls-cert and --tls-key go together: give both PEM files, or neither for plain HTTP"
    );
  const tls = values["tls-cert"] && values["tls-key"] ? { certFile: values["tls-cert"], keyFile: values["tls-key"] } : void 0;
  const started = Date.now();
  const lock = await acquireProcessLock({ kind: "hub", dir: resolve6(values.data) });
  const hub = await startHub({
    dataDir: values.data,
    host: values.host,
    port,
    dbUrl: env.FLEETSYNC_DB_URL,
    dbAuthToken: env.FLEETSYNC_DB_AUTH_TOKEN,
    blockStore,
    ...enrolLimit ? { enrolAttemptsPerMinute: enrolLimit } : {},
    ...tls ? { tls } : {},
    onAdminToken: (token, file) => {
      console.log(`admin token (shown once, also saved to ${file}):
  ${token}`);
    }
  });
  await writeFile10(
    join17(resolve6(values.data), HUB_INFO_FILE),
    JSON.stringify({ url: hub.url, pid: process.pid })
  );
  console.log(
    `fleetsync hub ready at ${hub.url} in ${Date.now() - started} ms (data: ${resolve6(values.data)})`
  );
  await new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      hub.stop().finally(() => lock.release()).then(done, done);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}
async function runWorkersHub(options) {
  const started = Date.now();
  const dataDir = resolve6(options.dataDir);
  const lock = await acquireProcessLock({ kind: "hub", dir: dataDir });
  const hub = await startWorkersHub({
    ...options,
    onAdminToken: (token, file) => {
      console.log(`admin token (shown once, also saved to ${file}):
  ${token}`);
    },
    onOutput: (line) => console.log(line)
  }).catch(async (error) => {
    await lock.release();
    throw error;
  });
  await writeFile10(join17(dataDir, HUB_INFO_FILE), JSON.stringify({ url: hub.url, pid: process.pid }));
  console.log(
    `fleetsync hub (Workers, local workerd) ready at ${hub.url} in ${Date.now() - started} ms (data: ${dataDir})`
  );
  await waitForStopSignal();
  await hub.stop().finally(() => lock.release());
  return 0;
}
function waitForStopSignal() {
  return new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
var HUB_HELP;
var init_hub_command = __esm({
  "cli/hub-command.ts"() {
    "use strict";
    init_main_node();
    init_admin_client();
    init_cli_error();
    init_process_lock();
    init_start_workers_hub();
    HUB_HELP = `Usage: fleetsync hub [--data DIR] [--host H] [--port P] [--enrol-limit N] [--tls-cert FILE --tls-key FILE]
       fleetsync hub --workers [--data DIR] [--host H] [--port P] [--enrol-limit N]

Runs the hub: HTTP API for agents and admins, state in libSQL. Open its URL in a browser for the
dashboard (log in with the admin token); Prometheus scrapes GET /metrics with the admin token or one
from 'fleetsync token create --metrics'. One hub per data dir: a second one on the same --data refuses
to start, naming the first.

Options:
  --data DIR        where hub.db, admin.token and hub.json live (default ./data)
  --host H          address to listen on (default 127.0.0.1)
  --port P          port (default 8787; 0 picks a free one)
  --tls-cert FILE   serve HTTPS with this PEM certificate (chain); needs --tls-key
  --tls-key FILE    the certificate's PEM private key
  --enrol-limit N   enrolment attempts one address may make per minute (default 20); raise it to
                    enrol a fleet that reaches the hub through one NAT address
  --block-store file|db
                    where block content lives: file (DATA/blocks; the default with the embedded database)
                    or db (the libSQL table; the default with FLEETSYNC_DB_URL, shared by several hubs)
  --workers         run the Cloudflare Workers build instead, locally under workerd (Miniflare, as wrangler dev):
                    D1, R2 and Durable Object state persist under DIR/workers, the D1 migrations are
                    applied first, and the admin token is kept in DIR/admin.token as with the Node hub.
                    Needs wrangler (a dev dependency: npm install in the fleetsync checkout)
Without --tls-* the hub speaks plain HTTP: run it behind a TLS-terminating proxy (Caddy, nginx)
or give it a certificate whenever agents reach it over a network you do not trust.

Environment:
  FLEETSYNC_DB_URL         use a remote libSQL database (sqld, Turso) instead of DIR/hub.db, or a
                           file:/path/hub.db that several hub processes (each with its own --data) share
  FLEETSYNC_DB_AUTH_TOKEN  its auth token

Examples:
  npx fleetsync hub --data /var/lib/fleetsync --host 0.0.0.0 --port 8787
  npx fleetsync hub --host 0.0.0.0 --tls-cert /etc/fleetsync/hub.crt --tls-key /etc/fleetsync/hub.key
  npx fleetsync hub --workers --data ./data-workers --port 8788`;
  }
});

// agent/tune-v8-for-idle.ts
import { setFlagsFromString } from "node:v8";
var IDLE_AGENT_V8_FLAGS = [
  // fetch (undici) compiles its HTTP parser to WebAssembly. TurboFan's pass over it mallocs ~28 MiB that glibc
  // keeps for good; Liftoff's baseline code needs ~1 MiB and parses HTTP framing (bodies are not parsed) fast enough.
  "--liftoff-only",
  // The young generation keeps its initial 1 MiB semi-space instead of growing to 16 MiB in a sync and holding
  // those pages while idle (`--max-semi-space-size` would need NODE_OPTIONS; V8 reads this at each growth).
  "--semi-space-growth-factor=1",
  // The heap favours size: V8 shrinks the young generation and compacts soon after work stops, instead of
  // holding 5–10 MiB of pages until its memory reducer runs, half a minute into idleness or later.
  "--optimize-for-size"
];
function tuneV8ForIdleAgent() {
  for (const flag of IDLE_AGENT_V8_FLAGS) setFlagsFromString(flag);
}

// cli/main.ts
init_cli_error();
var HELP = `fleetsync \u2014 keep folders (and Pi-hole configuration) identical across machines, steered by one hub.

Usage: fleetsync <command> [options]

Hub:
  hub                     run the hub (see: fleetsync hub --help)
Admin (talk to a running hub):
  share create|list|show|set|delete|confirm-delete
                          manage shares (confirm-delete lets a held mass delete through)
  device list|rename|revoke|remove|approve|deny
                          see, rename, revoke, forget, approve or deny devices
  token create|list|revoke  single-use enrolment tokens (--metrics: a /metrics token)
  alert add|list|remove   webhooks on error, offline, conflict, recovered
Agent (on each machine):
  agent enroll            trade a token for a device identity
  agent run               run the daemon
  agent status            per-share state and lag
  agent install|uninstall run the agent as a systemd service (or stop and remove it)

Every command has --help with an example. fleetsync --version (-V) prints the version.
Exit codes: 0 ok, 1 failure, 2 usage error.

Example (hub machine, then device):
  npx fleetsync hub
  npx fleetsync share create configs
  npx fleetsync token create --share configs:replica --command`;
var GROUPS = {
  share: async () => (await Promise.resolve().then(() => (init_admin_commands(), admin_commands_exports))).SHARE_COMMANDS,
  device: async () => (await Promise.resolve().then(() => (init_admin_commands(), admin_commands_exports))).DEVICE_COMMANDS,
  token: async () => (await Promise.resolve().then(() => (init_admin_commands(), admin_commands_exports))).TOKEN_COMMANDS,
  alert: async () => (await Promise.resolve().then(() => (init_alert_commands(), alert_commands_exports))).ALERT_COMMANDS,
  agent: async () => (await Promise.resolve().then(() => (init_agent_commands(), agent_commands_exports))).AGENT_COMMANDS
};
async function main(argv2, env) {
  const [command, ...rest] = argv2;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    if (command) console.log(HELP);
    else console.error(HELP);
    return command ? 0 : 2;
  }
  if (command === "--version" || command === "-V") {
    console.log((await Promise.resolve().then(() => (init_package_version(), package_version_exports))).packageVersion());
    return 0;
  }
  if (command === "hub") return (await Promise.resolve().then(() => (init_hub_command(), hub_command_exports))).runHubCommand(rest, env);
  const loadGroup = GROUPS[command];
  if (!loadGroup) throw new UsageError(`unknown command "${command}"; see fleetsync --help`);
  const group = await loadGroup();
  const [sub, ...args] = rest;
  if (!sub || sub === "--help" || sub === "-h") {
    const usage = `Usage: fleetsync ${command} <${Object.keys(group).join("|")}> [options]; each has --help`;
    const example = `Example:
  npx fleetsync ${command} ${Object.keys(group)[0]} --help`;
    if (sub) console.log(`${usage}

${example}`);
    else console.error(usage);
    return sub ? 0 : 2;
  }
  const handler = group[sub];
  if (!handler)
    throw new UsageError(
      `unknown command "${command} ${sub}"; try: ${Object.keys(group).map((s) => `${command} ${s}`).join(", ")}`
    );
  return handler.run(args, env);
}
var argv = process.argv.slice(2);
if (argv[0] === "agent" && argv[1] === "run") tuneV8ForIdleAgent();
main(argv, process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = reportFailure(error);
  }
);
export {
  main
};
