// Starts kinesalite on one address: its own CLI always listens on every interface and has no host option.
// Usage: node kinesalite.js HOST PORT [LEVELDB_PATH]   (no path: in memory, for private test endpoints)
// With a path, every PutRecord(s) is written to LevelDB's log before it is acknowledged, so an
// acknowledged record survives a kill -9 of this process.
const kinesalite = require('kinesalite');

const [host, port, path] = process.argv.slice(2);
const quick = 100; // ms a stream stays CREATING, DELETING or UPDATING (Kinesis: seconds; tests need not wait)
kinesalite({path, createStreamMs: quick, deleteStreamMs: quick, updateStreamMs: quick, shardLimit: 100})
  .listen(Number(port), host, () => console.log(`kinesalite listening on ${host}:${port}, store ${path || 'memory'}`));
