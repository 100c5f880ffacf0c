import { createTwoFilesPatch } from 'diff';
import type { DagScope } from '../../identity/dag-access.js';
import type { Person } from '../../identity/tokens.js';
import { conflict, forbidden, notFound, unprocessable } from '../../refusal.js';
import { type PolicySet, PolicyError, parsePolicies } from '../load.js';
import type { PolicyDecision, PolicyVersion, ProposePolicyChange } from './schemas.js';
import type { PolicyVersionState, PolicyVersionStore, StoredPolicyVersion } from './store.js';

/**
 * Four-eyes on the policies: a new version takes effect only once someone other than its author approves it, and
 * until then the last approved version stays in force. Proposals come from people (the API and UI) or from edits
 * of the watched file, which name nobody; approving takes an Airflow admin who did not propose it. The set in force
 * is read from the store, so every replica decides under the same version.
 */
export class PolicyChanges {
  #current: PolicySet | null = null;
  private readonly now: () => Date;

  constructor(
    private readonly store: PolicyVersionStore,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** The policies in force (PolicySource): the last approved version, as last read from the store. */
  current(): PolicySet {
    if (!this.#current) throw new Error('no policy version is in force yet: start() adopts the first one');
    return this.#current;
  }

  /**
   * Reads the version in force; with none yet (a new store), adopts `initial` (the file at first start) as the
   * first, audited. Throws PolicyError when that first text is invalid, like a bad file at start.
   */
  async start(initial: { text: string; source: string }): Promise<PolicySet> {
    if (!(await this.store.inForce())) {
      const set = parsePolicies(initial.text, initial.source);
      const at = this.now().toISOString();
      await this.store.insert(
        { version: set.version, text: initial.text, source: initial.source, proposed_by: null, proposed_at: at, base_version: null, reason: 'first start', state: 'approved', decided_by: 'system', decided_at: at, decision_reason: 'no version was in force' },
        { actor: 'system', action: 'policy.adopted', details: { version: set.version, source: initial.source } },
      );
    }
    return this.refresh();
  }

  /** Re-reads the version in force (another replica may have approved one). */
  async refresh(): Promise<PolicySet> {
    const row = await this.store.inForce();
    if (!row) throw new Error('no policy version is in force');
    if (this.#current?.version !== row.version) this.#current = parsePolicies(row.text, `policy version ${row.version}`);
    return this.#current;
  }

  /** The version in force and the changes waiting, with their diffs. */
  async overview(): Promise<{ in_force: PolicyVersion; pending: PolicyVersion[] }> {
    const [inForce, pending] = await Promise.all([this.store.inForce(), this.store.list({ state: 'pending', limit: 200 })]);
    if (!inForce) throw new Error('no policy version is in force');
    return { in_force: await this.withDiff(inForce), pending: await Promise.all(pending.map((row) => this.withDiff(row))) };
  }

  async list(filter: { state?: PolicyVersionState; limit: number }): Promise<PolicyVersion[]> {
    return Promise.all((await this.store.list(filter)).map((row) => this.withDiff(row)));
  }

  async get(version: string): Promise<PolicyVersion> {
    const row = await this.store.find(version);
    if (!row) throw notFound(`policy version ${version} not found`);
    return this.withDiff(row);
  }

  /** `person` proposes a whole new text; it is validated as the file is, and waits for another's approval. */
  async propose(person: Person, change: ProposePolicyChange): Promise<PolicyVersion> {
    return this.#propose(change.text, { source: 'api', by: person.user, reason: change.reason });
  }

  /** The watched file changed: its text waits for approval like any proposal, naming no author. */
  async proposeFile(text: string, path: string): Promise<PolicyVersion | undefined> {
    const known = await this.store.find(this.#parse(text, path).version);
    if (known) return undefined;
    return this.#propose(text, { source: path, by: null, reason: 'the policies file changed' });
  }

  async approve(version: string, person: Person, scope: DagScope, decision: PolicyDecision): Promise<PolicyVersion> {
    const row = await this.#pendingFor(version, person, scope, 'approve');
    if (row.proposed_by === person.user) {
      await this.#refused(person, version, 'four_eyes');
      throw forbidden(`${person.user} proposed policy version ${version}: someone else must approve it`, 'four_eyes');
    }
    const at = this.now().toISOString();
    const decided = await this.store.decide(
      version,
      { state: 'approved', by: person.user, at, reason: decision.reason ?? null, base: row.base_version },
      { actor: person.user, action: 'policy.approved', reason: decision.reason ?? null, details: { version, replaces: row.base_version, proposed_by: row.proposed_by }, at },
    );
    if (!decided) return this.#undecided(version, person, row);
    await this.refresh();
    return this.withDiff(decided);
  }

  async reject(version: string, person: Person, scope: DagScope, decision: PolicyDecision): Promise<PolicyVersion> {
    if (!decision.reason) throw unprocessable('reason_required', 'a reason is required to reject a policy change', 'reason');
    const row = await this.#pendingFor(version, person, scope, 'reject');
    const at = this.now().toISOString();
    const decided = await this.store.decide(
      version,
      { state: 'rejected', by: person.user, at, reason: decision.reason, base: row.base_version },
      { actor: person.user, action: 'policy.rejected', reason: decision.reason, details: { version, proposed_by: row.proposed_by }, at },
    );
    if (!decided) return this.#undecided(version, person, row);
    return this.withDiff(decided);
  }

  async #propose(text: string, origin: { source: string; by: string | null; reason: string }): Promise<PolicyVersion> {
    const set = this.#parse(text, origin.source);
    const base = await this.store.inForce();
    if (base?.version === set.version) throw conflict(`policy version ${set.version} is already in force`, 'already_in_force');
    const row: StoredPolicyVersion = {
      version: set.version,
      text,
      source: origin.source,
      proposed_by: origin.by,
      proposed_at: this.now().toISOString(),
      base_version: base?.version ?? null,
      reason: origin.reason,
      state: 'pending',
      decided_by: null,
      decided_at: null,
      decision_reason: null,
    };
    const added = await this.store.insert(row, {
      actor: origin.by ?? 'system',
      action: 'policy.proposed',
      reason: origin.reason,
      details: { version: set.version, base: row.base_version, source: origin.source },
      at: row.proposed_at,
    });
    if (!added) throw conflict(`policy version ${set.version} was proposed before (${(await this.store.find(set.version))?.state ?? 'unknown'})`, 'already_proposed');
    return this.withDiff(row);
  }

  #parse(text: string, source: string): PolicySet {
    try {
      return parsePolicies(text, source);
    } catch (err) {
      if (err instanceof PolicyError) throw unprocessable('invalid_policies', err.message, 'text');
      throw err;
    }
  }

  async #pendingFor(version: string, person: Person, scope: DagScope, verb: string): Promise<StoredPolicyVersion> {
    if (!scope.admin) {
      await this.#refused(person, version, 'not_admin');
      throw forbidden(`only Airflow admins may ${verb} policy changes`, 'not_admin');
    }
    const row = await this.store.find(version);
    if (!row) throw notFound(`policy version ${version} not found`);
    if (row.state !== 'pending') throw conflict(`policy version ${version} is already ${row.state}`, 'already_decided');
    return row;
  }

  /** A decision that lost: the change was decided meanwhile, or another version came into force since it was proposed. */
  async #undecided(version: string, person: Person, before: StoredPolicyVersion): Promise<never> {
    const now = await this.store.find(version);
    if (now && now.state !== 'pending') throw conflict(`policy version ${version} is already ${now.state}`, 'already_decided');
    await this.#refused(person, version, 'stale_change');
    throw conflict(`policy version ${version} was proposed against ${before.base_version ?? 'no version'}, which is no longer in force: propose it again`, 'stale_change');
  }

  async #refused(person: Person, version: string, code: string): Promise<void> {
    await this.store.audit({ actor: person.user, action: 'policy.refused', details: { version, code } });
  }

  private async withDiff(row: StoredPolicyVersion): Promise<PolicyVersion> {
    const base = row.base_version ? await this.store.find(row.base_version) : undefined;
    const diff = createTwoFilesPatch(row.base_version ?? 'none', row.version, base?.text ?? '', row.text, undefined, undefined, { context: 3 });
    // From the first file header on: the patch's `Index:` banner says nothing the headers do not.
    return { ...row, diff: diff.slice(diff.indexOf('---')) };
  }
}
