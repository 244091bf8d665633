// Interop check: two WuKongIM JS SDK clients (npm `wukongimjssdk`, protocol v2) chat
// through a running wkfuzz server over ws:// and wss://, in a person channel and a group,
// and every message each client receives is checked: content, from uid, channel, message
// id and seq increasing, and agreement with the SENDACK its sender got. Exits 0 when all
// phases pass, 1 with a "MISMATCH:" line otherwise.
//
// Usage:
//   node chat.js --ws ws://127.0.0.1:5200 --wss wss://localhost:5210 --ca cert.pem [--count 20]
// (or the env vars WKFUZZ_WS_URL, WKFUZZ_WSS_URL, WKFUZZ_CA, WKFUZZ_COUNT).
//
// Phases: "ws" (both clients on ws), "wss" (both on wss), "mixed" (alice on ws, bob on
// wss). Phase P uses uids P-alice and P-bob and the group P-group, which the server must
// have configured with both as members ([groups] in the config file; the SDK itself has
// no call that joins a group).
//
// The SDK is a set of singletons (WKSDK.shared(), ConnectManager.shared(), ...), so each
// client loads its own copy of the bundle (a fresh module instance). It expects a browser
// WebSocket global: the `ws` package provides it, trusting the given CA for wss.
"use strict";

const fs = require("fs");
const path = require("path");
const util = require("util");
const WS = require("ws");

const BUNDLE = path.join(__dirname, "build", "wukongimjssdk.cjs");
const CONNECT_TIMEOUT_MS = 10000;
const PHASE_TIMEOUT_MS = 30000;
/// After everything expected arrived, how long to wait for duplicates.
const SETTLE_MS = 300;
/// SDK constants (model.js / connect_manager.js of wukongimjssdk 1.0.4).
const CONNECTED = 1;
const CONNECT_FAIL = 3;
const STATUS_NORMAL = 1; // a message from the server; local echoes of sends are Wait (0)
const PERSON = 1;
const GROUP = 2;

function say(...args) {
  process.stdout.write(util.format(...args) + "\n");
}

// The SDK logs chattily through console.log; keep its last lines for failure reports.
const sdkLog = [];
console.log = (...args) => {
  sdkLog.push(util.format(...args).slice(0, 300));
  if (sdkLog.length > 200) sdkLog.shift();
};

function fail(message) {
  say("MISMATCH: " + message);
  if (sdkLog.length > 0) {
    say("last SDK log lines:");
    for (const line of sdkLog.slice(-40)) say("  | " + line);
  }
  process.exit(1);
}

function parseArgs() {
  const opts = {
    ws: process.env.WKFUZZ_WS_URL,
    wss: process.env.WKFUZZ_WSS_URL,
    ca: process.env.WKFUZZ_CA,
    count: Number(process.env.WKFUZZ_COUNT || 20),
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in opts) || argv[i + 1] === undefined) fail(`bad argument ${argv[i]}`);
    opts[key] = key === "count" ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!opts.ws || !opts.wss || !opts.ca) fail("need --ws URL, --wss URL and --ca FILE");
  if (!(opts.count >= 1)) fail("--count must be at least 1");
  return opts;
}

/// Builds the bundle if `npm run build` has not.
function ensureBundle() {
  if (fs.existsSync(BUNDLE)) return;
  require("esbuild").buildSync({
    entryPoints: [path.join(__dirname, "sdk-entry.js")],
    bundle: true,
    platform: "node",
    format: "cjs",
    outfile: BUNDLE,
    logLevel: "warning",
  });
}

