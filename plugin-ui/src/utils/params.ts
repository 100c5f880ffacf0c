import type { Approval } from '../api/client';
import { messages } from '../i18n';

// Airflow's serialized Params: `{name: {value, schema: {type, minimum, enum, ...}, description}}`.
export type ParamSchema = {
  readonly type?: string | readonly string[];
  readonly title?: string;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
};

export type ParamKind = 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'json';

export type ParamField = {
  readonly name: string;
  readonly label: string;
  readonly description: string | undefined;
  readonly kind: ParamKind;
  readonly nullable: boolean;
  readonly schema: ParamSchema;
  readonly initial: unknown;
};

/** A field as typed: text for inputs and selects, a flag for checkboxes. */
export type RawValue = string | boolean;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const kindOf = (schema: ParamSchema): ParamKind => {
  if (Array.isArray(schema.enum)) {
    return 'enum';
  }
  const types = typeof schema.type === 'string' ? [schema.type] : (schema.type ?? []);
  const type = types.find((t) => t !== 'null') ?? 'string';
  if (type === 'string' || type === 'integer' || type === 'number' || type === 'boolean') {
    return type;
  }
  return 'json';
};

// Airflow's rule, which the bridge applies too: a value may be left empty only if the schema allows null.
const allowsNull = (schema: ParamSchema) =>
  schema.type === undefined ||
  schema.type === 'null' ||
  (Array.isArray(schema.type) && schema.type.includes('null'));

export const parseParams = (params: Record<string, unknown>): ParamField[] =>
  Object.entries(params).map(([name, spec]) => {
    const record = isRecord(spec) ? spec : { value: spec };
    const schema: ParamSchema = isRecord(record.schema) ? (record.schema as ParamSchema) : {};
    return {
      name,
      label: typeof schema.title === 'string' ? schema.title : name,
      description: typeof record.description === 'string' ? record.description : undefined,
      kind: kindOf(schema),
      nullable: allowsNull(schema),
      schema,
      initial: record.value,
    };
  });

export const initialRaw = (field: ParamField): RawValue => {
  const { initial, kind } = field;
  if (kind === 'boolean') {
    return initial === true;
  }
  if (initial === undefined || initial === null) {
    return '';
  }
  if (kind === 'enum') {
    return String(field.schema.enum?.findIndex((option) => option === initial) ?? '');
  }
  return kind === 'json' ? JSON.stringify(initial, null, 2) : String(initial);
};

export type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

const fail = (error: string): Parsed => ({ ok: false, error });

const checkRange = (value: number, schema: ParamSchema): Parsed => {
  if (schema.minimum !== undefined && value < schema.minimum) {
    return fail(messages.form.min(schema.minimum));
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    return fail(messages.form.max(schema.maximum));
  }
  return { ok: true, value };
};

/** Turns what was typed into the value sent, or says what is wrong with it, as the bridge would. */
export const parseRaw = (field: ParamField, raw: RawValue): Parsed => {
  const { kind, schema } = field;
  if (typeof raw === 'boolean') {
    return { ok: true, value: raw };
  }
  if (raw.trim() === '') {
    return field.nullable ? { ok: true, value: null } : fail(messages.form.required);
  }
  switch (kind) {
    case 'enum':
      return { ok: true, value: schema.enum?.[Number(raw)] ?? null };
    case 'integer':
      return /^-?\d+$/.test(raw.trim()) ? checkRange(Number(raw), schema) : fail(messages.form.notInteger);
    case 'number':
      return Number.isFinite(Number(raw)) ? checkRange(Number(raw), schema) : fail(messages.form.notNumber);
    case 'json':
      try {
        return { ok: true, value: JSON.parse(raw) as unknown };
      } catch {
        return fail(messages.form.notJson);
      }
    default:
      if (schema.minLength !== undefined && raw.length < schema.minLength) {
        return fail(messages.form.minLength(schema.minLength));
      }
      if (schema.maxLength !== undefined && raw.length > schema.maxLength) {
        return fail(messages.form.maxLength(schema.maxLength));
      }
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(raw)) {
        return fail(messages.form.pattern);
      }
      return { ok: true, value: raw };
  }
};

/** Whether choosing `option` says no, as the bridge's policy defines it (a "no" vote needs no form input). */
export const isRejecting = (approval: Pick<Approval, 'option_outcomes'>, option: string) =>
  approval.option_outcomes.some((entry) => entry.option === option && entry.outcome === 'reject');
