// Kafka's default partitioner: murmur2 of the key bytes, made positive, modulo the partition count.
// The Java client and kafkajs' DefaultPartitioner compute the same, so the gateway can pack readings
// that land on one partition into one message and still keep each device on its own partition.
const SEED = 0x9747b28c
const M = 0x5bd1e995

/** murmur2 (32-bit) as Kafka uses it, over UTF-8 bytes. */
export function murmur2(key: string | Uint8Array): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
  const length = data.length
  let h = SEED ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i]! & 0xff) |
      ((data[i + 1]! & 0xff) << 8) |
      ((data[i + 2]! & 0xff) << 16) |
      ((data[i + 3]! & 0xff) << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const tail = length & 3
  if (tail === 3) h ^= (data[whole + 2]! & 0xff) << 16
  if (tail >= 2) h ^= (data[whole + 1]! & 0xff) << 8
  if (tail >= 1) {
    h ^= data[whole]! & 0xff
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner picks for a key. */
export function partitionForKey(key: string, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount
}
