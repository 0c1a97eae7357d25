// Test support: the one table of bad credentials every authenticated hub route is tested against, and the error-shape check.
import { type CryptoKey, type JWTPayload, SignJWT } from "jose";
import { describe, expect, test } from "vitest";
import { readSetting } from "../../hub/services/initialize-hub.ts";
import { signDeviceJwt } from "../../shared/auth/device-jwt.ts";
import { type ErrorBody, ErrorBodySchema, type ErrorCode } from "../../shared/errors/fleetsync-error.ts";
import {
  createTestHub,
  type RequestBody,
  requestPath,
  type TestDevice,
  type TestHub,
} from "./test-hub-context.ts";

export type RouteUnderTest = {
  method: string;
  path: string;
  body?: RequestBody;
  /** The status the same request gets with a good credential (the control test). */
  okStatus: number;
};

export type AuthCase = {
  name: string;
  /** Prepares the case on `hub` (revoking `device`, say) and returns the Authorization value for `route`, if any. */
  authorization: (hub: TestHub, device: TestDevice, route: RouteUnderTest) => Promise<string | undefined>;
  code: ErrorCode;
  /** What the message must say, so a person knows which credential problem it is. */
  message: RegExp;
};

/** Asserts the one error body shape, its status and code, and that its requestId is the response's. */
export async function expectError(
  response: Response,
  status: number,
  code: ErrorCode,
  message?: RegExp,
): Promise<ErrorBody["error"]> {
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status });
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = ErrorBodySchema.strict().parse(JSON.parse(text));
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "requestId"]);
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
  expect(body.error.requestId).not.toBe("");
  expect(response.headers.get("x-request-id")).toBe(body.error.requestId);
  return body.error;
}

const nowSeconds = (hub: TestHub) => Math.floor(hub.clock.now() / 1000);
/** The request a device token is bound to (claims htm and htu). */
const boundTo = (route: RouteUnderTest) => ({ method: route.method, path: requestPath(route.path) });

