// Config keys FTL renamed between versions: documents use the current name, each Pi-hole is read and written in its own.

/** Current name → the name older FTLs use (v6.3 turned `dns.domain` into `dns.domain.name` plus `dns.domain.local`). */
export const RENAMED_CONFIG_KEYS: Readonly<Record<string, string>> = { "dns.domain.name": "dns.domain" };

function lookup(tree: unknown, key: string): unknown {
  let node = tree;
  for (const part of key.split(".")) {
    if (!node || typeof node !== "object" || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The keys this Pi-hole's config tree holds under their older names, current name → older name. */
export function legacyKeysOf(config: unknown): Map<string, string> {
  const legacy = new Map<string, string>();
  for (const [current, old] of Object.entries(RENAMED_CONFIG_KEYS)) {
    const value = lookup(config, old);
    if (
      lookup(config, current) === undefined &&
      value !== undefined &&
      (typeof value !== "object" || Array.isArray(value))
    )
      legacy.set(current, old);
  }
  return legacy;
}

/** Reads a config tree written with older names as if it used the current ones. */
export function toCurrentKeys(config: unknown, legacy: ReadonlyMap<string, string>): unknown {
  if (legacy.size === 0) return config;
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const [current, old] of legacy) {
    const value = lookup(copy, old);
    const oldParts = old.split(".");
    let parent: Record<string, unknown> = copy;
    for (const part of oldParts.slice(0, -1)) parent = parent[part] as Record<string, unknown>;
    const currentParts = current.split(".");
    let node: Record<string, unknown> = copy;
    for (const part of currentParts.slice(0, -1)) {
      if (!node[part] || typeof node[part] !== "object") node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[currentParts[currentParts.length - 1] as string] = value;
  }
  return copy;
}

/** Renames dotted keys of a PATCH to what this Pi-hole understands. */
export function toLocalKeys(
  config: Record<string, unknown>,
  legacy: ReadonlyMap<string, string>,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [legacy.get(key) ?? key, value]));
}
