/** The pure policy module: topics, scopes and the authorization decision. No I/O. */
export * from './topic.js';
export * from './scope.js';
export * from './decide.js';
