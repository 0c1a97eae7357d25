// Issuing instructions to many devices at once (the bulk round a fleet's wake-up takes), over a real libSQL database.
import { afterEach, expect, test } from "vitest";
import { INSTRUCTION_TTL_SECONDS, verifyInstruction } from "../../shared/instructions/instruction.ts";
import { createTestHub, type TestDevice, type TestHub } from "../../test/support/test-hub-context.ts";
import { issueInstructions } from "./issue-instructions.ts";

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

/** A share with one source and `replicas` replicas, all enrolled through the routes. */
async function fleet(replicas: number, options: Parameters<typeof createTestHub>[0] = {}) {
  hub = await createTestHub({ enrolAttemptsPerMinute: replicas + 10, ...options });
  const h = hub;
  await h.createShare("fleet");
  const source = await h.enroll(await h.mintToken([{ name: "fleet", role: "source" }]), "source");
  const members: TestDevice[] = [];
  for (let i = 0; i < replicas; i++) {
    members.push(await h.enroll(await h.mintToken([{ name: "fleet", role: "replica" }]), `replica-${i}`));
  }
  return { h, source, members };
}

async function verifiedFor(h: TestHub, device: TestDevice, jws: string) {
  const check = await verifyInstruction(jws, {
    jwks: device.enrolment.jwks,
    hubId: h.hubId,
    deviceId: device.deviceId,
    nowSeconds: Math.floor(h.clock.now() / 1000),
  });
  if (!check.ok) throw new Error(`${device.name}: ${check.reason}`);
  return check.instruction;
}

test("gives each of 120 members exactly the operations after its own cursor, signed for that device alone, within 100 parameters a statement", async () => {
  const params: number[] = [];
  let counting = false;
  const { h, source, members } = await fleet(120, {
    limits: { sqlParamLimit: 100 },
    onQuery: (_sql, p) => {
      if (counting) params.push(p.length);
    },
  });
  await h.commitFile(source, "fleet", "a.txt", "first");
  // Every third member has applied the first change; the others are still at 0.
  const ahead = members.filter((_, i) => i % 3 === 0);
  for (const m of ahead) {
    const set = await h.deviceFetch(m, "PUT", "/v1/shares/fleet/cursor", { cursor: 1 });
    expect(set.status).toBe(200);
  }
  await h.commitFile(source, "fleet", "b.txt", "second");

  counting = true;
  const issued = await issueInstructions(
    h.ctx,
    members.map((m) => m.deviceId),
  );
  counting = false;

  const ids = new Set<string>();
  for (const m of members) {
    const mine = issued.get(m.deviceId);
    expect(mine?.shares).toEqual(["fleet"]);
    expect(mine?.instructions).toHaveLength(1);
    const instruction = await verifiedFor(h, m, mine!.instructions[0]!);
    const cursor = ahead.includes(m) ? 1 : 0;
    expect(instruction).toMatchObject({ sub: m.deviceId, share: "fleet", fromSeq: cursor, toSeq: 2 });
    expect(instruction.ops.map((op) => op.path)).toEqual(cursor === 1 ? ["b.txt"] : ["a.txt", "b.txt"]);
    ids.add(instruction.jti);
  }
  expect(ids.size).toBe(members.length);
  expect(Math.max(...params)).toBeLessThanOrEqual(100);
  // Another member's signature does not pass as one's own.
  const other = issued.get(members[1]!.deviceId)!.instructions[0]!;
  await expect(verifiedFor(h, members[0]!, other)).rejects.toThrow(/claim "sub"/);
});

test("hands out a member's pending instruction again instead of signing a second one", async () => {
  const { h, source, members } = await fleet(3);
  await h.commitFile(source, "fleet", "a.txt", "first");
  const ids = members.map((m) => m.deviceId);

  const first = await issueInstructions(h.ctx, ids);
  const again = await issueInstructions(h.ctx, ids);

  for (const id of ids) expect(again.get(id)?.instructions).toEqual(first.get(id)?.instructions);
  const rows = await h.client.execute("select device_id, status from instructions order by device_id");
  expect(rows.rows.map((r) => r.status)).toEqual(["pending", "pending", "pending"]);
});

