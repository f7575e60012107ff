export {
  type ParsedTimestamp,
  parseRfc3161Timestamp,
  type TimestampAuthority,
  verifyRfc3161Timestamp,
} from './timestamp.js';
