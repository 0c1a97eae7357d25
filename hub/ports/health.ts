// Whether the hub can still keep what it accepts: a port each runtime fills (Node watches its data dir).

export interface HealthPort {
  /** Why the hub must not accept requests now (it reads at most a cheap, rate-limited probe), or undefined. */
  problem(): Promise<string | undefined>;
}
