import type { PolicySource } from '../approvals/service.js';
import type { Person } from '../identity/tokens.js';
import { conflict, forbidden, notFound } from '../refusal.js';
import { fileDelegations, stateOf } from './rules.js';
import type { Delegation, DelegationList, NewDelegation } from './schemas.js';
import type { DelegationRecord, DelegationStore } from './store.js';

// A person's own list is short; an admin's whole list is capped at this many, newest first.
const LIST_LIMIT = 500;

export interface DelegationServiceOptions {
  store: DelegationStore;
  policies: PolicySource;
  now?: () => Date;
}

/** Delegations made through the API and named in the policies file: who hands their vote to whom, when. */
export class DelegationService {
  private readonly store: DelegationStore;
  private readonly policies: PolicySource;
  private readonly now: () => Date;

  constructor(options: DelegationServiceOptions) {
    this.store = options.store;
    this.policies = options.policies;
    this.now = options.now ?? (() => new Date());
  }

  /** The policy names a delegation may be limited to: those of the file in force. */
  policyNames(): ReadonlySet<string> {
    return new Set(this.policies.current().policies.map((p) => p.name));
  }

  /** `person` hands their own vote to the deputy the request names (checked by delegationRequestFor). */
  async create(person: Person, request: NewDelegation): Promise<Delegation> {
    const at = this.now().toISOString();
    return this.shown(await this.store.create(person.user, request, at), at);
  }

  /** Revoked by its delegator only; one the policies file names is changed there. */
  async revoke(person: Person, id: string): Promise<Delegation> {
    const at = this.now().toISOString();
    const known = await this.find(id);
    // Someone else's delegation is not theirs to see, unless they are its deputy.
    if (!known || (known.from !== person.user && known.to !== person.user)) throw notFound(`delegation ${id} not found`);
    if (known.source === 'policies_file') throw conflict('this delegation is named in the policies file; change it there', 'defined_in_policies_file');
    if (known.from !== person.user) throw forbidden(`only ${known.from}, who delegated, may revoke this delegation`, 'not_delegator');
    if (known.revoked_at !== null) throw conflict(`this delegation was revoked at ${known.revoked_at}`, 'delegation_revoked');
    const revoked = await this.store.revoke(id, person.user, at);
    if (!revoked) throw conflict('this delegation was revoked meanwhile', 'delegation_revoked');
    return this.shown(revoked, at);
  }

  /** The delegations `person` gave and received, and everyone else's with `all` (which only admins may ask for), newest first. */
  async list(person: Person, options: { all: boolean; admin: boolean }): Promise<DelegationList> {
    if (options.all && !options.admin) throw forbidden("only admins may list everyone's delegations", 'admin_only');
    const at = this.now().toISOString();
    const who = options.all ? null : person.user;
    const fromFile = fileDelegations(this.policies.current()).filter((d) => who === null || d.from === who || d.to === who);
    const every = [...fromFile, ...(await this.store.list(who, LIST_LIMIT))].map((d) => this.shown(d, at));
    return {
      given: every.filter((d) => d.from === person.user),
      received: every.filter((d) => d.to === person.user),
      others: every.filter((d) => d.from !== person.user && d.to !== person.user),
    };
  }

  /** Every delegation not ended nor revoked at `at` (begun or not), from the store and the file in force. */
  async current(at: string): Promise<DelegationRecord[]> {
    return [...fileDelegations(this.policies.current()).filter((d) => stateOf(d, at) !== 'ended'), ...(await this.store.current(at))];
  }

  private async find(id: string): Promise<DelegationRecord | undefined> {
    return fileDelegations(this.policies.current()).find((d) => d.id === id) ?? (await this.store.get(id));
  }

  private shown(d: DelegationRecord, at: string): Delegation {
    return { ...d, state: stateOf(d, at) };
  }
}