test("re-signs an instruction close to expiry and retires the old one, leaving one pending per member", async () => {
  const { h, source, members } = await fleet(3);
  await h.commitFile(source, "fleet", "a.txt", "first");
  const ids = members.map((m) => m.deviceId);
  const first = await issueInstructions(h.ctx, ids);

  h.clock.advance((INSTRUCTION_TTL_SECONDS - 30) * 1000);
  const renewed = await issueInstructions(h.ctx, ids);

  for (const m of members) {
    const jws = renewed.get(m.deviceId)!.instructions[0]!;
    expect(jws).not.toBe(first.get(m.deviceId)!.instructions[0]);
    expect(await verifiedFor(h, m, jws)).toMatchObject({ sub: m.deviceId, fromSeq: 0, toSeq: 1 });
  }
  const rows = await h.client.execute(
    "select device_id, status, count(*) as n from instructions group by device_id, status order by device_id, status",
  );
  expect(rows.rows.map((r) => [r.device_id, r.status, Number(r.n)])).toEqual(
    [...ids].sort().flatMap((id) => [
      [id, "pending", 1],
      [id, "superseded", 1],
    ]),
  );
});

test("gives a revoked device nothing and up-to-date members an empty list with the shares they wait on", async () => {
  const { h, source, members } = await fleet(2);
  const [revoked, current] = members as [TestDevice, TestDevice];
  await h.adminJson("POST", `/v1/admin/devices/${revoked.deviceId}/revoke`);

  const issued = await issueInstructions(h.ctx, [revoked.deviceId, current.deviceId, source.deviceId]);

  expect(issued.get(revoked.deviceId)).toMatchObject({ instructions: [], shares: [] });
  expect(issued.get(revoked.deviceId)?.revokedAt).toBeTypeOf("number");
  expect(issued.get(current.deviceId)).toEqual({ instructions: [], shares: ["fleet"] });
  // A source receives nothing: it waits on no share.
  expect(issued.get(source.deviceId)).toEqual({ instructions: [], shares: [] });
});

test("wakes 60 parked long-polls with one commit, each with its own instruction, in one bulk round of reads", async () => {
  const statements: string[] = [];
  let counting = false;
  const { h, source, members } = await fleet(60, {
    onQuery: (sql) => {
      if (counting) statements.push(sql);
    },
  });
  h.ctx.coalesceInstructions = true;
  // Batches do not reach the query logger: note which of them insert instructions.
  let instructionWrites = 0;
  const batch = h.ctx.db.batch.bind(h.ctx.db);
  h.ctx.db.batch = ((queries: Parameters<typeof batch>[0]) => {
    const sqls = queries.map((q) => (q as unknown as { toSQL(): { sql: string } }).toSQL().sql);
    if (counting && sqls.some((s) => s.startsWith('insert into "instructions"'))) instructionWrites++;
    return batch(queries);
  }) as unknown as typeof batch;
  const polls = members.map(async (m) => {
    const response = await h.deviceFetch(m, "GET", "/v1/instructions?wait=30");
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(0);
    return ((await response.json()) as { instructions: string[] }).instructions;
  });
  const deadline = Date.now() + 20_000;
  while (h.pendingWaits() < members.length) {
    if (Date.now() > deadline) throw new Error(`only ${h.pendingWaits()} long-polls parked`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  counting = true;
  await h.commitFile(source, "fleet", "a.txt", "first");
  const answers = await Promise.all(polls);
  counting = false;

  for (const [i, m] of members.entries()) {
    expect(answers[i]).toHaveLength(1);
    const instruction = await verifiedFor(h, m, answers[i]![0]!);
    expect(instruction).toMatchObject({ sub: m.deviceId, fromSeq: 0, toSeq: 1 });
    expect(instruction.ops.map((op) => op.path)).toEqual(["a.txt"]);
  }
  // One round issued all 60: one insert, one read of the entries; the member reads are a few rounds, not 60.
  expect(instructionWrites).toBe(1);
  const entryReads = statements.filter((s) => /^select .* from "entries"/.test(s) && s.includes('"seq" >'));
  expect(entryReads).toHaveLength(1);
  const memberReads = statements.filter((s) => /from "members" inner join "shares"/.test(s));
  expect(memberReads.length).toBeLessThan(10);
}, 60_000);
