// Policies the golden files are compiled from. Documentation address space only.
import { DEFAULT_SETTINGS, type PolicySnapshot } from '../model.ts';

const t0 = Date.UTC(2026, 0, 1);

/**
 * Interfaces named, reject with TCP reset, adjacent exemptions (merged into one range), both families; the
 * notice redirect for both (IPv4 to a garden entry that already allows port 80, IPv6 to a port no entry names).
 */
export const edgePolicy: PolicySnapshot = {
  at: t0,
  pools: [
    { prefix: '198.51.100.0/25', class: 'dynamic', note: 'residential DHCP' },
    { prefix: '198.51.100.128/26', class: 'cgnat', note: '' },
    { prefix: '203.0.113.0/24', class: 'static', note: 'business statics' },
    { prefix: '2001:db8:1000::/40', class: 'dynamic', note: 'IPv6 PD /56s' },
    { prefix: '2001:db8:2000::/48', class: 'business', note: '' },
  ],
  relays: [
    { prefix: '192.0.2.25', kind: 'provider', customer: '', note: 'smtp.isp.example' },
    { prefix: '2001:db8::25', kind: 'provider', customer: '', note: 'smtp.isp.example' },
    { prefix: '198.51.100.100', kind: 'customer', customer: 'acme', note: 'contract 42' },
  ],
  exemptions: [
    { id: 1, prefix: '198.51.100.8', customer: 'c-8', reason: 'premium tier', grantedBy: 'desk', grantedAt: t0, expiresAt: null },
    { id: 2, prefix: '198.51.100.7', customer: 'c-7', reason: 'premium tier', grantedBy: 'desk', grantedAt: t0, expiresAt: t0 + 86_400_000 },
    { id: 3, prefix: '2001:db8:1000:100::/56', customer: 'c-v6', reason: 'own MTA', grantedBy: 'desk', grantedAt: t0, expiresAt: null },
  ],
  quarantines: [
    { prefix: '198.51.100.66', subscriber: 's-66', reason: 'bot: 50 distinct :25 destinations', caseId: 'case-1', since: t0, by: 'abuse' },
    { prefix: '2001:db8:1000:200::/56', subscriber: 's-v6', reason: 'XBL listing', caseId: 'case-2', since: t0, by: 'abuse' },
  ],
  garden: [
    { prefix: '192.0.2.53', proto: 'both', ports: '53', note: 'resolver' },
    { prefix: '192.0.2.80', proto: 'tcp', ports: '80,443', note: 'portal' },
    { prefix: '2001:db8::53', proto: 'both', ports: '53', note: 'resolver' },
    { prefix: '203.0.113.128/25', proto: 'tcp', ports: '443,8000-8100', note: 'remediation' },
  ],
  settings: { subscriberIfaces: ['veth-sub', 'ppp*'], upstreamIfaces: ['eth0'], action: 'reject', relay25: true, notice4: '192.0.2.80:80', notice6: '[2001:db8::80]:8080' },
};

/** Pure address matching, silent drop, no relay access on 25, nothing exempt or quarantined. */
export const plainPolicy: PolicySnapshot = {
  at: t0,
  pools: [
    { prefix: '198.51.100.0/24', class: 'dynamic', note: '' },
    { prefix: '2001:db8:1000::/40', class: 'cgnat', note: '' },
  ],
  relays: [{ prefix: '192.0.2.25', kind: 'provider', customer: '', note: '' }],
  exemptions: [],
  quarantines: [],
  garden: [],
  settings: { ...DEFAULT_SETTINGS, action: 'drop', relay25: false },
};
