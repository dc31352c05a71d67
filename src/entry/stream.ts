// hopper-queue/stream: event streams and the PostgreSQL sink (`pg` or `@electric-sql/pglite`,
// optional peers, loaded when a sink first writes). Also exported by the main entry.
export * from '../stream/index.js';
