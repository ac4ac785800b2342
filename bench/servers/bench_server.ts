/**
 * What every server the bench can run in a child process provides: the ports
 * it bound and, optionally, operations the load generator may call over IPC
 * before a timed part (creating clients, issuing certificates).
 */
export interface BenchServer {
  ports: Record<string, number>;
  ops?: Record<string, (args: unknown) => unknown>;
  close(): Promise<void>;
}
