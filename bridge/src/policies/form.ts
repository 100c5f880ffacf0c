import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { own } from '../own.js';

/** One field of a policy's `form`: a JSON schema per field, like an Airflow Param. */
export interface FormField {
  readonly name: string;
  readonly schema: Readonly<Record<string, unknown>>;
  /** Like Airflow Params: a field with a default need not be filled. */
  readonly required: boolean;
  readonly validate: ValidateFunction;
}

export interface FormProblem {
  readonly field: string;
  readonly message: string;
}

const ajv = new Ajv({
  // Strict, so a misspelt keyword (`minimun`) fails the file at load instead of silently accepting anything.
  strict: true,
  strictTypes: false,
  strictTuples: false,
  // The string formats Airflow's trigger form renders; ajv-formats is not a dependency, and any other format
  // is an "unknown format" error at load rather than an unchecked one.
  formats: {
    date: /^\d{4}-\d{2}-\d{2}$/,
    time: /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/,
    'date-time': (text: string) => /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)),
    multiline: true,
  },
});
// Keywords Airflow's form uses only to lay fields out.
ajv.addVocabulary(['values_display', 'section', 'description_md']);

/** Compiles one field's schema; throws ajv's error when the schema is invalid. */
export function compileFormField(name: string, schema: Record<string, unknown>): FormField {
  return { name, schema, required: !('default' in schema), validate: ajv.compile(schema) };
}

function describe(error: ErrorObject): string {
  const where = error.instancePath ? `${error.instancePath} ` : '';
  const allowed = error.keyword === 'enum' ? `: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : '';
  return `${where}${error.message ?? 'is invalid'}${allowed}`;
}

/** The first field of `form` that `input` fails, or null when the input fills the form. */
export function formProblem(form: readonly FormField[], input: Readonly<Record<string, unknown>>): FormProblem | null {
  for (const field of form) {
    const value = own(input, field.name);
    if (value === undefined) {
      if (field.required) return { field: field.name, message: `${field.name} is required` };
      continue;
    }
    if (!field.validate(value)) {
      const error = field.validate.errors?.[0];
      return { field: field.name, message: `${field.name} ${error ? describe(error) : 'is invalid'}` };
    }
  }
  return null;
}
