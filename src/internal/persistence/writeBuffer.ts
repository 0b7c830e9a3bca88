/**
 * Records waiting to be written, copied into one growing buffer: holding thousands of small
 * arrays until the next flush would make them survive into the old generation of the heap, where
 * collecting them costs in proportion to everything else there (a large cache).
 *
 * @internal
 */
export class Pending {
  private bytes = new Uint8Array(1 << 12)
  length = 0
  append(record: Uint8Array): void {
    if (this.length + record.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + record.length))
      grown.set(this.bytes.subarray(0, this.length))
      this.bytes = grown
    }
    this.bytes.set(record, this.length)
    this.length += record.length
  }
  /** Everything appended so far; the buffer starts empty again. */
  take(): Uint8Array {
    const taken = this.bytes.subarray(0, this.length)
    this.bytes = new Uint8Array(Math.max(1 << 12, Math.min(this.bytes.length, 1 << 20)))
    this.length = 0
    return taken
  }
  /** Puts back, before what was appended since, records taken but not written. */
  prepend(records: Uint8Array): void {
    const rest = this.take()
    this.append(records)
    this.append(rest)
  }
}
