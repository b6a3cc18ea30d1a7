import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';

/** A form body as the console's parser gives it: text fields by name. */
export type FormBody = Record<string, string | undefined>;

export function field(body: unknown, name: string): string {
  const value = (body as FormBody | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * The fields of `input` that the API's own DTO refuses (the same rules as `/v1`, never written twice), in the order
 * given; the console names each in the user's language.
 */
export async function invalidFields<T extends object>(dto: new () => T, input: Record<string, unknown>, fields: readonly string[]): Promise<string[]> {
  const errors = await validate(plainToInstance(dto, input), { forbidUnknownValues: false });
  const refused = new Set(errors.map((error) => error.property));
  return fields.filter((name) => refused.has(name));
}

/** A whole number in [min, max] written in a form field, or null. */
export function wholeNumber(text: string, min: number, max: number): number | null {
  if (!/^\d{1,9}$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}
