import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  BatcherClosedError,
  BatcherOverloadedError,
  FlushTimeoutError,
  MicroBatcher,
} from './micro-batcher.js'

function deferred() {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('MicroBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const make = (
    send: (items: number[]) => Promise<void>,
    over: Partial<{ maxItems: number; maxInFlight: number }> = {},
  ) =>
    new MicroBatcher<number>({
      lingerMs: 5,
      maxItems: over.maxItems ?? 100,
      maxPending: 10,
      maxInFlight: over.maxInFlight ?? 1,
      timeoutMs: 1000,
      send,
    })

  it('sends a submission to an idle batcher at once, without its linger', async () => {
    const sent: number[][] = []
    const b = make(async (items) => {
      sent.push(items)
    })
    const p = b.submit([1, 2])
    expect(sent).toEqual([[1, 2]])
    await p
  })

  it('gathers what arrives while a send is in flight and sends it in one call when that send returns', async () => {
    const gate = deferred()
    const sent: number[][] = []
    const b = make((items) => {
      sent.push(items)
      return sent.length === 1 ? gate.promise : Promise.resolve()
    })
    const first = b.submit([1])
    const rest = Promise.all([b.submit([2, 3]), b.submit([4])])
    expect(sent).toEqual([[1]])
    gate.resolve()
    await first
    await rest
    expect(sent).toEqual([[1], [2, 3, 4]])
  })

  it('opens another slot after the linger when the send in flight is slow', async () => {
    const gates = [deferred(), deferred()]
    const sent: number[][] = []
    const b = make(
      (items) => {
        sent.push(items)
        return gates[sent.length - 1]!.promise
      },
      { maxInFlight: 2 },
    )
    const first = b.submit([1])
    const rest = Promise.all([b.submit([2]), b.submit([3])])
    await vi.advanceTimersByTimeAsync(4)
    expect(sent).toEqual([[1]])
    await vi.advanceTimersByTimeAsync(1)
    expect(sent).toEqual([[1], [2, 3]])
    gates.forEach((g) => g.resolve())
    await Promise.all([first, rest])
  })

  it('flushes at once when the size limit is reached, without waiting for the linger', async () => {
    const sent: number[][] = []
    const b = make(
      async (items) => {
        sent.push(items)
        // The first send stays in flight, so what follows would otherwise wait for its linger.
        if (sent.length === 1) await new Promise(() => undefined)
      },
      { maxItems: 3, maxInFlight: 2 },
    )
    void b.submit([0])
    const p = Promise.all([b.submit([1, 2]), b.submit([3])])
    await vi.advanceTimersByTimeAsync(0)
    await p
    expect(sent).toEqual([[0], [1, 2, 3]])
  })

  it('rejects every submission of a failed flush, and only those', async () => {
    let calls = 0
    const b = make(async () => {
      calls++
      if (calls === 1) throw new Error('broker down')
    })
    const first = b.submit([1])
    const firstResult = first.catch((err: unknown) => err)
    await vi.advanceTimersByTimeAsync(5)
    expect(await firstResult).toEqual(new Error('broker down'))
    const second = b.submit([2])
    await vi.advanceTimersByTimeAsync(5)
    await expect(second).resolves.toBeUndefined()
  })

  it('fails a flush that outlives its deadline, and keeps counting it until the send settles', async () => {
    const gate = deferred()
    const b = make(() => gate.promise)
    const p = b.submit([1]).catch((err: unknown) => err)
    await vi.advanceTimersByTimeAsync(1005)
    expect(await p).toBeInstanceOf(FlushTimeoutError)
    // The send is still out there, holding its readings and its slot.
    expect(b.pending).toBe(1)
    expect(b.inFlight).toBe(1)
    gate.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(b.pending).toBe(0)
    expect(b.inFlight).toBe(0)
  })

  it('refuses items beyond maxPending and after close', async () => {
    const gate = deferred()
    const b = make(() => gate.promise)
    const first = b.submit([1, 2, 3, 4, 5, 6, 7, 8])
    await expect(b.submit([9, 10, 11])).rejects.toBeInstanceOf(BatcherOverloadedError)
    await vi.advanceTimersByTimeAsync(5)
    const closing = b.close()
    await expect(b.submit([1])).rejects.toBeInstanceOf(BatcherClosedError)
    gate.resolve()
    await closing
    await expect(first).resolves.toBeUndefined()
  })

  it('holds submissions while the flush slots are busy, then sends them together', async () => {
    const gates = [deferred(), deferred()]
    const sent: number[][] = []
    const b = make((items) => {
      sent.push(items)
      return gates[sent.length - 1]!.promise
    })
    const a = b.submit([1])
    await vi.advanceTimersByTimeAsync(5)
    const rest = Promise.all([b.submit([2]), b.submit([3])])
    await vi.advanceTimersByTimeAsync(20)
    expect(sent).toEqual([[1]])
    gates[0]!.resolve()
    await a
    await vi.advanceTimersByTimeAsync(5)
    expect(sent).toEqual([[1], [2, 3]])
    gates[1]!.resolve()
    await rest
  })

  it('close() sends what is waiting without waiting for the linger', async () => {
    const sent: number[][] = []
    const b = make(async (items) => {
      sent.push(items)
    })
    const p = b.submit([1])
    await b.close()
    await p
    expect(sent).toEqual([[1]])
  })

  describe('under a send that never settles', () => {
    const hung = () => new Promise<void>(() => {})

    it('keeps the slot busy, refuses new submissions at once while every slot is hung', async () => {
      const sends: number[][] = []
      const b = make((items) => {
        sends.push(items)
        return hung()
      })
      const first = b.submit([1, 2]).catch((err: unknown) => err)
      await vi.advanceTimersByTimeAsync(5)
      expect(sends).toEqual([[1, 2]])
      // Waits for the slot: not yet past any deadline.
      const queued = b.submit([3]).catch((err: unknown) => err)
      await vi.advanceTimersByTimeAsync(1000)
      expect(await first).toBeInstanceOf(FlushTimeoutError)
      expect(await queued).toBeInstanceOf(FlushTimeoutError)
      // The queued one was never sent and is forgotten; the hung one still counts.
      expect(b.pending).toBe(2)
      expect(sends).toEqual([[1, 2]])
      await expect(b.submit([4])).rejects.toBeInstanceOf(BatcherOverloadedError)
      await vi.advanceTimersByTimeAsync(60_000)
      await expect(b.submit([5])).rejects.toBeInstanceOf(BatcherOverloadedError)
      expect(sends).toEqual([[1, 2]])
    })

    it('never holds more than maxPending items, however long it lasts', async () => {
      const b = new MicroBatcher<number>({
        lingerMs: 5,
        maxItems: 3,
        maxPending: 10,
        maxInFlight: 2,
        timeoutMs: 1000,
        send: hung,
      })
      let accepted = 0
      let refused = 0
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < 5; i++) {
          b.submit([round, i]).catch((err: unknown) => {
            if (err instanceof BatcherOverloadedError) refused++
          })
          if (b.pending > 10) throw new Error(`pending ${b.pending} > maxPending`)
        }
        accepted = Math.max(accepted, b.pending)
        await vi.advanceTimersByTimeAsync(100)
      }
      expect(accepted).toBeLessThanOrEqual(10)
      expect(refused).toBeGreaterThan(0)
      // Two hung flushes of at most 3 items: what stays held is theirs, nothing queued is left over.
      await vi.advanceTimersByTimeAsync(2000)
      expect(b.inFlight).toBe(2)
      expect(b.pending).toBeLessThanOrEqual(6)
    })

    it('takes new submissions again once the send settles, even long after its deadline', async () => {
      const gate = deferred()
      let calls = 0
      const b = make(() => (++calls === 1 ? gate.promise : Promise.resolve()))
      const first = b.submit([1]).catch((err: unknown) => err)
      await vi.advanceTimersByTimeAsync(10_000)
      expect(await first).toBeInstanceOf(FlushTimeoutError)
      await expect(b.submit([2])).rejects.toBeInstanceOf(BatcherOverloadedError)
      gate.resolve()
      await vi.advanceTimersByTimeAsync(0)
      const next = b.submit([3])
      await vi.advanceTimersByTimeAsync(5)
      await expect(next).resolves.toBeUndefined()
      expect(b.pending).toBe(0)
    })
  })
})
