import type { Measurement } from './results.js';
import { median, percentile } from './stats.js';

interface Reps {
  value: number[];
  cpu: number[];
  p50: number[];
  p99: number[];
  notes: Set<string>;
}

/**
 * Gathers each repetition's figures per server and reduces them to a
 * {@link Measurement}: medians of the rate, of CPU per operation and of each
 * repetition's p50 and p99.
 *
 * @example c.add('aedes', { value: 9000, cpuUsPerOp: 80, latencies }); c.get('aedes', 'connects/s')
 */
export class RepCollector {
  readonly #byName = new Map<string, Reps>();

  add(name: string, rep: { value: number; cpuUsPerOp?: number; latencies?: readonly number[]; note?: string }): void {
    let r = this.#byName.get(name);
    if (!r) this.#byName.set(name, (r = { value: [], cpu: [], p50: [], p99: [], notes: new Set() }));
    r.value.push(rep.value);
    if (rep.cpuUsPerOp !== undefined) r.cpu.push(rep.cpuUsPerOp);
    if (rep.latencies && rep.latencies.length > 0) {
      r.p50.push(percentile(rep.latencies, 50));
      r.p99.push(percentile(rep.latencies, 99));
    }
    if (rep.note) r.notes.add(rep.note);
  }

  get(name: string, unit: string): Measurement | null {
    const r = this.#byName.get(name);
    if (!r) return null;
    const m: Measurement = { value: median(r.value), unit, reps: r.value };
    if (r.cpu.length) m.cpuUsPerOp = median(r.cpu);
    if (r.p50.length) m.p50Ms = median(r.p50);
    if (r.p99.length) m.p99Ms = median(r.p99);
    if (r.notes.size) m.note = [...r.notes].join('; ');
    return m;
  }
}
