// The exact `agent enroll` line the dashboard shows beside a new token, the same one `token create --command` prints.
import type { ShareGrant } from "../../shared/protocol/shares.ts";

export function enrollCommand(input: { hubUrl: string; token: string; shares: ShareGrant[] }): string {
  const paths = input.shares.map((g) => ` --path ${g.name}=/path/to/${g.name}`).join("");
  return `npx fleetsync agent enroll --hub ${input.hubUrl} --token ${input.token} --state ./fleetsync-agent${paths}`;
}
