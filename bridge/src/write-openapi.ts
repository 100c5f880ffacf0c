import { writeFileSync } from 'node:fs';
import { everyRouteBridge } from './contract-bridge.js';

// Writes the contract for clients that generate types from it (the plugin UI).
writeFileSync(process.argv[2] ?? 'openapi.json', `${JSON.stringify(everyRouteBridge().openapi, null, 2)}\n`);
