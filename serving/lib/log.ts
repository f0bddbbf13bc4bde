// JSON logs on stderr (stdout stays free for command output such as `validate`'s summary).
import winston from 'winston';

export type Logger = Pick<winston.Logger, 'info' | 'warn' | 'error' | 'debug'>;

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [
      new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly'] }),
    ],
  });
}

export const silentLogger: Logger = {
  info: () => silentLogger as never,
  warn: () => silentLogger as never,
  error: () => silentLogger as never,
  debug: () => silentLogger as never,
};
