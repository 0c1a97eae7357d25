// The HealthPort for runtimes whose storage cannot vanish under the process (Workers, remote libSQL).
import type { HealthPort } from "../ports/health.ts";

export const alwaysHealthy: HealthPort = { problem: async () => undefined };
