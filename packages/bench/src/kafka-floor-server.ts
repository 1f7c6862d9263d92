// The gateway bench's floor (kafka-floor.ts) as its own process, like the gateway and the bare route:
// PORT=… KAFKA_BROKERS=… node dist/kafka-floor-server.js
import { buildFloor } from './kafka-floor.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'
const app = await buildFloor(process.env)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)))
}
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
