import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import { ErrorReason as OrderReason } from "@pasar/contracts/pasar/order/v1/error_reason_pb";
import { describe, expect, it } from "vitest";

import { ApiError } from "./http";
import { CONTACT_MAX_LENGTH, lookupFailure, normalizeOrderNumber, ORDER_NUMBER_PATTERN } from "./orderLookup";

describe("an order number as typed", () => {
  it.each([
    ["PSR-7K3M9Q", "PSR-7K3M9Q"],
    ["psr-7k3m9q", "PSR-7K3M9Q"],
    [" 7K3 M9Q ", "PSR-7K3M9Q"],
    ["PSR 7K3M9Q", "PSR-7K3M9Q"],
    ["psr7k3m9q", "PSR-7K3M9Q"],
    ["PSR-7K3-M9Q", "PSR-7K3M9Q"],
    ["", ""],
    ["   ", ""],
  ])("%j is %j", (typed, normalized) => {
    expect(normalizeOrderNumber(typed)).toBe(normalized);
  });

  it("takes only the contract's characters", () => {
    expect(ORDER_NUMBER_PATTERN.test("PSR-23456Z")).toBe(true);
    for (const wrong of ["PSR-7K3M9", "PSR-7K3M9QQ", "PSR-0K3M9Q", "PSR-OK3M9Q", "PSR-1K3M9Q", "PSR-IK3M9Q", "PSR-LK3M9Q", "PSR-UK3M9Q"]) {
      expect(ORDER_NUMBER_PATTERN.test(wrong), wrong).toBe(false);
    }
  });

  it("reads the contact's limit from the contract", () => {
    expect(CONTACT_MAX_LENGTH).toBe(254);
  });
});

describe("a failed look-up", () => {
  const info = (reason: string, metadata: Record<string, string> = {}) => ({ reason, metadata });

  it("is an unknown order for NOT_FOUND, whatever the reason", () => {
    expect(lookupFailure(new ApiError(404, "NOT_FOUND", "x", info(OrderReason[OrderReason.ORDER_NOT_FOUND])))).toEqual({ kind: "notFound" });
  });

  it("is too many attempts for RATE_LIMITED, with the wait when given", () => {
    expect(lookupFailure(new ApiError(429, "RESOURCE_EXHAUSTED", "x", info(CommonReason[CommonReason.RATE_LIMITED], { retry_after_seconds: "61" })))).toEqual({
      kind: "rateLimited",
      retryAfterSeconds: 61,
    });
    expect(lookupFailure(new ApiError(429, "RESOURCE_EXHAUSTED", "x"))).toEqual({ kind: "rateLimited", retryAfterSeconds: undefined });
    expect(lookupFailure(new ApiError(429, "RESOURCE_EXHAUSTED", "x", info(CommonReason[CommonReason.RATE_LIMITED], { retry_after_seconds: "soon" })))).toEqual({
      kind: "rateLimited",
      retryAfterSeconds: undefined,
    });
  });

  it("is unavailable when the service could not answer", () => {
    expect(lookupFailure(new ApiError(503, "UNAVAILABLE", "x"))).toEqual({ kind: "unavailable" });
    expect(lookupFailure(new ApiError(0, "UNAVAILABLE", "x"))).toEqual({ kind: "unavailable" });
    expect(lookupFailure(new ApiError(500, "INTERNAL", "x"))).toEqual({ kind: "failed" });
  });
});
