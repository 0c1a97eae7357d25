// A hub URL typed on the command line: http(s) with a host, or a usage error that names the flag and the fix.
import { UsageError } from "./cli-error.ts";

/** Returns the URL as given, or throws a UsageError naming `flag` (e.g. "--hub"). */
export function checkHubUrl(value: string, flag = "--hub"): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    throw new UsageError(
      `${flag} ${value}: give the scheme, e.g. ${flag} http://${value.replace(/^\/+/, "")}`,
    );
  if (!/^https?:\/\//i.test(value))
    throw new UsageError(
      `${flag} ${value}: use an http:// or https:// URL, e.g. ${flag} http://hub.lan:8787`,
    );
  if (!URL.canParse(value) || new URL(value).hostname === "")
    throw new UsageError(`${flag} ${value}: not a valid URL; e.g. ${flag} http://hub.lan:8787`);
  return value;
}
