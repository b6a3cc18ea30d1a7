#!/usr/bin/env node
// The agent's V8 flags for the Node.js that runs this: they keep the agent under 60 MB resident (README, agent
// benchmark). Node 20's V8 warns at every start that lite mode turned --expose_wasm off unless told so
// (--no-expose-wasm); Node 24's V8 has no such flag and refuses it ("bad option"), and does not warn.
// Used by `npm run start:agent`, `npm start` (start-local.js), the README walk-through and the agent benchmark.
'use strict';

/** The flags for a Node.js of this version (`process.versions.node` by default). */
function agentNodeFlags(version = process.versions.node) {
  const flags = ['--max-semi-space-size=1', '--lite-mode'];
  if (Number(version.split('.')[0]) < 24) flags.push('--no-expose-wasm');
  return flags;
}

module.exports = { agentNodeFlags };

// `node scripts/agent-node-flags.js` prints them for a shell: node $(node scripts/agent-node-flags.js) …
if (require.main === module) process.stdout.write(`${agentNodeFlags().join(' ')}\n`);
