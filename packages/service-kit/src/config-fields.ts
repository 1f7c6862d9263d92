import { Type, type TInteger, type TString } from '@sinclair/typebox'

/** An integer setting with its default, lower bound and (optionally) upper bound. */
export const Int = (def: number, min: number, description: string, max?: number) =>
  Type.Integer({ default: def, minimum: min, ...(max === undefined ? {} : { maximum: max }), description })

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** HOST and PORT of a service's HTTP listener; `portName` lets the writer keep WRITER_PORT. */
export function httpFields<P extends string = 'PORT'>(opts: {
  port: number
  portName?: P
  hostDescription?: string
  portDescription?: string
}): { HOST: TString } & { [K in NoInfer<P>]: TInteger } {
  const port = Int(opts.port, 0, opts.portDescription ?? 'HTTP port', 65535)
  const host = Type.String({
    default: '0.0.0.0',
    minLength: 1,
    description: opts.hostDescription ?? 'Interface to listen on',
  })
  return { HOST: host, [opts.portName ?? 'PORT']: port } as { HOST: TString } & { [K in P]: TInteger }
}

/** LOG_LEVEL (pino) and SHUTDOWN_GRACE_MS: what every process needs to start and to stop. */
export function processFields(opts: { shutdownGraceMs: number }) {
  return {
    LOG_LEVEL: Type.Union(
      LOG_LEVELS.map((l) => Type.Literal(l)),
      { default: 'info', description: 'pino level' },
    ),
    SHUTDOWN_GRACE_MS: Int(
      opts.shutdownGraceMs,
      0,
      'Deadline of a graceful shutdown; past it the process exits 1',
    ),
  }
}

/** Where the brokers are and how a kafkajs client names itself and waits for them. */
export function kafkaFields(opts: {
  clientId: string
  connectionTimeoutMs: number
  requestTimeoutMs: number
}) {
  return {
    KAFKA_BROKERS: Type.String({
      default: '127.0.0.1:9092',
      pattern: '^[^,\\s]+(,[^,\\s]+)*$',
      description: 'Comma-separated host:port list',
    }),
    KAFKA_CLIENT_ID: Type.String({ default: opts.clientId, minLength: 1 }),
    KAFKA_TOPIC_PREFIX: Type.String({ default: '', description: 'Prepended to every topic name' }),
    KAFKA_CONNECTION_TIMEOUT_MS: Int(opts.connectionTimeoutMs, 1, 'kafkajs connectionTimeout'),
    KAFKA_REQUEST_TIMEOUT_MS: Int(opts.requestTimeoutMs, 1, 'kafkajs requestTimeout'),
  }
}

/** The broker list of a KAFKA_BROKERS value (the schema's pattern guarantees no empty entry). */
export function brokerList(value: string): string[] {
  return value.split(',')
}

/** A PostgreSQL connection URL setting; `description` says which server it points at. */
export function postgresUrlField(description: string) {
  return Type.String({ minLength: 1, pattern: '^postgres(ql)?://', description })
}
