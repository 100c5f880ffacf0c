import { Checkbox, Field, Input, NativeSelect, Stack, Textarea } from '@chakra-ui/react';

import { messages } from '../i18n';
import type { ParamField, RawValue } from '../utils/params';

type Props = {
  readonly fields: readonly ParamField[];
  readonly values: Readonly<Record<string, RawValue>>;
  readonly errors: Readonly<Record<string, string>>;
  readonly onChange: (name: string, value: RawValue) => void;
  readonly disabled?: boolean;
};

const FieldInput = ({
  field,
  value,
  onChange,
  disabled,
}: {
  readonly field: ParamField;
  readonly value: RawValue;
  readonly onChange: (value: RawValue) => void;
  readonly disabled: boolean;
}) => {
  if (field.kind === 'boolean') {
    return (
      <Checkbox.Root
        checked={value === true}
        disabled={disabled}
        onCheckedChange={({ checked }) => onChange(checked === true)}
      >
        <Checkbox.HiddenInput />
        <Checkbox.Control />
        <Checkbox.Label>{messages.form.yes}</Checkbox.Label>
      </Checkbox.Root>
    );
  }
  const text = typeof value === 'string' ? value : '';
  if (field.kind === 'enum') {
    return (
      <NativeSelect.Root size="sm" disabled={disabled}>
        <NativeSelect.Field value={text} onChange={(event) => onChange(event.target.value)}>
          <option value="">{messages.form.choose}</option>
          {(field.schema.enum ?? []).map((option, index) => (
            <option key={String(option)} value={String(index)}>
              {String(option)}
            </option>
          ))}
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
    );
  }
  if (field.kind === 'json') {
    return (
      <Textarea
        size="sm"
        fontFamily="mono"
        value={text}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value)}
      />
    );
  }
  return (
    <Input
      size="sm"
      inputMode={field.kind === 'string' ? undefined : 'decimal'}
      value={text}
      disabled={disabled}
      onChange={(event) => onChange(event.target.value)}
    />
  );
};

/** The form of an approval's params, one field per param, with the error the input has now. */
export const ParamsForm = ({ fields, values, errors, onChange, disabled = false }: Props) => (
  <Stack gap="3">
    {fields.map((field) => {
      const error = errors[field.name];
      return (
        <Field.Root key={field.name} invalid={error !== undefined} required={!field.nullable}>
          <Field.Label>
            {field.label}
            {field.kind === 'boolean' ? undefined : <Field.RequiredIndicator />}
          </Field.Label>
          <FieldInput
            field={field}
            value={values[field.name] ?? ''}
            onChange={(value) => onChange(field.name, value)}
            disabled={disabled}
          />
          {field.description === undefined ? undefined : (
            <Field.HelperText>{field.description}</Field.HelperText>
          )}
          {error === undefined ? undefined : <Field.ErrorText>{error}</Field.ErrorText>}
        </Field.Root>
      );
    })}
  </Stack>
);
