import { writeFileSync } from 'node:fs';
import { openApiDocument } from './openapi.js';

// Writes the contract for clients that generate types from it (the plugin UI).
writeFileSync(process.argv[2] ?? 'openapi.json', `${JSON.stringify(openApiDocument(), null, 2)}\n`);
