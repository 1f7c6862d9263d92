/** A line of an NDJSON body that is not JSON: rejected as that item, the other lines still count. */
export class MalformedLine {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {}
}

/** Splits NDJSON (one JSON value per line, blank lines ignored) into items. */
export function parseNdjson(text: string): unknown[] {
  const items: unknown[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    try {
      items.push(JSON.parse(line))
    } catch (err) {
      items.push(new MalformedLine(i + 1, (err as Error).message))
    }
  }
  return items
}
