// What the agent calls itself in its User-Agent header, so the hub can show each device's version.
import packageJson from "../../package.json" with { type: "json" };

export const AGENT_USER_AGENT = `fleetsync-agent/${packageJson.version} node/${process.versions.node}`;
