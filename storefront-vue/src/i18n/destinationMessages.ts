/**
 * What the destination form says, in the shopper's language: a field's label and hint
 * (the product gives both languages), and the message for the rule a value breaks,
 * written from the rule and the field (its lengths, prefixes, example), never from a
 * server's English text.
 */
import type { DestinationField } from "@pasar/contracts/pasar/product/v1/product_pb";

import { isDigitsOnly, type DestinationRule } from "@/destinations";
import { operatorOfPrefixes } from "@/phoneOperators";

import { translate, type Locale, type MessageKey } from "./index";

/** The field's label in a language (Indonesian when the English one is missing). */
export function fieldLabel(field: Pick<DestinationField, "label" | "labelEn">, locale: Locale): string {
  return locale === "en" && field.labelEn !== "" ? field.labelEn : field.label;
}

/** The field's help text in a language; may be empty. */
export function fieldHint(field: Pick<DestinationField, "hint" | "hintEn">, locale: Locale): string {
  return locale === "en" && field.hintEn !== "" ? field.hintEn : field.hint;
}

/** "0811, 0812, …": the first prefixes of a long list, all of a short one. */
export function prefixList(prefixes: readonly string[]): string {
  return prefixes.length > 3 ? `${prefixes.slice(0, 2).join(", ")}, …` : prefixes.join(", ");
}

/** The message for the rule a value of the field breaks. */
export function violationMessage(field: DestinationField, rule: DestinationRule, value: string | undefined, locale: Locale): string {
  const label = fieldLabel(field, locale);
  const digits = isDigitsOnly(field.pattern);
  const say = (key: MessageKey, params: Record<string, string | number> = {}): string =>
    translate(locale, key, { label, ...params });
  if (rule === "missing" || (value === "" && rule === "min_length")) return say("destination.required");
  switch (rule) {
    case "min_length":
      if (field.minLength === field.maxLength) {
        return say(digits ? "destination.exactDigits" : "destination.exactCharacters", { count: field.minLength });
      }
      return say(digits ? "destination.minDigits" : "destination.minCharacters", { count: field.minLength });
    case "max_length":
      if (field.minLength === field.maxLength) {
        return say(digits ? "destination.exactDigits" : "destination.exactCharacters", { count: field.maxLength });
      }
      return say(digits ? "destination.maxDigits" : "destination.maxCharacters", { count: field.maxLength });
    case "prefixes": {
      const operator = operatorOfPrefixes(field.prefixes);
      const prefixes = prefixList(field.prefixes);
      return operator === undefined
        ? say("destination.prefix", { prefixes })
        : say("destination.operatorPrefix", { operator, prefixes });
    }
    case "pattern":
      return digits ? say("destination.digitsOnly") : say("destination.pattern", { example: field.example });
    case "unknown":
      return say("destination.unknown", { name: field.name });
  }
}

const NAME_LABELS: Readonly<Record<string, MessageKey>> = {
  phone_number: "destinationField.phone_number",
  meter_number: "destinationField.meter_number",
  customer_number: "destinationField.customer_number",
  user_id: "destinationField.user_id",
  zone_id: "destinationField.zone_id",
  card_number: "destinationField.card_number",
};

/**
 * A label for a destination value on an order, which keeps the field's name but not its
 * label: the common names have wording, others show their name.
 */
export function destinationNameLabel(name: string, locale: Locale): string {
  const key = Object.hasOwn(NAME_LABELS, name) ? NAME_LABELS[name] : undefined;
  return key === undefined ? translate(locale, "destinationField.other", { name }) : translate(locale, key);
}
