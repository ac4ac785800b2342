import type { TimelineEntry } from '../timeline.js';

/** The cast of the demo. */
export const CAST = {
  hub: 'hub',
  jwtThermostat: 'thermostat-1',
  certThermostat: 'thermostat-2',
  /** Joins mid-run: the hub vouches for it with a one-time claim. */
  newThermostat: 'thermostat-3',
  rogue: 'rogue',
} as const;

export interface CheckResult {
  id: string;
  description: string;
  ok: boolean;
  detail?: string;
}

/** Facts the timeline alone does not hold. */
export interface ScenarioFacts {
  /** Timeline time (ms) at which `client disable` returned; null if it never ran. */
  disabledAt: number | null;
  /** Timeline time at which the devices were stopped. */
  endedAt: number;
  serverExitCode: number | null;
}

/**
 * Every event the demo promises, judged from the timeline. The demo exits 0
 * only if each holds; the e2e test checks the same events itself.
 *
 * @example const results = checkScenario(timeline.entries, facts); results.every((r) => r.ok)
 */
export function checkScenario(entries: TimelineEntry[], facts: ScenarioFacts): CheckResult[] {
  const of = (actor: string, kind: string): TimelineEntry[] => entries.filter((e) => e.actor === actor && e.kind === kind);
  const d = (e: TimelineEntry, key: string): unknown => e.data?.[key];
  const { hub, jwtThermostat: t1, certThermostat: t2, newThermostat: t3, rogue } = CAST;
  const results: CheckResult[] = [];
  const check = (id: string, description: string, ok: boolean, detail?: string): void => {
    results.push({ id, description, ok, ...(detail !== undefined && !ok ? { detail } : {}) });
  };

  check('server_listening', 'latchkey started on free ports', of('latchkey', 'listening').length === 1);

  check('hub_connected', `${hub} connected with a JWT`, of(hub, 'connected').some((e) => d(e, 'mode') === 'jwt'));
  check('jwt_thermostat_connected', `${t1} connected with a JWT`, of(t1, 'connected').some((e) => d(e, 'mode') === 'jwt'));
  check('cert_thermostat_connected', `${t2} connected with its certificate over MQTTS`, of(t2, 'connected').some((e) => d(e, 'mode') === 'certificate'));

  const heardFrom = new Set(of(hub, 'telemetry_received').map((e) => d(e, 'from')));
  check('hub_hears_thermostats', `${hub} received telemetry from ${t1} and ${t2}`, heardFrom.has(t1) && heardFrom.has(t2), `heard from ${[...heardFrom].join(', ') || 'nobody'}`);

  const sentToT1 = new Set(of(hub, 'setpoint_sent').filter((e) => d(e, 'to') === t1).map((e) => d(e, 'setpoint')));
  check('schedule_night_and_day', `${hub} sent ${t1} the night (16 °C) and day (19 °C) setpoints`, sentToT1.has(16) && sentToT1.has(19), `sent ${[...sentToT1].join(', ')}`);
  const appliedByT1 = new Set(of(t1, 'setpoint_applied').map((e) => d(e, 'setpoint')));
  check('thermostat_obeys', `${t1} applied 16 °C and 19 °C`, appliedByT1.has(16) && appliedByT1.has(19), `applied ${[...appliedByT1].join(', ')}`);
  check('cert_thermostat_obeys', `${t2} applied a setpoint from ${hub}`, of(t2, 'setpoint_applied').length > 0);
  check('heater_switches', `${t1}'s heater switched on or off with the schedule`, of(t1, 'heater').length > 0);

  for (const id of [hub, t1]) {
    const renewed = of(id, 'renewed').filter((e) => d(e, 'via') === 'mqtt');
    const connects = of(id, 'connected').length;
    const drops = of(id, 'disconnected').filter((e) => e.t < facts.endedAt).length;
    check(
      `${id}_renews_in_session`,
      `${id} renewed its token over MQTT and kept one session throughout`,
      renewed.length > 0 && connects === 1 && drops === 0,
      `${renewed.length} renewals, ${connects} connects, ${drops} drops`,
    );
  }

  check('hub_mints_claim', `${hub} minted a one-time claim over its own session`, of(hub, 'claim_minted').length === 1);
  check(
    'new_thermostat_provisioned',
    `${t3} provisioned itself with the hub's claim and connected with its own certificate`,
    of(t3, 'provisioned').length === 1 && of(t3, 'connected').some((e) => d(e, 'mode') === 'certificate'),
  );
  check('hub_hears_new_thermostat', `${hub} received telemetry from ${t3}`, heardFrom.has(t3), `heard from ${[...heardFrom].join(', ') || 'nobody'}`);
  const replay = entries.find((e) => e.actor === rogue && e.kind === 'refused' && d(e, 'attempt') === 'claim_replay');
  check('rogue_claim_replay_refused', `${rogue} replaying the spent claim was refused with CONNACK 4`, replay !== undefined && d(replay, 'returnCode') === 4);

  const forged = entries.find((e) => e.actor === rogue && e.kind === 'refused' && d(e, 'attempt') === 'forged_token');
  check('rogue_forged_token_refused', `a forged token for ${t1} was refused with CONNACK 4`, forged !== undefined && d(forged, 'returnCode') === 4);
  check(
    'rogue_subscribe_all_denied',
    `${rogue}'s subscription to # was refused`,
    of(rogue, 'denied').some((e) => d(e, 'topic') === '#') && of('latchkey', 'subscribe_denied').some((e) => d(e, 'principal') === rogue),
  );
  const attemptAt = entries.find((e) => e.actor === rogue && e.kind === 'attempt' && d(e, 'attempt') === 'foreign_setpoint')?.t ?? Number.POSITIVE_INFINITY;
  check(
    'rogue_setpoint_cut_off',
    `${rogue}'s setpoint for ${t1} was denied and its connection closed`,
    of(rogue, 'disconnected').some((e) => e.t >= attemptAt) &&
      of('latchkey', 'publish_denied').some((e) => d(e, 'principal') === rogue && (d(e, 'detail') as { topic?: unknown } | null)?.topic === `home/${t1}/setpoint`),
  );
  check('rogue_setpoint_never_applied', `${t1} never applied the rogue's 30 °C`, !of(t1, 'setpoint_applied').some((e) => d(e, 'setpoint') === 30));

  const disabledAt = facts.disabledAt;
  // The cut-off may come before the CLI process has even exited (the change is committed inside it), so look for it
  // from the moment the command was typed; its delay counts from when the command returned, 0 if it came before.
  const typedAt = of('operator', 'disable')[0]?.t ?? disabledAt;
  const cutOff = disabledAt === null || typedAt === null ? undefined : of(t2, 'disconnected').find((e) => e.t >= typedAt);
  const cutOffAfter = cutOff && disabledAt !== null ? Math.max(0, cutOff.t - disabledAt) : null;
  check(
    'revoked_thermostat_cut_off',
    `${t2} was cut off within 2 s of the operator disabling it`,
    cutOffAfter !== null && cutOffAfter <= 2000 && of('latchkey', 'disconnected_by_broker').some((e) => d(e, 'principal') === t2),
    cutOffAfter !== null ? `after ${cutOffAfter} ms` : 'no disconnect seen',
  );
  check(
    'revoked_thermostat_stays_out',
    `${t2} was refused (CONNACK 5) when it tried to come back`,
    disabledAt !== null && of(t2, 'refused').some((e) => e.t > disabledAt && d(e, 'returnCode') === 5) && !of(t2, 'connected').some((e) => e.t > disabledAt),
  );
  check(
    'hub_stops_hearing_revoked',
    `${hub} heard nothing more from ${t2}`,
    disabledAt !== null && !of(hub, 'telemetry_received').some((e) => d(e, 'from') === t2 && e.t > disabledAt + 1500),
  );

  check('clean_shutdown', 'latchkey stopped cleanly on SIGTERM (exit 0)', facts.serverExitCode === 0, `exit ${String(facts.serverExitCode)}`);
  return results;
}
