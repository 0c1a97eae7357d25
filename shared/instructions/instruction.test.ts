import {
  type CryptoKey,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from "jose";
import { describe, expect, test } from "vitest";
import {
  INSTRUCTION_TTL_SECONDS,
  INSTRUCTION_TYP,
  type InstructionBody,
  signInstruction,
  verifyInstruction,
} from "./instruction.ts";

const NOW = 1_750_000_000;
const HUB = "hub-1";
const DEVICE = "dev-1";
const KID = "hub-key-1";

async function hubKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } };
}

const pinned = await hubKey(KID);
const jwks: JSONWebKeySet = { keys: [pinned.jwk] };
const expected = { jwks, hubId: HUB, deviceId: DEVICE, nowSeconds: NOW + 5 };
const claims = { hubId: HUB, deviceId: DEVICE, instructionId: "ins-1", nowSeconds: NOW };

const body: InstructionBody = {
  share: "docs",
  fromSeq: 3,
  toSeq: 5,
  ops: [
    {
      path: "notes/a.txt",
      seq: 4,
      type: "file",
      size: 3,
      mode: 0o644,
      mtimeMs: 1_700_000_000_000,
      blockSize: 131072,
      blocks: ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
      hash: "c".repeat(64),
    },
    {
      path: "old",
      seq: 5,
      type: "deleted",
      size: 0,
      mode: 0,
      mtimeMs: 0,
      blockSize: 131072,
      blocks: [],
      hash: "",
    },
  ],
};

/** Signs an arbitrary payload the way the hub signs instructions, to forge edge cases. */
function signRaw(
  payload: Record<string, unknown>,
  options: { typ?: string; key?: CryptoKey; kid?: string } = {},
) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "EdDSA", kid: options.kid ?? KID, typ: options.typ ?? INSTRUCTION_TYP })
    .setIssuer(HUB)
    .setSubject(DEVICE)
    .setJti("ins-raw")
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 600)
    .sign(options.key ?? pinned.privateKey);
}

async function refusal(jws: string, overrides: Partial<typeof expected> = {}): Promise<string> {
  const check = await verifyInstruction(jws, { ...expected, ...overrides });
  if (check.ok) throw new Error("expected the instruction to be refused");
  return check.reason;
}

describe("signInstruction and verifyInstruction", () => {
  test("round-trip an instruction signed with the pinned hub key", async () => {
    const jws = await signInstruction(pinned.privateKey, KID, claims, body);
    const check = await verifyInstruction(jws, expected);
    expect(check).toEqual({
      ok: true,
      instruction: {
        ...body,
        iss: HUB,
        sub: DEVICE,
        jti: "ins-1",
        iat: NOW,
        exp: NOW + INSTRUCTION_TTL_SECONDS,
      },
    });
  });

  test("verify when the JWKS also lists a rotated-out key", async () => {
    const old = await hubKey("hub-key-0");
    const jws = await signInstruction(pinned.privateKey, KID, claims, body);
    expect((await verifyInstruction(jws, { ...expected, jwks: { keys: [old.jwk, pinned.jwk] } })).ok).toBe(
      true,
    );
  });

  test("refuse an instruction whose payload was altered after signing", async () => {
    const jws = await signInstruction(pinned.privateKey, KID, claims, body);
    const [header, payload, signature] = jws.split(".");
    const altered = { ...decodeJwt(jws), toSeq: 99 };
    const forged = Buffer.from(JSON.stringify(altered)).toString("base64url");
    expect(forged).not.toBe(payload);
    expect(await refusal(`${header}.${forged}.${signature}`)).toBe(
      "instruction signature does not verify against the pinned hub key",
    );
  });

  test("refuse an instruction signed by another key under the pinned kid", async () => {
    const impostor = await hubKey(KID);
    const jws = await signInstruction(impostor.privateKey, KID, claims, body);
    expect(await refusal(jws)).toBe("instruction signature does not verify against the pinned hub key");
  });

  test("refuse an instruction signed by a key the device never pinned", async () => {
    const other = await hubKey("other-hub-key");
    const jws = await signInstruction(other.privateKey, "other-hub-key", claims, body);
    expect(await refusal(jws)).toBe("instruction is signed by an unknown key");
  });

  test("refuse an instruction addressed to another device", async () => {
    const jws = await signInstruction(pinned.privateKey, KID, { ...claims, deviceId: "dev-2" }, body);
    expect(await refusal(jws)).toMatch(/claim "sub" is wrong/);
  });

  test("refuse an instruction from another hub", async () => {
    const jws = await signInstruction(pinned.privateKey, KID, { ...claims, hubId: "hub-2" }, body);
    expect(await refusal(jws)).toMatch(/claim "iss" is wrong/);
  });

  test("accept an instruction until its lifetime runs out and refuse it as expired after", async () => {
    const jws = await signInstruction(pinned.privateKey, KID, claims, body);
    expect(
      (await verifyInstruction(jws, { ...expected, nowSeconds: NOW + INSTRUCTION_TTL_SECONDS - 1 })).ok,
    ).toBe(true);
    expect(await refusal(jws, { nowSeconds: NOW + INSTRUCTION_TTL_SECONDS + 1 })).toMatch(/expired/);
  });

  test("refuse an enrolment token signed by the same hub key", async () => {
    const token = await signRaw(
      { shares: [{ name: "docs", role: "replica" }] },
      { typ: "fleetsync-enrol+jwt" },
    );
    expect(await refusal(token)).toMatch(/claim "typ" is wrong/);
  });

  test("refuse an instruction whose payload has a path climbing out of the share, naming the field", async () => {
    const [op] = body.ops;
    const jws = await signRaw({ ...body, ops: [{ ...op, path: "../etc/cron.d/evil" }] });
    const reason = await refusal(jws);
    expect(reason).toContain("ops.0.path");
    expect(reason).toContain('".." segment');
  });

  test("refuse an instruction whose sequence moves backwards", async () => {
    const jws = await signInstruction(pinned.privateKey, KID, claims, { ...body, fromSeq: 9, toSeq: 4 });
    expect(await refusal(jws)).toBe("instruction moves backwards");
  });

  test("refuse an instruction without an expiry", async () => {
    const jws = await new SignJWT({ ...body })
      .setProtectedHeader({ alg: "EdDSA", kid: KID, typ: INSTRUCTION_TYP })
      .setIssuer(HUB)
      .setSubject(DEVICE)
      .setJti("ins-no-exp")
      .setIssuedAt(NOW)
      .sign(pinned.privateKey);
    expect(await refusal(jws)).toMatch(/"exp"/);
  });

  test("refuse text that is not a JWS at all", async () => {
    expect(await refusal("not-a-jws")).toMatch(/not a valid JWS/);
  });
});
