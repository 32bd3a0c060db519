// core: the few types every part shares (reply, verdict, logger, clock, the SASL
// exchange between smtp and auth), the RFC 5952 zero-run rule, client address and
// network keys for connection counts (`netkey.ts`), pump() (stream.pipeline's
// settling without its per-call cost), and visible() for client and message text
// shown on a terminal.
// Trusts nothing and imports nothing from other parts; every part may import it.
export { type Reply, type ReplyCode, reply, formatReply, isPositive, isTransient, isPermanent } from './reply.ts';
export { REPLIES, replyKeyOf, type ReplyKey, type LimitRuleInfo, replyLine, retryText, periodText } from './replies.ts';
export { type Verdict, accept, refuse } from './verdict.ts';
export { type Logger, silentLogger, MemoryLogger } from './log.ts';
export { type Clock, systemClock, ManualClock } from './clock.ts';
export { pump } from './pump.ts';
export type { SaslStep, SaslExchange } from './sasl.ts';
export { zeroRunStart, zeroRunLength } from './ipv6.ts';
export { type IpAddr, parseIp, formatIp, maskIp, prefixKey, inPrefix } from './ip.ts';
export { type ClientKeys, clientKeys } from './netkey.ts';
export { visible, terminalJson } from './terminal.ts';
export { loadSecretFile, SECRET_SIZE } from './secret-file.ts';
export { counterDelta } from './counter.ts';