/// A fresh copy of the SDK (its own singletons).
function loadSdk() {
  delete require.cache[require.resolve(BUNDLE)];
  const WKSDK = require(BUNDLE).default;
  if (typeof WKSDK !== "function" || typeof WKSDK.shared !== "function") {
    fail("the bundle does not export WKSDK");
  }
  return WKSDK;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/// One SDK client: its own SDK copy, what it sent, the SENDACKs and what it received.
class SdkClient {
  constructor(uid, url) {
    this.uid = uid;
    this.url = url;
    this.im = loadSdk().shared();
    this.sent = new Map(); // clientSeq -> { clientMsgNo, text, channelID, channelType }
    this.acks = new Map(); // clientSeq -> SENDACK packet
    this.received = []; // Message objects from the server, in arrival order
    this.im.config.addr = url;
    this.im.config.uid = uid;
    this.im.config.token = "token-" + uid;
    this.im.chatManager.addMessageListener((m) => {
      if (m.status === STATUS_NORMAL) this.received.push(m);
    });
    this.im.chatManager.addMessageStatusListener((ack) => {
      if (this.acks.has(ack.clientSeq)) fail(`${uid}: second SENDACK for clientSeq ${ack.clientSeq}`);
      this.acks.set(ack.clientSeq, ack);
    });
  }

  connect() {
    const connected = new Promise((resolve, reject) => {
      this.im.connectManager.addConnectStatusListener((status, reason) => {
        if (status === CONNECTED) resolve();
        if (status === CONNECT_FAIL) reject(new Error(`${this.uid}: CONNACK reason ${reason}`));
      });
    });
    this.im.connectManager.connect();
    return withTimeout(connected, CONNECT_TIMEOUT_MS, `${this.uid} connects to ${this.url}`);
  }

  async send(text, channelID, channelType) {
    const channel = this.im.newChannel(channelID, channelType);
    const m = await this.im.chatManager.send(this.im.newMessageText(text), channel);
    this.sent.set(m.clientSeq, { clientMsgNo: m.clientMsgNo, text, channelID, channelType });
  }

  disconnect() {
    this.im.disconnect();
  }
}

/// Waits until `done()` or fails after `ms`.
async function until(done, ms, what) {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/// Checks what `to` received from `from` in one channel against what `from` sent.
function checkChannel(phase, from, to, channelType, groupID, count) {
  const kind = channelType === PERSON ? "person" : "group";
  const where = `${phase} ${kind} ${from.uid} -> ${to.uid}`;
  // The receiver sees a person channel under the sender's uid, a group under its id.
  const expectChannel = channelType === PERSON ? from.uid : groupID;
  const got = to.received.filter((m) => m.channel.channelType === channelType);
  const sent = [...from.sent.entries()].filter(([, s]) => s.channelType === channelType);
  if (got.length !== count) {
    fail(`${where}: received ${got.length} messages, expected ${count} (each once)`);
  }
  const byMsgNo = new Map(sent.map(([clientSeq, s]) => [s.clientMsgNo, { clientSeq, ...s }]));
  let lastId = -1n;
  let lastSeq = -1;
  got.forEach((m, i) => {
    const expectText = `${phase} ${kind} ${from.uid} #${i}`;
    const text = m.content && m.content.text;
    if (text !== expectText) fail(`${where}: message ${i} is ${JSON.stringify(text)}, expected ${JSON.stringify(expectText)}`);
    if (m.fromUID !== from.uid) fail(`${where}: message ${i} from ${m.fromUID}`);
    if (m.channel.channelID !== expectChannel) {
      fail(`${where}: message ${i} in channel ${m.channel.channelID}, expected ${expectChannel}`);
    }
    const id = BigInt(m.messageID);
    if (id <= lastId) fail(`${where}: message id ${id} after ${lastId}`);
    if (!(m.messageSeq > lastSeq)) fail(`${where}: message seq ${m.messageSeq} after ${lastSeq}`);
    lastId = id;
    lastSeq = m.messageSeq;
    const mine = byMsgNo.get(m.clientMsgNo);
    if (!mine || mine.text !== text) fail(`${where}: message ${i} has clientMsgNo ${m.clientMsgNo}, not one ${from.uid} sent with that text`);
    const ack = from.acks.get(mine.clientSeq);
    if (!ack || ack.reasonCode !== 1) fail(`${where}: SENDACK for clientSeq ${mine.clientSeq} is ${util.inspect(ack)}`);
    if (String(ack.messageID) !== String(m.messageID) || ack.messageSeq !== m.messageSeq) {
      fail(`${where}: RECV (${m.messageID}, ${m.messageSeq}) differs from SENDACK (${ack.messageID}, ${ack.messageSeq})`);
    }
  });
}

async function runPhase(phase, urlA, urlB, count) {
  const alice = new SdkClient(`${phase}-alice`, urlA);
  const bob = new SdkClient(`${phase}-bob`, urlB);
  const groupID = `${phase}-group`;
  try {
    await Promise.all([alice.connect(), bob.connect()]);
  } catch (e) {
    return fail(`${phase}: ${e.message}`);
  }
  // Both directions at once, interleaved: person channel, then the group.
  for (const [channelType, channelOf] of [
    [PERSON, (peer) => peer.uid],
    [GROUP, () => groupID],
  ]) {
    const kind = channelType === PERSON ? "person" : "group";
    for (let i = 0; i < count; i++) {
      await alice.send(`${phase} ${kind} ${alice.uid} #${i}`, channelOf(bob), channelType);
      await bob.send(`${phase} ${kind} ${bob.uid} #${i}`, channelOf(alice), channelType);
    }
  }
  const total = 2 * count;
  await until(
    () =>
      alice.received.length >= total &&
      bob.received.length >= total &&
      alice.acks.size === total &&
      bob.acks.size === total,
    PHASE_TIMEOUT_MS,
    `${phase}: ${total} messages and ${total} SENDACKs each ` +
      `(alice has ${alice.received.length}/${alice.acks.size}, bob has ${bob.received.length}/${bob.acks.size})`,
  );
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  for (const [from, to] of [
    [alice, bob],
    [bob, alice],
  ]) {
    checkChannel(phase, from, to, PERSON, groupID, count);
    checkChannel(phase, from, to, GROUP, groupID, count);
  }
  alice.disconnect();
  bob.disconnect();
  say(
    `${phase}: ${alice.uid} (${urlA}) and ${bob.uid} (${urlB}): person ${count} + ${count}, ` +
      `group ${count} + ${count} messages, each delivered once, in order, matching its SENDACK`,
  );
}

async function main() {
  const opts = parseArgs();
  const ca = fs.readFileSync(opts.ca);
  globalThis.WebSocket = class extends WS {
    constructor(url, protocols) {
      super(url, protocols, { ca });
    }
  };
  ensureBundle();
  const phases = [
    ["ws", opts.ws, opts.ws],
    ["wss", opts.wss, opts.wss],
    ["mixed", opts.ws, opts.wss],
  ];
  for (const [phase, a, b] of phases) {
    await runPhase(phase, a, b, opts.count);
  }
  say(`interop: ${phases.length} phases passed (wukongimjssdk ${require("wukongimjssdk/package.json").version})`);
  // The SDK keeps heartbeat and reconnect timers; nothing is left to wait for.
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
