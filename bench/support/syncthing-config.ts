// Writes a Syncthing config.xml for the bench: loopback only, one folder shared with one peer, nothing that dials out.

export type SyncthingDevice = {
  id: string;
  name: string;
  listenPort: number;
  /** The port others dial to reach this device (a relay in front of listenPort, to count the wire); default listenPort. */
  dialPort?: number;
};

export type SyncthingConfigOptions = {
  self: SyncthingDevice;
  peer: SyncthingDevice;
  /** The GUI / REST API, on 127.0.0.1 only. */
  guiPort: number;
  apiKey: string;
  folder: { id: string; path: string; type: "sendonly" | "receiveonly"; watcherDelayS: number };
};

/** Every remote service Syncthing knows (discovery, usage and crash reports, upgrades, STUN) points here: a closed loopback port. */
const NOWHERE = "127.0.0.1:9";

function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

function element(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const loopback = (port: number) => `tcp://127.0.0.1:${port}`;

function deviceXml(device: SyncthingDevice): string {
  return [
    `  <device id="${escapeXml(device.id)}" name="${escapeXml(device.name)}" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">`,
    `    ${element("address", loopback(device.dialPort ?? device.listenPort))}`,
    `    ${element("paused", false)}`,
    `    ${element("autoAcceptFolders", false)}`,
    "  </device>",
  ].join("\n");
}

/**
 * Syncthing 1.19's config (version 36). It listens on tcp://127.0.0.1:<port> only and dials its peer only at
 * tcp://127.0.0.1:<port>; global and local discovery, relays, NAT traversal (and with it STUN), usage
 * reporting, crash reporting and upgrade checks are all off, and their server addresses point at a closed
 * loopback port besides, so no address other than 127.0.0.1 is ever contacted. Low priority is off so it
 * competes for the CPU like fleetsync's processes do.
 */
export function syncthingConfigXml(options: SyncthingConfigOptions): string {
  const { self, peer, folder } = options;
  const opts: [string, string | number | boolean][] = [
    ["listenAddress", loopback(self.listenPort)],
    ["globalAnnounceServer", `https://${NOWHERE}`],
    ["globalAnnounceEnabled", false],
    ["localAnnounceEnabled", false],
    ["relaysEnabled", false],
    ["natEnabled", false],
    ["stunServer", NOWHERE],
    ["stunKeepaliveStartS", 0],
    ["stunKeepaliveMinS", 0],
    ["announceLANAddresses", false],
    ["urAccepted", -1],
    ["urSeen", 3],
    ["urURL", `https://${NOWHERE}/newdata`],
    ["urInitialDelayS", 3600],
    ["crashReportingEnabled", false],
    ["crashReportingURL", `https://${NOWHERE}/newcrash`],
    ["autoUpgradeIntervalH", 0],
    ["upgradeToPreReleases", false],
    ["releasesURL", `https://${NOWHERE}/meta.json`],
    ["startBrowser", false],
    ["restartOnWakeup", false],
    ["reconnectionIntervalS", 1],
    ["setLowPriority", false],
    ["progressUpdateIntervalS", -1],
  ];
  return [
    '<configuration version="36">',
    `  <folder id="${escapeXml(folder.id)}" label="${escapeXml(folder.id)}" path="${escapeXml(folder.path)}" type="${folder.type}" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="${folder.watcherDelayS}" ignorePerms="false" autoNormalize="true">`,
    `    ${element("filesystemType", "basic")}`,
    `    <device id="${escapeXml(self.id)}" introducedBy=""></device>`,
    `    <device id="${escapeXml(peer.id)}" introducedBy=""></device>`,
    '    <minDiskFree unit="%">1</minDiskFree>',
    `    ${element("disableFsync", false)}`,
    `    ${element("markerName", ".stfolder")}`,
    "  </folder>",
    deviceXml(self),
    deviceXml(peer),
    '  <gui enabled="true" tls="false" debugging="false">',
    `    ${element("address", `127.0.0.1:${options.guiPort}`)}`,
    `    ${element("apikey", options.apiKey)}`,
    `    ${element("theme", "default")}`,
    "  </gui>",
    "  <options>",
    ...opts.map(([name, value]) => `    ${element(name, value)}`),
    "  </options>",
    "</configuration>",
    "",
  ].join("\n");
}
