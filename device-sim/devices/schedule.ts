/** The hub's heating schedule: comfortable by day, cooler at night. */
export interface Schedule {
  dayStartHour: number;
  nightStartHour: number;
  daySetpoint: number;
  nightSetpoint: number;
}

export const DEFAULT_SCHEDULE: Schedule = { dayStartHour: 6, nightStartHour: 22, daySetpoint: 19, nightSetpoint: 16 };

/**
 * The period and setpoint at an hour of the day.
 *
 * @example setpointAt(23) // { period: 'night', setpoint: 16 }
 */
export function setpointAt(hour: number, schedule: Schedule = DEFAULT_SCHEDULE): { period: 'day' | 'night'; setpoint: number } {
  const day = hour >= schedule.dayStartHour && hour < schedule.nightStartHour;
  return day ? { period: 'day', setpoint: schedule.daySetpoint } : { period: 'night', setpoint: schedule.nightSetpoint };
}
