import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { DestinationFieldSchema } from "@pasar/contracts/pasar/product/v1/product_pb";
import { describe, expect, it } from "vitest";

// The one table of cases every destination checker is tested with (the kit's Python
// pasar_kit.destinations, svc-fulfillment's Go internal/destinations, and this module).
import table from "../../contracts/testdata/destination_cases.json";
import {
  destinationViolations,
  fieldViolation,
  isDigitsOnly,
  typingViolation,
  type DestinationViolation,
} from "./destinations";

interface Case {
  name: string;
  fields: string;
  destination: Record<string, string>;
  violations: DestinationViolation[];
}

const fieldSets = Object.fromEntries(
  Object.entries(table.field_sets as Record<string, JsonValue[]>).map(([name, fields]) => [
    name,
    fields.map((field) => fromJson(DestinationFieldSchema, field)),
  ]),
);

describe("the destination check (the shared cases)", () => {
  it.each((table.cases as Case[]).map((entry) => [entry.name, entry] as const))("%s", (_name, entry) => {
    const fields = fieldSets[entry.fields];
    expect(fields, `field set ${entry.fields}`).toBeDefined();
    expect(destinationViolations(fields ?? [], entry.destination)).toEqual(entry.violations);
  });

  it("cover every rule", () => {
    const rules = new Set((table.cases as Case[]).flatMap((entry) => entry.violations.map((violation) => violation.rule)));
    expect([...rules].sort()).toEqual(["max_length", "min_length", "missing", "pattern", "prefixes", "unknown"]);
  });
});

describe("a single value", () => {
  const phone = fieldSets.phone?.[0];

  it("is valid or names its first broken rule", () => {
    expect(phone).toBeDefined();
    if (phone === undefined) return;
    expect(fieldViolation(phone, "081234567890")).toBeUndefined();
    expect(fieldViolation(phone, undefined)).toBe("missing");
    expect(fieldViolation(phone, "0899")).toBe("min_length");
    expect(fieldViolation(phone, "089912345678")).toBe("prefixes");
  });

  it("does not read a key of Object.prototype as a value", () => {
    const field = { name: "constructor", pattern: "[a-z]+", minLength: 1, maxLength: 20, prefixes: [] };
    expect(destinationViolations([field], {})).toEqual([{ field: "constructor", rule: "missing" }]);
  });
});

describe("digits-only patterns", () => {
  it.each(["[0-9]{11,12}", "^[0-9]{10,13}$", "\\d+", "[0-9]*", "[0-9]{4}[0-9]{2,3}", "08[0-9]{8,11}", "^(?:0811|0812)[0-9]{6,9}$", "12|34"])(
    "%s asks for the number pad",
    (pattern) => {
      expect(isDigitsOnly(pattern)).toBe(true);
    },
  );

  it.each(["[A-Za-z0-9]+", "[0-9]{4}-[0-9]{4}", "\\w+", "[0-9]+|x", "[0-9-]+", "[1-9][0-9]*", ".+", "()"])("%s does not", (pattern) => {
    expect(isDigitsOnly(pattern)).toBe(false);
  });
});

describe("what the form says while the shopper types", () => {
  const phone = { name: "phone_number", pattern: "[0-9]{10,13}", minLength: 10, maxLength: 13, prefixes: ["0811", "0812"] };

  it("keeps quiet about a value that is only incomplete", () => {
    expect(typingViolation(phone, "")).toBeUndefined();
    expect(typingViolation(phone, "08")).toBeUndefined();
    expect(typingViolation(phone, "08123")).toBeUndefined();
  });

  it("tells a wrong prefix or a letter at once", () => {
    expect(typingViolation(phone, "0857")).toBe("prefixes");
    expect(typingViolation(phone, "09")).toBe("prefixes");
    expect(typingViolation(phone, "0812a")).toBe("pattern");
    expect(typingViolation(phone, "08123456789012")).toBe("max_length");
  });

  it("agrees with the check once the value is long enough", () => {
    expect(typingViolation(phone, "081234567890")).toBeUndefined();
    expect(typingViolation(phone, "0812345678x")).toBe("pattern");
  });
});
