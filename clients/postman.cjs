// Convert an OpenAPI file to a Postman collection on stdout, the same bytes every run.
// The converter fakes values for schemas without examples from Math.random and the clock;
// seed the one and fix the other.
'use strict';
const fs = require('node:fs');
let seed = 19;
Math.random = () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const FIXED_MS = Date.UTC(2026, 0, 1);
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    super(...(args.length ? args : [FIXED_MS]));
  }
  static now() {
    return FIXED_MS;
  }
};

// Required after seeding: the faker keeps a reference to Math.random.
const converter = require('openapi-to-postmanv2');

const spec = fs.readFileSync(process.argv[2], 'utf8');
const options = { folderStrategy: 'Tags', parametersResolution: 'Example', requestNameSource: 'Fallback' };
converter.convert({ type: 'string', data: spec }, options, (err, result) => {
  if (err || !result.result) {
    process.stderr.write(`openapi-to-postmanv2: ${err ? err.message : result.reason}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(result.output[0].data));
});
