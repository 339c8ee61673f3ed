import { create } from "@bufbuild/protobuf";
import { OrderState } from "@pasar/contracts/pasar/order/v1/order_pb";
import { CreateOrderRequestSchema } from "@pasar/contracts/pasar/order/v1/order_service_pb";
import { describe, expect, it } from "vitest";

import { ACCESS_TOKEN, createOrderResponseJson, ORDER_ID, orderJson } from "@/testing/catalog";
import { errorResponse, installFakeGateway, jsonResponse } from "@/testing/gateway";

import { cancelOrder, createOrder, getOrder } from "./orders";
import { traceIdOf } from "./traceparent";

const request = create(CreateOrderRequestSchema, {
  customerEmail: "siti@example.co.id",
  lines: [{ packageId: "pulsa-nusantara-10k", quantity: 2 }],
  paymentChannelCode: "bca_va",
  languageCode: "id",
});

describe("the order client", () => {
  it("posts CreateOrderRequest as proto3 JSON with the Idempotency-Key header", async () => {
    const gateway = installFakeGateway().on("POST", "/api/v1/orders", () => jsonResponse(createOrderResponseJson()));
    const created = await createOrder(request, "key-1");
    const [sent] = gateway.requests;
    expect(sent?.headers.get("Idempotency-Key")).toBe("key-1");
    expect(sent?.body).toEqual({
      customerEmail: "siti@example.co.id",
      lines: [{ packageId: "pulsa-nusantara-10k", quantity: 2 }],
      paymentChannelCode: "bca_va",
      languageCode: "id",
    });
    expect(created.accessToken).toBe(ACCESS_TOKEN);
    expect(created.order?.id).toBe(ORDER_ID);
    expect(created.order?.total?.amount).toBe(27000n);
    expect(created.payment?.instructions.case).toBe("virtualAccount");
  });

  it("tries again with the same key when the order met contention (ABORTED)", async () => {
    let answered = 0;
    const gateway = installFakeGateway().on("POST", "/api/v1/orders", () =>
      answered++ === 0 ? errorResponse(409, "ABORTED", "conflicted; retry it") : jsonResponse(createOrderResponseJson()),
    );
    const created = await createOrder(request, "key-2");
    expect(created.order?.id).toBe(ORDER_ID);
    expect(gateway.requests.map((sent) => sent.headers.get("Idempotency-Key"))).toEqual(["key-2", "key-2"]);
    // One shopper's action: the retry stays in the first try's trace, as a new span.
    const [first, retry] = gateway.requests.map((sent) => sent.headers.get("traceparent") ?? "");
    expect(traceIdOf(retry ?? "")).toBe(traceIdOf(first ?? ""));
    expect(retry).not.toBe(first);
  });

  it("gives up after a few contended tries, and never retries a refusal", async () => {
    const contended = installFakeGateway().on("POST", "/api/v1/orders", () => errorResponse(409, "ABORTED", "busy"));
    await expect(createOrder(request, "key-3")).rejects.toMatchObject({ code: "ABORTED", retryable: true });
    expect(contended.requests).toHaveLength(3);
    const refused = installFakeGateway().on("POST", "/api/v1/orders", () =>
      errorResponse(409, "FAILED_PRECONDITION", "out of stock"),
    );
    await expect(createOrder(request, "key-4")).rejects.toMatchObject({ code: "FAILED_PRECONDITION", retryable: false });
    expect(refused.requests).toHaveLength(1);
  });

  it("reads an order with its token as a query parameter", async () => {
    const gateway = installFakeGateway().on("GET", `/api/v1/orders/${ORDER_ID}`, () => jsonResponse(orderJson()));
    const order = await getOrder(ORDER_ID, "t/k+n");
    expect(order.state).toBe(OrderState.PENDING_PAYMENT);
    expect(order.lines[0]?.lineTotal?.amount).toBe(23000n);
    expect(gateway.requests[0]?.query.get("token")).toBe("t/k+n");
  });

  it("cancels with a POST to :cancel carrying the token in its body", async () => {
    const gateway = installFakeGateway().on("POST", `/api/v1/orders/${ORDER_ID}:cancel`, () =>
      jsonResponse(orderJson("CANCELLED")),
    );
    const order = await cancelOrder(ORDER_ID, ACCESS_TOKEN);
    expect(order.state).toBe(OrderState.CANCELLED);
    expect(gateway.requests[0]?.query.toString()).toBe("");
    expect(gateway.requests[0]?.body).toEqual({ token: ACCESS_TOKEN });
  });
});
