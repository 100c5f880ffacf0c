import axios from 'axios';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/** A one-click link's token is a bearer credential: request logs show `/a/[redacted]` instead. */
export const redactUrl = (url: string): string => url.replace(/^\/a\/[^/?#]*/, '/a/[redacted]');

/**
 * Errors as logged: an Airflow client error carries its request config, whose Authorization header is the
 * service account's token; only what says what went wrong is kept.
 */
export function errorForLog(err: unknown): Record<string, unknown> {
  if (axios.isAxiosError(err)) {
    return { type: 'AxiosError', message: err.message, code: err.code, status: err.response?.status, method: err.config?.method, url: err.config?.url };
  }
  return pino.stdSerializers.err(err as Error);
}

/** The bridge's logger: JSON lines, errors through errorForLog. */
export function createLogger(level: LoggerOptions['level'], destination?: DestinationStream): Logger {
  const options: LoggerOptions = { level: level ?? 'info', serializers: { err: errorForLog } };
  return destination ? pino(options, destination) : pino(options);
}
