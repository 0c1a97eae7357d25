// Request and response bodies of the device protocol (v1), validated on both ends.
import { z } from "zod";
import { ReportedEntrySchema } from "./entry.ts";
import { DeviceShareSchema } from "./shares.ts";

export const MAX_ENTRIES_PER_REPORT = 5000;
/** A device request with this header set to "status" is a look (`agent status`), not a sign that the agent runs. */
/** `x-fleetsync-presence: none` marks a request that is not the agent running (agent status): last seen stays. */
export const PRESENCE_HEADER = "x-fleetsync-presence";
/** Kept small enough that the hash list fits in a URL (Node and Workers refuse headers over 16 KiB). */
export const MAX_HASHES_PER_FETCH = 100;

export const PublicJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a base64url Ed25519 public key"),
});

export const EnrollRequestSchema = z.strictObject({
  token: z.string().min(1).max(8192),
  publicKey: PublicJwkSchema,
  /** An explicit device name (`agent enroll --name`); without it the token's label, then `hostname`, names it. */
  name: z.string().min(1).max(128).optional(),
  /** The machine's host name: the device's name when neither `name` nor the token's label gives one. */
  hostname: z.string().min(1).max(255).optional(),
});
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const JwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) });

export const EnrollResponseSchema = z.object({
  deviceId: z.string(),
  /** The name the hub gave the device (older hubs leave it out). */
  name: z.string().optional(),
  hubId: z.string(),
  jwks: JwksSchema,
  shares: z.array(DeviceShareSchema),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

export const DeviceConfigSchema = z.object({
  deviceId: z.string(),
  hubId: z.string(),
  shares: z.array(DeviceShareSchema),
});
export type DeviceConfig = z.infer<typeof DeviceConfigSchema>;

/**
 * What the whole scan a report belongs to still deletes and creates (this report and the ones after it): a
 * large change arrives in several reports, and the mass-delete guard must judge all of it, not one slice.
 */
export const ScanTotalsSchema = z.strictObject({
  deletes: z.number().int().min(0),
  creates: z.number().int().min(0),
});
export type ScanTotals = z.infer<typeof ScanTotalsSchema>;

export const ConflictOutcomeSchema = z.object({
  path: z.string(),
  /** Whose version holds the path now. */
  winner: z.enum(["reported", "hub"]),
  /** Where the other version survives, when it does (keep-both, a type clash). */
  copy: z.string().optional(),
  reason: z.string(),
});
export type ConflictOutcome = z.infer<typeof ConflictOutcomeSchema>;

export const ReportRequestSchema = z.strictObject({
  entries: z.array(ReportedEntrySchema).min(1).max(MAX_ENTRIES_PER_REPORT),
  scan: ScanTotalsSchema.optional(),
});
export type ReportRequest = z.infer<typeof ReportRequestSchema>;

export const ReportResponseSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("missing"), missing: z.array(z.string()) }),
  z.object({
    status: z.literal("accepted"),
    accepted: z.number().int(),
    head: z.number().int(),
    /** Paths whose change was concurrent with another device's, and how the hub settled each. */
    conflicts: z.array(ConflictOutcomeSchema).optional(),
  }),
  /** A mass delete the hub held: nothing was committed; the agent keeps the paths pending and retries. */
  z.object({
    status: z.literal("held"),
    deletes: z.number().int(),
    live: z.number().int(),
    reason: z.string(),
  }),
]);
export type ReportResponse = z.infer<typeof ReportResponseSchema>;

export const BlockUploadResponseSchema = z.object({ stored: z.number().int(), bytes: z.number().int() });

export const InstructionsResponseSchema = z.object({ instructions: z.array(z.string()) });

export const OperationResultSchema = z.strictObject({
  seq: z.number().int().min(1),
  path: z.string().max(4096),
  action: z.string().max(32),
  ok: z.boolean(),
  bytes: z.number().int().min(0).default(0),
  error: z.string().max(2000).optional(),
});
export type OperationResult = z.infer<typeof OperationResultSchema>;

export const AckRequestSchema = z.strictObject({
  reachedSeq: z.number().int().min(0),
  dryRun: z.boolean().default(false),
  results: z.array(OperationResultSchema).max(20_000).default([]),
});
export type AckRequest = z.infer<typeof AckRequestSchema>;

export const AckResponseSchema = z.object({
  cursor: z.number().int(),
  recorded: z.boolean(),
  note: z.string().optional(),
});

export const CursorRequestSchema = z.strictObject({
  cursor: z.number().int().min(0),
  dryRun: z.boolean().default(false),
});
export type CursorRequest = z.infer<typeof CursorRequestSchema>;

export const CursorResponseSchema = z.object({ cursor: z.number().int(), head: z.number().int() });

/** PUT /v1/shares/:share/status: why the agent is not syncing this share (a paused root), or null once it is. */
export const StatusRequestSchema = z.strictObject({ lastError: z.string().min(1).max(2000).nullable() });
export type StatusRequest = z.infer<typeof StatusRequestSchema>;

export const StatusResponseSchema = z.object({
  share: z.string(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
});
export type StatusResponse = z.infer<typeof StatusResponseSchema>;
