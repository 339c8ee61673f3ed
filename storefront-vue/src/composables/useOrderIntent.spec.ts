import { create } from "@bufbuild/protobuf";
import { CreateOrderRequestSchema } from "@pasar/contracts/pasar/order/v1/order_service_pb";
import { describe, expect, it } from "vitest";

import { newIdempotencyKey, useOrderIntent } from "./useOrderIntent";

function request(quantity: number, email = "siti@example.co.id") {
  return create(CreateOrderRequestSchema, {
    customerEmail: email,
    lines: [{ packageId: "pulsa-nusantara-10k", quantity }],
    paymentChannelCode: "bca_va",
    languageCode: "id",
  });
}

describe("the order intent's idempotency key", () => {
  it("is the same for every retry of the same order", () => {
    const intent = useOrderIntent();
    const first = intent.keyFor(request(1));
    expect(intent.keyFor(request(1))).toBe(first);
    expect(intent.keyFor(create(CreateOrderRequestSchema, { ...request(1), requestId: "ignored" }))).toBe(first);
  });

  it("is new when the order changes", () => {
    const intent = useOrderIntent();
    const first = intent.keyFor(request(1));
    const second = intent.keyFor(request(2));
    expect(second).not.toBe(first);
    expect(intent.keyFor(request(2, "budi@example.co.id"))).not.toBe(second);
  });

  it("is new after the intent is forgotten", () => {
    const intent = useOrderIntent();
    const first = intent.keyFor(request(1));
    intent.forget();
    expect(intent.keyFor(request(1))).not.toBe(first);
  });

  it("is a random UUID that the contract's request_id pattern allows", () => {
    const key = newIdempotencyKey();
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(key).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(newIdempotencyKey()).not.toBe(key);
  });
});
