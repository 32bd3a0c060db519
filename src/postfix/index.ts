// postfix: portwarden's limits, account status and lockouts for an existing
// Postfix, over its policy delegation protocol (check_policy_service).
//
// Purpose: a provider that keeps Postfix for submission gets the same sending
// limits (per account, subscriber, address, prefix and aggregate, from the same
// store, so a fleet of Postfix and portwarden nodes shares one count), the same
// disabled-account refusal and the same brute-force lockouts. Configure in main.cf:
//   smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:PORT, …
//   smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:PORT  (optional: settles refused recipients)
//
// Trusts: Postfix for the attributes (sasl_username is the login Postfix
// authenticated; client_address is the peer it saw). Trusts nothing else on the
// socket: bad input closes the connection; listen on loopback or a private network.
//
// Standards: Postfix SMTPD_POLICY_README (protocol) and access(5) (actions);
// replies per RFC 3463 / RFC 5248: 450 4.7.1 limit, 550 5.7.28 flood,
// 550 5.7.1 disabled, 450 4.7.0 locked out, 451 4.3.0 unavailable.
export { createPolicyServer, type PolicyServer, type PolicyServerOptions } from './server.ts';
export {
  PolicyEngine, type PolicyEngineOptions, type AccountStatus, type AccountInfo, type Attributes,
  type PolicyEvent, type PolicyOutcome, type FloodEvent,
} from './engine.ts';
