// netpolicy: the network side of port-25 management (MAAWG "Managing Port 25
// for Residential or Dynamic IP Space", practices 5 and 6). A policy model kept
// in the state store (pools by class, relays, exemptions with expiry,
// quarantine with a walled garden, edge interfaces, reject-or-drop; every change
// audited) is compiled to nftables (applied atomically), iptables + ipset,
// Cisco IOS and Junos ACL text, and a PBL-style DNSBL zone for rbldnsd; with a
// notice address set, quarantined hosts' HTTP is redirected to the notice page
// (nft/iptables DNAT; policy-routing hints for IOS and Junos). An edge agent
// pulls the compiled policy over HTTPS with a token — each pull held by the
// server until the policy changes (long-poll push) — and reports the
// blocked-attempt counters that abuse reads (G6) and the version it applied.
// Trusts: the state store and its callers for what policy is (every input is
// still validated). The edge endpoint trusts an edge's token for its name only,
// and bounds every report. The agent trusts the server it verified over TLS
// for what to enforce, but checks every field it pulls with the model's own
// validators before building nft text (check.ts). Only apply.ts/agent.ts need
// CAP_NET_ADMIN; compilers are pure.
// Implements: MAAWG 2005 practices 5 and 6, draft-akagiri-op25b-dynamicip,
// RFC 5068 §3 (587 untouched), RFC 8314 (465 untouched), RFC 6561 §5.4 (walled garden).
export {
  POOL_CLASSES, BLOCKED_CLASSES, RELAY_KINDS, ACTIONS, GARDEN_PROTOS, DEFAULT_SETTINGS,
  type PoolClass, type RelayKind, type Action, type GardenProto, type Pool, type Relay, type Exemption,
  type Quarantine, type GardenEntry, type EdgeSettings, type PolicySnapshot, type Result,
} from './model.ts';
export { PolicyStore, MIGRATIONS, type PolicyEvents, type Change, type AuditRecord, type BlockedCount, type EdgeStatus } from './store.ts';
export {
  compilePolicy, diffSets, policyHashes, PolicyCompiler, SET_NAMES, type CompiledPolicy, type SetName, type SetDelta, type PartName, type PolicySource,
} from './compile.ts';
export { compileNft, nftDelta, nftDeltaScript, NFT_TABLE, type NftOptions } from './nft.ts';
export { compileIptables, compileIos, compileJunos, type IptablesOutput } from './acl.ts';
export { compileRbldnsd, type RbldnsdOptions, type RbldnsdOutput } from './rbldnsd.ts';
export { NftApplier, nftRunner, type NftRunner, type ApplyResult, type BlockedSource } from './apply.ts';
export { PolicyAgent, agentBaseUrl, type AgentOptions, type StepResult } from './agent.ts';
export { checkCompiled } from './check.ts';
export { spkiPin, parsePin, type TlsTrust } from './client.ts';
export {
  createEdgeEndpoint, EdgeRefusal, parseTokenFile, EDGE_NAME,
  type EdgeEndpoint, type PolicyHttpOptions, type AgentReport, type EdgeToken, type Counts as EdgeReportCounts,
} from './http.ts';
export { runPolicyCommand, type PolicyCommandContext } from './cli.ts';
export type { PolicyPort } from './port.ts';
