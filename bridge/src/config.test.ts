import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const ENV = {
  AIRFLOW_PASSWORD: 'pw',
  AIRFLOW_JWT_SECRET: 'jwt-secret-0123456789abcdef',
  AIRGATE_SERVICE_TOKEN: 'service-token-0123456789abcdef',
  AIRGATE_AUDIT_KEY: 'audit-key-0123456789abcdef-0123456789',
};

describe('configuration', () => {
  it('needs an audit key of its own: missing, short or equal to the service token stops the start naming it', () => {
    expect(loadConfig(ENV).AIRGATE_AUDIT_KEY).toBe(ENV.AIRGATE_AUDIT_KEY);
    const { AIRGATE_AUDIT_KEY: _, ...missing } = ENV;
    expect(() => loadConfig(missing)).toThrow(/^configuration: AIRGATE_AUDIT_KEY: /);
    expect(() => loadConfig({ ...ENV, AIRGATE_AUDIT_KEY: 'short' })).toThrow('configuration: AIRGATE_AUDIT_KEY: must be at least 32 characters');
    expect(() => loadConfig({ ...ENV, AIRGATE_AUDIT_KEY: 'x'.repeat(40), AIRGATE_SERVICE_TOKEN: 'x'.repeat(40) })).toThrow('configuration: AIRGATE_AUDIT_KEY: must differ from AIRGATE_SERVICE_TOKEN');
  });

  it('checkpoints the audit head at least every minute', () => {
    expect(loadConfig(ENV).AUDIT_CHECKPOINT_INTERVAL_MS).toBe(60_000);
    expect(() => loadConfig({ ...ENV, AUDIT_CHECKPOINT_INTERVAL_MS: '120000' })).toThrow(/^configuration: AUDIT_CHECKPOINT_INTERVAL_MS: /);
  });

  it('keeps decided approvals for ever unless a retention duration is given', () => {
    expect(loadConfig(ENV).APPROVAL_RETENTION).toBeUndefined();
    expect(loadConfig({ ...ENV, APPROVAL_RETENTION: '90d' }).APPROVAL_RETENTION).toBe(90 * 86_400_000);
    expect(() => loadConfig({ ...ENV, APPROVAL_RETENTION: 'a while' })).toThrow('configuration: APPROVAL_RETENTION: expected a duration like 30s, 15m, 2h, 1d');
  });
});
