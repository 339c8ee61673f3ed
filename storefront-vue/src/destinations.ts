/**
 * The one destination check (issue 14's shape), as the storefront runs it while the
 * shopper types: the same rules, in the same order, as the kit's Python
 * `destination_violations` and the Go fulfillment service, so that a destination the
 * form accepts is one the order service accepts. The one table of cases all three are
 * tested with is contracts/testdata/destination_cases.json.
 *
 * For a product with fields F, a destination D is valid when D's keys are exactly F's
 * names and each value (taken as given, never trimmed) has min_length <= length <=
 * max_length (in Unicode code points, as Python's len and Go's rune count), starts with
 * one of the prefixes when there are any, and fully matches the pattern. Each field
 * reports its first broken rule; fields come in F's order, then unknown keys, sorted.
 */
import type { DestinationField } from "@pasar/contracts/pasar/product/v1/product_pb";

/** Which rule a value breaks. */
export type DestinationRule = "missing" | "min_length" | "max_length" | "prefixes" | "pattern" | "unknown";

/** One broken rule: the field's name (or the unknown key) and the rule. */
export interface DestinationViolation {
  field: string;
  rule: DestinationRule;
}

/** What the check reads of a field. */
export type FieldRules = Pick<DestinationField, "name" | "pattern" | "minLength" | "maxLength" | "prefixes">;

/** A destination as an order line carries it: field name -> value. */
export type Destination = Readonly<Record<string, string>>;

const compiled = new Map<string, RegExp>();

/** What an unreadable pattern becomes: it matches no value, as in Python and Go. */
const NEVER = /(?!)/u;

/**
 * The field's pattern, anchored at both ends. The "u" flag makes "." and classes read
 * code points, as Python and RE2 do; `$` never matches before a trailing newline. A
 * pattern no checker can read matches nothing, so every value breaks its pattern rule
 * (as the Python and Go checkers say), instead of throwing.
 */
export function anchoredPattern(pattern: string): RegExp {
  let expression = compiled.get(pattern);
  if (expression === undefined) {
    try {
      expression = new RegExp(`^(?:${asRe2ReadsIt(pattern)})$`, "u");
    } catch {
      expression = NEVER;
    }
    compiled.set(pattern, expression);
  }
  return expression;
}

/** A counted repetition at the start of a string, as RE2, Python and JavaScript read it. */
const COUNT = /^\{\d+(?:,\d*)?\}/;

/**
 * The pattern rewritten so that JavaScript reads it as RE2 and Python do:
 * - `\-` outside a class (a literal hyphen in RE2, Python and the portable subset)
 *   becomes `-`, which the "u" flag otherwise refuses; reading such a pattern without
 *   "u" instead would count UTF-16 units, so that ".{2}" took one emoji;
 * - `.` outside a class becomes `[^\n]`: in RE2 and Python it matches everything but a
 *   newline, in JavaScript not a carriage return, U+2028 nor U+2029 either;
 * - a `{` that starts no count ("{2}", "{2,}", "{2,5}"), a lone `}` and a `]` outside a
 *   class are escaped: RE2 and Python read them as the characters, the "u" flag refuses them.
 */
function asRe2ReadsIt(pattern: string): string {
  let result = "";
  let inClass = false;
  for (let index = 0; index < pattern.length; index += 1) {
    const character = pattern.charAt(index);
    if (character === "\\") {
      const escaped = pattern.charAt(index + 1);
      result += !inClass && escaped === "-" ? "-" : character + escaped;
      index += 1;
      continue;
    }
    if (!inClass) {
      const count = COUNT.exec(pattern.slice(index));
      if (count !== null) {
        result += count[0];
        index += count[0].length - 1;
        continue;
      }
      if (character === ".") {
        result += "[^\\n]";
        continue;
      }
      if (character === "{" || character === "}" || character === "]") {
        result += `\\${character}`;
        continue;
      }
    }
    if (character === "[") inClass = true;
    else if (character === "]") inClass = false;
    result += character;
  }
  return result;
}

/** A value's length as Python's len() and Go's utf8.RuneCountInString count it. */
export function codePointLength(value: string): number {
  let length = 0;
  for (const _ of value) length += 1;
  return length;
}

/** The first rule a value breaks, or undefined when the value is valid for the field. */
export function fieldViolation(field: FieldRules, value: string | undefined): DestinationRule | undefined {
  if (value === undefined) return "missing";
  const length = codePointLength(value);
  if (length < field.minLength) return "min_length";
  if (length > field.maxLength) return "max_length";
  if (field.prefixes.length > 0 && !field.prefixes.some((prefix) => value.startsWith(prefix))) return "prefixes";
  if (!anchoredPattern(field.pattern).test(value)) return "pattern";
  return undefined;
}

/**
 * Every broken field of a destination, in the order the server reports them: the
 * fields in the product's order, then the keys no field names, sorted. The first one is
 * the one a service refuses the destination for.
 */
export function destinationViolations(fields: readonly FieldRules[], destination: Destination): DestinationViolation[] {
  const violations: DestinationViolation[] = [];
  const names = new Set<string>();
  for (const field of fields) {
    names.add(field.name);
    const value = Object.hasOwn(destination, field.name) ? destination[field.name] : undefined;
    const rule = fieldViolation(field, value);
    if (rule !== undefined) violations.push({ field: field.name, rule });
  }
  const unknown = Object.keys(destination)
    .filter((key) => !names.has(key))
    .sort(byCodePoint);
  for (const key of unknown) violations.push({ field: key, rule: "unknown" });
  return violations;
}

/** Sorts as Python's sorted() does for str (by code point), not by UTF-16 unit. */
function byCodePoint(left: string, right: string): number {
  const a = Array.from(left, (character) => character.codePointAt(0) ?? 0);
  const b = Array.from(right, (character) => character.codePointAt(0) ?? 0);
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/**
 * True when the pattern accepts digits only ("[0-9]{11}", "08[0-9]{8,11}", "\\d+",
 * "^(0811|0812)[0-9]*$"), so that phones show their number pad (inputmode="numeric")
 * and messages say "digits": once its digit classes, digits, groups, alternations and
 * repetitions are taken away, nothing is left.
 */
export function isDigitsOnly(pattern: string): boolean {
  if (!/\[0-9\]|\\d|[0-9]/.test(pattern)) return false;
  const rest = pattern
    .replace(/^\^/, "")
    .replace(/\$$/, "")
    .replace(/\{\d+(?:,\d*)?\}/g, "")
    .replace(/\[0-9\]|\\d|\(\?:/g, "")
    .replace(/[0-9()|+*?]/g, "");
  return rest === "";
}

/**
 * The rule worth telling a shopper while they are still typing: none for a value that
 * is only incomplete (too short, but every character so far could still become valid),
 * else the value's first broken rule. A wrong operator prefix or a letter in a number
 * shows at once; "too short" waits until the shopper leaves the field.
 */
export function typingViolation(field: FieldRules, value: string): DestinationRule | undefined {
  const rule = fieldViolation(field, value);
  if (rule !== "min_length" || value === "") return rule === "min_length" ? undefined : rule;
  const prefixPossible =
    field.prefixes.length === 0 ||
    field.prefixes.some((prefix) => prefix.startsWith(value) || value.startsWith(prefix));
  if (!prefixPossible) return "prefixes";
  if (isDigitsOnly(field.pattern) && !/^[0-9]*$/.test(value)) return "pattern";
  return undefined;
}
