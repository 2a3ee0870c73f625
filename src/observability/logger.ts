import pino from 'pino';
import { z } from 'zod';
import { REDACTED, redactPaths, scrubRecord, serializeError } from './redaction.ts';

/** LogLevelSchema lists the accepted `LOG_LEVEL` values, most verbose first. */
export const LogLevelSchema = z.enum(['trace', 'debug', 'info', 'warn', 'error']);

/** LogLevel is one of LogLevelSchema's values. */
export type LogLevel = z.infer<typeof LogLevelSchema>;

/** Logger is the structured JSON logger every component receives through its deps. */
export type Logger = pino.Logger;

/** LoggerOptions configures createLogger; `destination` defaults to stdout. */
export type LoggerOptions = {
  level: LogLevel;
  destination?: pino.DestinationStream;
  base?: Record<string, string>;
};

/**
 * createLogger returns a pino JSON logger whose output never contains a secret: values under SECRET_KEYS are
 * redacted at any depth (a deep scrub of merged objects and child bindings, plus pino redact paths), and
 * errors are reduced to `{ type, code, status, message }`. Values interpolated into the message string are
 * not inspected: never format a secret into a message.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: options.base ?? null,
    redact: { paths: redactPaths(), censor: REDACTED },
    serializers: { err: serializeError, error: serializeError },
    formatters: {
      log: scrubRecord,
      bindings: scrubRecord,
    },
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}
