import { Ajv } from 'ajv';

const ajv = new Ajv({ allErrors: false, strict: false });

/**
 * Checks a vote's form input against the HITL request's params (Airflow's serialized Params:
 * `{name: {value, schema, description}}`), so a bad value is refused with 422 before it reaches Airflow,
 * which would otherwise fail the task on it.
 */
export function hitlFormProblem(
  params: Record<string, unknown>,
  input: Record<string, unknown>,
): { field: string; message: string } | null {
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(params, name)) return { field: `params_input.${name}`, message: `${name} is not a field of this form` };
  }
  for (const [name, raw] of Object.entries(params)) {
    const spec = (raw ?? {}) as { value?: unknown; schema?: Record<string, unknown> };
    const value = Object.hasOwn(input, name) ? input[name] : spec.value;
    if (value === undefined || value === null) {
      if (spec.schema && !allowsNull(spec.schema)) return { field: `params_input.${name}`, message: `${name} is required` };
      continue;
    }
    if (spec.schema && !ajv.validate(spec.schema, value)) {
      return { field: `params_input.${name}`, message: `${name} ${ajv.errors?.[0]?.message ?? 'is invalid'}` };
    }
  }
  return null;
}

function allowsNull(schema: Record<string, unknown>): boolean {
  const type = schema.type;
  return type === undefined || type === 'null' || (Array.isArray(type) && type.includes('null'));
}
