import { compileExpression, useDotAccessOperatorAndOptionalChaining } from 'filtrex';

/** Whether a condition holds for a request, or why it could not be evaluated (a value missing or of the wrong type). */
export type ConditionResult = { readonly ok: true; readonly match: boolean } | { readonly ok: false; readonly error: string };

/** A policy's `when`: a filtrex expression over the request's values (run conf merged with the form's values). */
export interface Condition {
  readonly source: string;
  evaluate(values: Readonly<Record<string, unknown>>): ConditionResult;
}

// Run conf typed into Airflow's trigger form arrives as text: "15000" is the number people meant.
const NUMERIC = /^\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

const readProp: typeof useDotAccessOperatorAndOptionalChaining = (name, get, obj, type) => {
  const value = useDotAccessOperatorAndOptionalChaining(name, get, obj, type);
  return typeof value === 'string' && NUMERIC.test(value) ? Number(value) : value;
};

// filtrex resolves unknown function names only when a call is evaluated, so a typo would silently never
// match; checking names at load turns it into an error that names the file and line.
const FUNCTIONS = new Set(['abs', 'ceil', 'floor', 'log', 'log2', 'log10', 'max', 'min', 'round', 'sqrt', 'exists', 'empty']);
const KEYWORDS = new Set(['not', 'in', 'and', 'or', 'if', 'then', 'else', 'of', 'mod']);
const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g;
const CALL = /\b([A-Za-z_$][\w$]*)\s*\(/g;

/** Compiles `source`; throws an Error saying what is wrong when it is not a valid expression. */
export function compileCondition(source: string): Condition {
  let evaluate: (values: unknown) => unknown;
  try {
    // Dots reach into nested conf (`payment.amount`) and a missing value yields undefined instead of an error.
    evaluate = compileExpression(source, { customProp: readProp });
  } catch (err) {
    throw new Error(`invalid expression: ${String((err as Error).message).replace(/\s*\n\s*/g, ' ')}`);
  }
  for (const [, name] of source.replace(QUOTED, '""').matchAll(CALL)) {
    if (name && !FUNCTIONS.has(name) && !KEYWORDS.has(name)) throw new Error(`invalid expression: unknown function ${name}()`);
  }
  return {
    source,
    // filtrex returns (never throws) an Error for a missing or mistyped value; the caller must not read it as "no".
    evaluate: (values) => {
      const result = evaluate(values);
      if (result instanceof Error) return { ok: false, error: `${source}: ${result.message}` };
      return { ok: true, match: Boolean(result) };
    },
  };
}
