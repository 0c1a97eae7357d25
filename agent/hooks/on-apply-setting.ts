// A share's `onApply` setting in agent.yaml: a shell command to run after an applied change, with its timeout.
import { z } from "zod";

export const DEFAULT_HOOK_TIMEOUT_SECONDS = 30;
export const MAX_HOOK_TIMEOUT_SECONDS = 3600;

/** `onApply: "systemctl reload nginx"` or `onApply: { command: "...", timeoutSeconds: 120 }`. */
export const OnApplySchema = z.union([
  z.string().trim().min(1, "must be a shell command, e.g. systemctl reload nginx"),
  z.strictObject({
    command: z.string().trim().min(1, "must be a shell command, e.g. systemctl reload nginx"),
    timeoutSeconds: z.number().positive().max(MAX_HOOK_TIMEOUT_SECONDS).optional(),
  }),
]);
export type OnApply = z.infer<typeof OnApplySchema>;

/** What run-hook needs: the command and its timeout in milliseconds. */
export type HookSpec = { command: string; timeoutMs: number };

export function resolveOnApply(setting: OnApply): HookSpec {
  if (typeof setting === "string")
    return { command: setting, timeoutMs: DEFAULT_HOOK_TIMEOUT_SECONDS * 1000 };
  return {
    command: setting.command,
    timeoutMs: (setting.timeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS) * 1000,
  };
}
