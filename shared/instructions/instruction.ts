// Hub-signed instructions: which operations bring one device's share from its cursor to a target sequence.
import {
  type CryptoKey,
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from "jose";
import { z } from "zod";
import { SequencedEntrySchema } from "../protocol/entry.ts";
import { ShareNameSchema } from "../protocol/shares.ts";

export const INSTRUCTION_TYP = "fleetsync-instruction+jwt";
export const INSTRUCTION_TTL_SECONDS = 600;

export const InstructionSchema = z.object({
  iss: z.string(),
  sub: z.string(),
  jti: z.string(),
  share: ShareNameSchema,
  fromSeq: z.number().int().min(0),
  toSeq: z.number().int().min(0),
  ops: z.array(SequencedEntrySchema),
  iat: z.number(),
  exp: z.number(),
});
export type Instruction = z.infer<typeof InstructionSchema>;

export type InstructionBody = Pick<Instruction, "share" | "fromSeq" | "toSeq" | "ops">;

export async function signInstruction(
  key: CryptoKey | KeyObject,
  kid: string,
  claims: { hubId: string; deviceId: string; instructionId: string; nowSeconds: number },
  body: InstructionBody,
): Promise<string> {
  return new SignJWT({ ...body })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: INSTRUCTION_TYP })
    .setIssuer(claims.hubId)
    .setSubject(claims.deviceId)
    .setJti(claims.instructionId)
    .setIssuedAt(claims.nowSeconds)
    .setExpirationTime(claims.nowSeconds + INSTRUCTION_TTL_SECONDS)
    .sign(key);
}

export type InstructionCheck = { ok: true; instruction: Instruction } | { ok: false; reason: string };

/** Verifies signature (against the pinned JWKS), type, issuer, subject and expiry, then the payload shape. */
export async function verifyInstruction(
  jws: string,
  expected: { jwks: JSONWebKeySet; hubId: string; deviceId: string; nowSeconds: number },
): Promise<InstructionCheck> {
  let payload: unknown;
  try {
    const result = await jwtVerify(jws, createLocalJWKSet(expected.jwks), {
      algorithms: ["EdDSA"],
      typ: INSTRUCTION_TYP,
      issuer: expected.hubId,
      subject: expected.deviceId,
      currentDate: new Date(expected.nowSeconds * 1000),
      requiredClaims: ["exp", "iat", "jti"],
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
    return { ok: false, reason: `instruction is not a valid JWS: ${(error as Error).message}` };
  }
  const parsed = InstructionSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `instruction payload is invalid at ${issue?.path.join(".")}: ${issue?.message}`,
    };
  }
  if (parsed.data.toSeq < parsed.data.fromSeq) return { ok: false, reason: "instruction moves backwards" };
  return { ok: true, instruction: parsed.data };
}
