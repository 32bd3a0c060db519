// A policy answers every phase with a verdict; only bugs throw (STYLE.md).
import type { Reply } from './reply.ts';

export type Verdict =
  | { readonly ok: true; readonly reply?: Reply }
  | { readonly ok: false; readonly reply: Reply; readonly close?: boolean };

export const accept = (reply?: Reply): Verdict => (reply ? { ok: true, reply } : { ok: true });
export const refuse = (reply: Reply, close = false): Verdict => ({ ok: false, reply, close });
