// A member's role as a policy of the one share session: what it sends, what it receives, what a local change means.
import type { Role } from "../../shared/protocol/shares.ts";

export type RolePolicy = {
  role: Role;
  /** Watches, scans and reports local changes to the hub. */
  sends: boolean;
  /** Long-polls for instructions and applies them. */
  receives: boolean;
  /**
   * What a local change the hub has not heard of means when the session finds it (at start or before an apply):
   * `overwrite` — the hub's version wins, the local copy goes to trash (a replica); `report` — it is reported
   * first and the hub sequences it (a source or a peer: send-receive, as Syncthing's folders).
   */
  unreportedLocalChange: "overwrite" | "report";
};

/** Source and replica are the two restrictions of the two-way peer (Syncthing's send-only and receive-only). */
export function rolePolicy(role: Role): RolePolicy {
  switch (role) {
    case "source":
      return { role, sends: true, receives: false, unreportedLocalChange: "report" };
    case "replica":
      return { role, sends: false, receives: true, unreportedLocalChange: "overwrite" };
    case "peer":
      return { role, sends: true, receives: true, unreportedLocalChange: "report" };
  }
}