/** A JWT with exactly these claims, signed by the device's key (or another one). */
function signClaims(key: CryptoKey, claims: JWTPayload, alg = "EdDSA") {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Every way a device request can carry a bad credential; each must be refused with 401. */
export function deviceAuthCases(): AuthCase[] {
  return [
    {
      name: "no Authorization header",
      authorization: async () => undefined,
      code: "unauthenticated",
      message: /missing Authorization header/,
    },
    {
      name: "a Basic Authorization header",
      authorization: async () => `Basic ${Buffer.from("device:secret").toString("base64")}`,
      code: "unauthenticated",
      message: /not 'Bearer <token>'/,
    },
    {
      name: "a bearer token that is not a JWT",
      authorization: async () => "Bearer not-a-jwt",
      code: "unauthenticated",
      message: /not a JWT/,
    },
    {
      name: "the admin token instead of a device JWT",
      authorization: async (hub) => `Bearer ${hub.adminToken}`,
      code: "unauthenticated",
      message: /not a JWT/,
    },
    {
      name: "a JWT without a subject",
      authorization: async (hub, device) => {
        const now = nowSeconds(hub);
        const jwt = await signClaims(device.privateKey, {
          aud: hub.hubId,
          iat: now,
          exp: now + 60,
          jti: crypto.randomUUID(),
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /no subject/,
    },
    {
      name: "a JWT for a device this hub never enrolled",
      authorization: async (hub, _device, route) => {
        const stranger = await hub.newDeviceKey();
        const jwt = await signDeviceJwt(stranger.privateKey, {
          ...boundTo(route),
          deviceId: "dev_00000000000000000000",
          hubId: hub.hubId,
          nowSeconds: nowSeconds(hub),
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /dev_00000000000000000000 is not enrolled at this hub/,
    },
    {
      name: "a device of another hub (foreign credential)",
      authorization: async (_hub, _device, route) => {
        const other = await createTestHub();
        try {
          const foreign = await other.enroll();
          return await other.deviceAuthorization(foreign, route);
        } finally {
          await other.close();
        }
      },
      code: "unauthenticated",
      message: /is not enrolled at this hub/,
    },
    {
      name: "a JWT forged with another key for an enrolled device",
      authorization: async (hub, device, route) => {
        const forger = await hub.newDeviceKey();
        return hub.deviceAuthorization({ deviceId: device.deviceId, privateKey: forger.privateKey }, route);
      },
      code: "unauthenticated",
      message: /does not verify: signature verification failed/,
    },
    {
      name: "an unsigned JWT (alg none)",
      authorization: async (hub, device, route) => {
        const now = nowSeconds(hub);
        const claims = {
          sub: device.deviceId,
          aud: hub.hubId,
          iat: now,
          exp: now + 60,
          jti: "x",
          htm: route.method,
          htu: requestPath(route.path),
        };
        return `Bearer ${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims)}.`;
      },
      code: "unauthenticated",
      message: /does not verify/,
    },
    {
      name: "an HS256 JWT keyed with the device's public key (algorithm confusion)",
      authorization: async (hub, device, route) => {
        const now = nowSeconds(hub);
        const jwt = await new SignJWT({ htm: route.method, htu: requestPath(route.path) })
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setSubject(device.deviceId)
          .setAudience(hub.hubId)
          .setIssuedAt(now)
          .setExpirationTime(now + 60)
          .setJti(crypto.randomUUID())
          .sign(new TextEncoder().encode(String(device.publicJwk.x)));
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /does not verify/,
    },
    {
      name: "an expired JWT",
      authorization: async (hub, device, route) => {
        const jwt = await signDeviceJwt(device.privateKey, {
          ...boundTo(route),
          deviceId: device.deviceId,
          hubId: hub.hubId,
          nowSeconds: nowSeconds(hub) - 600,
        });
        return `Bearer ${jwt}`;
      },
      code: "token_expired",
      message: /device token has expired/,
    },
    {
      name: "a JWT whose exp is more than 5 minutes after its iat",
      authorization: async (hub, device, route) => {
        const jwt = await signDeviceJwt(device.privateKey, {
          ...boundTo(route),
          deviceId: device.deviceId,
          hubId: hub.hubId,
          nowSeconds: nowSeconds(hub),
          lifetimeSeconds: 3600,
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /lives longer than 300 s/,
    },
    {
      name: "a JWT issued an hour in the future",
      authorization: async (hub, device, route) => {
        const jwt = await signDeviceJwt(device.privateKey, {
          ...boundTo(route),
          deviceId: device.deviceId,
          hubId: hub.hubId,
          nowSeconds: nowSeconds(hub) + 3600,
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /issued 3600 s in the future \(more than 30 s\); is the device clock right\?/,
    },
    {
      name: "a JWT issued 60 s in the future (within its lifetime, beyond the skew)",
      authorization: async (hub, device, route) => {
        const jwt = await signDeviceJwt(device.privateKey, {
          ...boundTo(route),
          deviceId: device.deviceId,
          hubId: hub.hubId,
          nowSeconds: nowSeconds(hub) + 60,
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /issued 60 s in the future/,
    },
    {
      name: "a JWT for another hub (wrong audience)",
      authorization: async (hub, device, route) => {
        const jwt = await signDeviceJwt(device.privateKey, {
          ...boundTo(route),
          deviceId: device.deviceId,
          hubId: crypto.randomUUID(),
          nowSeconds: nowSeconds(hub),
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /for another hub \(aud does not match\)/,
    },
    {
      name: "a JWT without a jti",
      authorization: async (hub, device, route) => {
        const now = nowSeconds(hub);
        const jwt = await signClaims(device.privateKey, {
          sub: device.deviceId,
          aud: hub.hubId,
          iat: now,
          exp: now + 60,
          htm: route.method,
          htu: requestPath(route.path),
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /does not verify: .*"jti"/,
    },
    {
      name: "a valid JWT of a revoked device",
      authorization: async (hub, device, route) => {
        await hub.adminJson("POST", `/v1/admin/devices/${device.deviceId}/revoke`);
        return hub.deviceAuthorization(device, route);
      },
      code: "unauthenticated",
      message: /device dev_\w+ was revoked at .*enroll it again/,
    },
    {
      name: "a JWT without the request binding (no htm, no htu)",
      authorization: async (hub, device) => {
        const now = nowSeconds(hub);
        const jwt = await signClaims(device.privateKey, {
          sub: device.deviceId,
          aud: hub.hubId,
          iat: now,
          exp: now + 60,
          jti: crypto.randomUUID(),
        });
        return `Bearer ${jwt}`;
      },
      code: "unauthenticated",
      message: /does not verify: missing required "ht[mu]" claim/,
    },
    {
      name: "a JWT signed for another HTTP method",
      authorization: async (hub, device, route) =>
        hub.deviceAuthorization(device, {
          method: route.method === "DELETE" ? "PATCH" : "DELETE",
          path: route.path,
        }),
      code: "unauthenticated",
      message: /bound to another request: expected [A-Z]+ \/v1\/\S+, got (DELETE|PATCH) \/v1\//,
    },
    {
      name: "a JWT signed for another path",
      authorization: async (hub, device, route) =>
        hub.deviceAuthorization(device, { method: route.method, path: "/v1/elsewhere" }),
      code: "unauthenticated",
      message: /bound to another request: expected [A-Z]+ \/v1\/\S+, got [A-Z]+ \/v1\/elsewhere$/,
    },
    {
      name: "a JWT already used once for this very request (replayed)",
      authorization: async (hub, device, route) => {
        const authorization = await hub.deviceAuthorization(device, route);
        const first = await hub.request(route.method, route.path, route.body, { headers: { authorization } });
        expect(first.status, await first.text()).toBe(route.okStatus);
        return authorization;
      },
      code: "unauthenticated",
      message: /^device token was already used \(replayed\?\)$/,
    },
  ];
}

/** Every way an admin request can carry a bad credential; each must be refused with 401. */
export function adminAuthCases(): AuthCase[] {
  const notValid = /admin token is not valid for this hub/;
  return [
    {
      name: "no Authorization header",
      authorization: async () => undefined,
      code: "unauthenticated",
      message: /missing Authorization header/,
    },
    {
      name: "the admin token without 'Bearer'",
      authorization: async (hub) => hub.adminToken,
      code: "unauthenticated",
      message: /not 'Bearer <token>'/,
    },
    {
      name: "a wrong admin token",
      authorization: async () => `Bearer fsa_${"0".repeat(48)}`,
      code: "unauthenticated",
      message: notValid,
    },
    {
      name: "the admin token with one character changed",
      authorization: async (hub) =>
        `Bearer ${hub.adminToken.slice(0, -1)}${hub.adminToken.endsWith("a") ? "b" : "a"}`,
      code: "unauthenticated",
      message: notValid,
    },
    {
      name: "another hub's admin token",
      authorization: async () => {
        const other = await createTestHub();
        await other.close();
        return `Bearer ${other.adminToken}`;
      },
      code: "unauthenticated",
      message: notValid,
    },
    {
      name: "the stored admin token hash (what a stolen database leaks)",
      authorization: async (hub) => `Bearer ${await readSetting(hub.ctx.db, "admin_token_hash")}`,
      code: "unauthenticated",
      message: notValid,
    },
    {
      name: "a valid device JWT",
      authorization: async (hub, device, route) => hub.deviceAuthorization(device, route),
      code: "unauthenticated",
      message: notValid,
    },
  ];
}

/** Accepted device tokens recorded (a refused credential must not add one). */
async function countJtis(hub: TestHub): Promise<number> {
  const result = await hub.client.execute("select count(*) as n from device_jtis");
  return Number(result.rows[0]?.n);
}

export type AuthSuite = {
  /** The hub the suite runs against (created in the caller's beforeAll). */
  hub: () => TestHub;
  /** A fresh device allowed to use the routes (each case may revoke its own). */
  newDevice: (hub: TestHub) => Promise<TestDevice>;
};

/**
 * Registers, for every route, one test per bad credential (401, the error shape, no change to any table)
 * and a control: the same request with a good credential gets the route's own answer.
 */
export function testAuthentication(kind: "device" | "admin", routes: RouteUnderTest[], suite: AuthSuite) {
  const cases = kind === "device" ? deviceAuthCases() : adminAuthCases();
  describe.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    "%s",
    (_, route) => {
      test.each(cases.map((c) => [c.name, c] as const))(
        "refuses %s with 401 and changes nothing",
        async (_, authCase) => {
          const hub = suite.hub();
          const device = await suite.newDevice(hub);
          const authorization = await authCase.authorization(hub, device, route);
          const before = await hub.digest();
          const jtisBefore = await countJtis(hub);
          const response = await hub.request(route.method, route.path, route.body, {
            headers: authorization === undefined ? {} : { authorization },
          });
          await expectError(response, 401, authCase.code, authCase.message);
          expect(await hub.digest()).toBe(before);
          expect(await countJtis(hub)).toBe(jtisBefore);
        },
      );

      test("lets a valid credential through to the route (control)", async () => {
        const hub = suite.hub();
        const device = await suite.newDevice(hub);
        const authorization =
          kind === "device" ? await hub.deviceAuthorization(device, route) : `Bearer ${hub.adminToken}`;
        const response = await hub.request(route.method, route.path, route.body, {
          headers: { authorization },
        });
        expect(response.status, await response.clone().text()).toBe(route.okStatus);
      });
    },
  );
}
