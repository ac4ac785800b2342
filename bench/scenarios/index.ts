import type { Scenario } from '../harness/context.js';
import { clusterScenario } from './cluster.js';
import { connectScenario } from './connect.js';
import { enforcementScenario } from './enforcement.js';
import { memoryScenario } from './idle_memory.js';
import { mtlsScenario } from './mtls_connect.js';
import { publishScenario } from './publish.js';
import { tlsScenario } from './tls_connect.js';
import { tokenScenario } from './token_endpoint.js';

/** Every scenario, in the order a full run takes them. */
export const SCENARIOS: Scenario[] = [connectScenario, tlsScenario, mtlsScenario, publishScenario, memoryScenario, tokenScenario, enforcementScenario, clusterScenario];
