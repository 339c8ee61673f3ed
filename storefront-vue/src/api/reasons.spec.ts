import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import { ErrorReason as FulfillmentReason } from "@pasar/contracts/pasar/fulfillment/v1/error_reason_pb";
import { ErrorReason as OrderReason } from "@pasar/contracts/pasar/order/v1/error_reason_pb";
import { ErrorReason as PaymentReason } from "@pasar/contracts/pasar/payment/v1/error_reason_pb";
import { ErrorReason as ProductReason } from "@pasar/contracts/pasar/product/v1/error_reason_pb";
import { describe, expect, it } from "vitest";

import { ApiError } from "./http";
import {
  isDestinationNotFound,
  isNotCancellable,
  isPaymentNoLongerPending,
  isSandboxDisabled,
  orderRefusal,
  refusedAmountRange,
  refusedDestinationField,
  retryAfterSeconds,
} from "./reasons";

function refused(reason: string | undefined): ApiError {
  return new ApiError(409, "FAILED_PRECONDITION", "refused", reason === undefined ? {} : { reason });
}

describe("orderRefusal", () => {
  it.each([
    [ProductReason[ProductReason.OUT_OF_STOCK], "outOfStock"],
    [ProductReason[ProductReason.PACKAGE_NOT_FOUND], "packageGone"],
    [ProductReason[ProductReason.PRODUCT_NOT_FOUND], "packageGone"],
    [PaymentReason[PaymentReason.AMOUNT_OUT_OF_RANGE], "amountOutOfRange"],
    [PaymentReason[PaymentReason.PAYER_PHONE_NUMBER_REQUIRED], "payerPhoneRequired"],
    [CommonReason[CommonReason.RATE_LIMITED], "rateLimited"],
    [PaymentReason[PaymentReason.CHANNEL_DISABLED], "channelRefused"],
    [PaymentReason[PaymentReason.CHANNEL_NOT_FOUND], "channelRefused"],
    [CommonReason[CommonReason.INVALID_DESTINATION], "destinationRefused"],
  ])("reads %s on the wire as %s", (reason, refusal) => {
    expect(orderRefusal(refused(reason))).toBe(refusal);
  });

  it("leaves other reasons, and none, to the status code", () => {
    expect(orderRefusal(refused(CommonReason[CommonReason.DEPENDENCY_UNAVAILABLE]))).toBeUndefined();
    expect(orderRefusal(refused(undefined))).toBeUndefined();
  });

  it("matches the wire string the services send, the enum value's name", () => {
    expect(ProductReason[ProductReason.OUT_OF_STOCK]).toBe(["OUT", "OF", "STOCK"].join("_"));
  });
});

describe("the order and payment refusals", () => {
  it("tell cancellation, settlement and sandbox refusals apart", () => {
    expect(isNotCancellable(refused(OrderReason[OrderReason.ORDER_NOT_CANCELLABLE]))).toBe(true);
    expect(isNotCancellable(refused(OrderReason[OrderReason.ORDER_NOT_FOUND]))).toBe(false);
    expect(isPaymentNoLongerPending(refused(PaymentReason[PaymentReason.PAYMENT_PAID]))).toBe(true);
    expect(isPaymentNoLongerPending(refused(PaymentReason[PaymentReason.PAYMENT_NOT_PENDING]))).toBe(true);
    expect(isPaymentNoLongerPending(refused(PaymentReason[PaymentReason.SANDBOX_DISABLED]))).toBe(false);
    expect(isSandboxDisabled(refused(PaymentReason[PaymentReason.SANDBOX_DISABLED]))).toBe(true);
  });
});

describe("the destination refusals", () => {
  const invalidDestination = CommonReason[CommonReason.INVALID_DESTINATION];

  it("name the field from the metadata, or else from the violation's path", () => {
    const withMetadata = new ApiError(400, "INVALID_ARGUMENT", "bad", {
      reason: invalidDestination,
      metadata: { product_id: "token-listrik", field: "meter_number" },
    });
    expect(refusedDestinationField(withMetadata)).toBe("meter_number");
    const withPath = new ApiError(400, "INVALID_ARGUMENT", "bad", {
      reason: invalidDestination,
      fieldViolations: [{ field: 'lines[0].destination["phone_number"]', description: "too short" }],
    });
    expect(refusedDestinationField(withPath)).toBe("phone_number");
    const atLookup = new ApiError(400, "INVALID_ARGUMENT", "bad", {
      reason: invalidDestination,
      fieldViolations: [{ field: 'destination["zone_id"]', description: "missing" }],
    });
    expect(refusedDestinationField(atLookup)).toBe("zone_id");
  });

  it("name no field for other refusals", () => {
    expect(refusedDestinationField(refused(ProductReason[ProductReason.OUT_OF_STOCK]))).toBeUndefined();
    expect(refusedDestinationField(refused(invalidDestination))).toBeUndefined();
  });

  it("tell a destination the biller does not know", () => {
    expect(isDestinationNotFound(refused(FulfillmentReason[FulfillmentReason.DESTINATION_NOT_FOUND]))).toBe(true);
    expect(isDestinationNotFound(refused(FulfillmentReason[FulfillmentReason.LOOKUP_NOT_SUPPORTED]))).toBe(false);
  });
});

describe("what a refusal's metadata says", () => {
  it("reads the channel's limits from AMOUNT_OUT_OF_RANGE", () => {
    const error = new ApiError(422, "FAILED_PRECONDITION", "out of range", {
      reason: PaymentReason[PaymentReason.AMOUNT_OUT_OF_RANGE],
      metadata: { channel_code: "bca_va", min_amount: "10000", max_amount: "50000000" },
    });
    expect(refusedAmountRange(error)).toEqual({ channelCode: "bca_va", minAmount: 10000n, maxAmount: 50000000n });
    expect(refusedAmountRange(refused(ProductReason[ProductReason.OUT_OF_STOCK]))).toBeUndefined();
  });

  it("ignores limits that are not whole numbers", () => {
    const error = new ApiError(422, "FAILED_PRECONDITION", "out of range", {
      reason: PaymentReason[PaymentReason.AMOUNT_OUT_OF_RANGE],
      metadata: { min_amount: "ten", max_amount: "-5" },
    });
    expect(refusedAmountRange(error)).toEqual({ channelCode: "", minAmount: undefined, maxAmount: undefined });
  });

  it("reads how long to wait from RATE_LIMITED, and a 429 without a reason is rate limited too", () => {
    const limited = new ApiError(429, "RESOURCE_EXHAUSTED", "slow down", {
      reason: CommonReason[CommonReason.RATE_LIMITED],
      metadata: { retry_after_seconds: "42" },
    });
    expect(retryAfterSeconds(limited)).toBe(42);
    const bare = new ApiError(429, "RESOURCE_EXHAUSTED", "slow down");
    expect(orderRefusal(bare)).toBe("rateLimited");
    expect(retryAfterSeconds(bare)).toBeUndefined();
  });
});
