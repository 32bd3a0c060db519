// control: the running server's local control channel, and the queue actions
// behind it. A Unix domain socket at <dataDir>/control.sock (mode 0600)
// speaks newline-delimited JSON: {op, ids?, all?, account?, sender?, reason?}
// → {ok:true, op, …} | {ok:false, error:{code, message}}. The server that owns
// the spool is the only one that changes it, so `portwarden queue hold|release|
// delete|requeue|flush` talk to it here; list and show also read the spool
// directly when no server runs. Each request runs the application layer's
// operation (queue.*, limits.show) as the operator "control", audited like the
// CLI's and the API's (runQueueOp maps a request onto it). The abuse cases
// (`portwarden case`) come here too: {op:"case", case:{name, input}, user},
// run as cases.NAME by the operator the CLI names.
// Trusts: whoever can open the socket (the file mode limits that to the
// server's user and root); every request is still checked before it acts.
// Standards: none on the wire (JSON lines, RFC 8259); the actions mirror
// Postfix's postqueue -p/-f and postsuper -h/-H/-d/-r.
export { createControlServer, controlServerRunning, controlSocketPath, type ControlServer, type ControlServerOptions } from './server.ts';
export { controlRequest } from './client.ts';
export { runQueueOp, type QueueDeps, type RelayPort } from './ops.ts';
export {
  CONTROL_OPS, CASE_OPS, MAX_REQUEST_BYTES, parseRequest, checkRequest,
  type ControlOp, type CaseOp, type ControlRequest, type ControlResponse, type ControlErrorCode,
} from './protocol.ts';
