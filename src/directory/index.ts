// directory: subscribers and the addresses they held over time.
//
// Purpose: answer "who held ADDRESS[:PORT] at TIME?" for any moment within
// retention (RFC 6302: behind CGNAT the source port matters), from static
// entries, RADIUS accounting (a server of our own and FreeRADIUS detail files),
// Kea memfile lease files and the API.
//
// Trusts: the store. Everything read from the network or from files (RADIUS
// packets, detail files, lease files) is checked field by field; a bad record
// is counted and skipped, never fatal.
//
// Standards: RFC 2866 (RADIUS accounting), RFC 3162 and RFC 4818 (IPv6 prefixes
// in RADIUS), RFC 6302 (source port and exact time), RFC 5952 (address text),
// RFC 6598 (CGNAT shared space).
export * from './types.ts';
export { openDirectory, type DirectoryOptions, type OpenedDirectory } from './repository.ts';
export { DirectoryError, type DirectoryErrorCode } from './input.ts';
export { canonicalPrefix, candidateKeys, type CanonicalPrefix } from './prefix.ts';
export { migrations as directoryMigrations } from './schema.ts';
export { RadiusServer, type RadiusServerOptions, type SourceCounts, type DropReason, type RefuseReason } from './radius.ts';
export { parseClients, loadClients, matchClient, SecretFileError, type RadiusClient } from './radius-clients.ts';
export { DetailSource, type DetailSourceOptions, type FileSourceCounts } from './detail.ts';
export { PositionFiles, type Position } from './follow.ts';
export { KeaLeaseSource, type KeaSourceOptions } from './kea.ts';
export { AccountingApplier, SubscriberResolver } from './accounting-apply.ts';
export { currentPrefixes } from './current.ts';
