import { writePrivateFile } from './private-file.js'

/**
 * `.data/stack.pids.json`: the process id of every supervised unit, rewritten whenever one (re)starts,
 * so that tools outside the stack (the chaos bench, an operator) can inject faults by signalling them.
 */
export class PidFile {
  private readonly pids: Record<string, number> = {}

  constructor(private readonly file: string) {}

  set(name: string, pid: number | undefined): void {
    if (pid === undefined) delete this.pids[name]
    else this.pids[name] = pid
    writePrivateFile(this.file, `${JSON.stringify(this.pids, null, 2)}\n`)
  }
}
