import { afterAll, afterEach, beforeAll } from 'vitest';
import { airflowServer } from './fake-airflow.js';

beforeAll(() => airflowServer.listen({ onUnhandledRequest: 'bypass' }));
afterEach(() => airflowServer.resetHandlers());
afterAll(() => airflowServer.close());
