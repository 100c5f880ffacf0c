import { pino } from 'pino';
import { AirflowClient } from './airflow/client.js';
import { createApp } from './app.js';
import { Reconciler } from './approvals/reconcile.js';
import { ApprovalService } from './approvals/service.js';
import { SqlApprovalStore } from './approvals/store.js';
import { loadConfig } from './config.js';
import { airflowTokenVerifier } from './identity/tokens.js';
import { OutboxWorker } from './outbox/worker.js';
import { createDb, migrate } from './store/db.js';

// Composition root: the only place that reads the environment and wires real collaborators.
async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    console.error(`airgate bridge: ${(err as Error).message}`);
    process.exit(2);
  }
  const log = pino({ level: config.LOG_LEVEL });
  const db = createDb({ databaseUrl: config.DATABASE_URL, sqliteFile: config.AIRGATE_DB_FILE });
  await migrate(db);
  const airflow = new AirflowClient(config.AIRFLOW_URL, { username: config.AIRFLOW_USERNAME, password: config.AIRFLOW_PASSWORD });
  const store = new SqlApprovalStore(db);
  const outbox = new OutboxWorker(db, airflow, log, config.OUTBOX_INTERVAL_MS);
  const service = new ApprovalService(store, () => void outbox.kick(), undefined, config.HITL_SETTLE_MS);
  const reconciler = new Reconciler(airflow, store, config.AIRFLOW_USERNAME, log);

  const app = createApp({
    log,
    store,
    service,
    verifyToken: airflowTokenVerifier(config.AIRFLOW_JWT_SECRET, config.AIRFLOW_JWT_AUDIENCE),
    readiness: async () => {
      const [storeOk, airflowOk, depth] = await Promise.all([
        db.selectFrom('approval').select('id').limit(1).execute().then(() => true, () => false),
        airflow.health().catch(() => false),
        outbox.depth().catch(() => null),
      ]);
      return { ok: storeOk && airflowOk, details: { store: storeOk, airflow: airflowOk, outbox: depth } };
    },
  });

  outbox.start();
  reconciler.start(config.RECONCILE_INTERVAL_MS);
  const server = app.listen(config.PORT, config.HOST, () => {
    log.info({ port: config.PORT, airflow: config.AIRFLOW_URL }, 'airgate bridge listening');
  });

  const shutdown = async () => {
    server.close();
    await Promise.all([reconciler.stop(), outbox.stop()]);
    await db.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

void main();
