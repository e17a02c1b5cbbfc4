// Public surface of the wire protocol: message types and frame encoding.
export type { DecodeResult, Envelope, Frame, HostCommand, HostEvent, Output } from './codec.js';
export { decodeFrame, encodeCommand, encodeFrame, envelopeId } from './codec.js';
export type { JournalRead, JournalRecord } from './journal-codec.js';
export { decodeJournal, encodeJournalRecord } from './journal-codec.js';
