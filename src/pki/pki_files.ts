/** File names inside `--certs-dir` (docs/INTERFACE.md#running-the-server). */
export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
} as const;
