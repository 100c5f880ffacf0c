import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Every schema module imports z from here, so `.openapi()` exists whatever the import order.
extendZodWithOpenApi(z);

export { z };
