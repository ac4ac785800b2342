/**
 * Simulated time of day, compressed so a whole day passes in seconds:
 * with `secondsPerHour: 1` a day lasts 24 s of wall time.
 *
 * @example
 * const clock = new SimClock({ startHour: 20, secondsPerHour: 1 });
 * clock.label(); // '20:00', two seconds later '22:00'
 */
export class SimClock {
  private readonly startedAt: number;

  constructor(
    private readonly opts: { startHour: number; secondsPerHour: number },
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Hours since midnight, fractional, in [0, 24). */
  hour(): number {
    const elapsedHours = (this.now() - this.startedAt) / 1000 / this.opts.secondsPerHour;
    return (((this.opts.startHour + elapsedHours) % 24) + 24) % 24;
  }

  /** Wall-clock seconds that make one simulated hour. */
  get secondsPerHour(): number {
    return this.opts.secondsPerHour;
  }

  /** `HH:MM` */
  label(): string {
    const minutes = Math.floor(this.hour() * 60);
    return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  }
}
