// Whether a file descriptor is journald's stream: JOURNAL_STREAM names its device and inode (systemd.exec(5)).
import { fstatSync } from "node:fs";

/** True when `env.JOURNAL_STREAM` is `<dev>:<inode>` of `fd`; an inherited variable over a redirected fd is not. */
export function isJournaldStream(env: NodeJS.ProcessEnv, fd: number): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return stream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}
