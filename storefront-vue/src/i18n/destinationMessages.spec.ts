import { fromJson } from "@bufbuild/protobuf";
import { DestinationFieldSchema, type DestinationField } from "@pasar/contracts/pasar/product/v1/product_pb";
import { describe, expect, it } from "vitest";

import { phoneFieldJson } from "@/testing/catalog";

import { destinationNameLabel, fieldHint, fieldLabel, prefixList, violationMessage } from "./destinationMessages";

/** The catalog's phone number field (testing/catalog.ts), with overrides. */
function field(overrides: Partial<DestinationField>): DestinationField {
  return { ...fromJson(DestinationFieldSchema, phoneFieldJson()), ...overrides };
}

describe("the destination form's wording", () => {
  it("names a phone product's operator from its prefixes", () => {
    expect(violationMessage(field({}), "prefixes", "0857", "id")).toBe("Nomor ini bukan nomor Telkomsel (0811, 0812, …).");
    expect(violationMessage(field({}), "prefixes", "0857", "en")).toBe("This is not a Telkomsel number (0811, 0812, …).");
  });

  it("lists the prefixes when they are not one operator's", () => {
    const mixed = field({ prefixes: ["0811", "0817"] });
    expect(violationMessage(mixed, "prefixes", "0857", "id")).toBe("Nomor HP harus diawali 0811, 0817.");
  });

  it("says digits for digit-only patterns, and the exact length when there is one", () => {
    expect(violationMessage(field({}), "min_length", "0812", "id")).toBe("Nomor HP minimal 10 digit.");
    expect(violationMessage(field({}), "max_length", "08123456789012", "en")).toBe("Phone number can have at most 13 digits.");
    const meter = field({ name: "meter_number", label: "Nomor meter", pattern: "[0-9]{11}", minLength: 11, maxLength: 11, prefixes: [] });
    expect(violationMessage(meter, "min_length", "123", "id")).toBe("Nomor meter harus 11 digit.");
    expect(violationMessage(meter, "pattern", "1234567890a", "id")).toBe("Nomor meter hanya boleh berisi angka.");
  });

  it("shows the example for other patterns, and asks for a missing or empty value", () => {
    const user = field({ name: "user_id", label: "User ID", labelEn: "User ID", pattern: "[A-Za-z0-9]{4,16}", minLength: 4, maxLength: 16, prefixes: [], example: "ab12cd" });
    expect(violationMessage(user, "pattern", "ab-12", "id")).toBe("Format User ID tidak sesuai, contoh: ab12cd.");
    expect(violationMessage(user, "min_length", "ab", "en")).toBe("User ID needs at least 4 characters.");
    expect(violationMessage(user, "min_length", "", "id")).toBe("User ID wajib diisi.");
    expect(violationMessage(user, "missing", undefined, "en")).toBe("User ID is required.");
  });

  it("uses the product's labels and hints in the current language", () => {
    expect(fieldLabel(field({}), "en")).toBe("Phone number");
    expect(fieldLabel(field({ labelEn: "" }), "en")).toBe("Nomor HP");
    expect(fieldHint(field({}), "id")).toBe("Nomor yang menerima pulsa.");
    expect(fieldHint(field({ hintEn: "" }), "en")).toBe("Nomor yang menerima pulsa.");
    expect(prefixList(["0811", "0812", "0813"])).toBe("0811, 0812, 0813");
  });

  it("labels an order's destination values by their names", () => {
    expect(destinationNameLabel("meter_number", "id")).toBe("Nomor meter");
    expect(destinationNameLabel("phone_number", "en")).toBe("Phone number");
    expect(destinationNameLabel("server", "en")).toBe("Destination (server)");
    expect(destinationNameLabel("toString", "id")).toBe("Tujuan (toString)");
  });
});
