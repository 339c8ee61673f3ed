import { ErrorReason as OrderReason } from "@pasar/contracts/pasar/order/v1/error_reason_pb";
import { ErrorReason as ProductReason } from "@pasar/contracts/pasar/product/v1/error_reason_pb";
import { afterEach, describe, expect, it, vi } from "vitest";

import { errorResponse, installFakeGateway, jsonResponse } from "@/testing/gateway";

import { ApiError, isAbort, parseErrorBody, requestJson } from "./http";
import { newTraceId, traceIdOf } from "./traceparent";

afterEach(() => {
  vi.useRealTimers();
});

describe("parseErrorBody", () => {
  it("reads the gateway's error shape with ErrorInfo and BadRequest details", () => {
    const error = parseErrorBody(409, {
      error: {
        code: "FAILED_PRECONDITION",
        message: "package pulsa-10k has 2 units left",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: ProductReason[ProductReason.OUT_OF_STOCK],
            domain: "pasar.shop",
            metadata: { package_id: "pulsa-10k", requested: "5", available: "2" },
          },
          {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            fieldViolations: [{ field: "lines[0].quantity", description: "too many" }],
          },
        ],
      },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(409);
    expect(error.code).toBe("FAILED_PRECONDITION");
    expect(error.message).toBe("package pulsa-10k has 2 units left");
    expect(error.reason).toBe(ProductReason[ProductReason.OUT_OF_STOCK]);
    expect(error.metadata).toEqual({ package_id: "pulsa-10k", requested: "5", available: "2" });
    expect(error.fieldViolations).toEqual([{ field: "lines[0].quantity", description: "too many" }]);
    expect(error.unavailable).toBe(false);
    expect(error.retryable).toBe(false);
  });

  it("falls back to a code from the HTTP status when the body is not the error shape", () => {
    const error = parseErrorBody(503, "<html>Service Unavailable</html>");
    expect(error.code).toBe("UNAVAILABLE");
    expect(error.unavailable).toBe(true);
    expect(error.retryable).toBe(true);
    expect(parseErrorBody(504, undefined).code).toBe("DEADLINE_EXCEEDED");
    expect(parseErrorBody(418, null).code).toBe("UNKNOWN");
    expect(parseErrorBody(500, {}).code).toBe("INTERNAL");
  });

  it("ignores malformed details instead of failing", () => {
    const error = parseErrorBody(400, {
      error: { code: "INVALID_ARGUMENT", message: "bad", details: [null, 3, { "@type": 7 }, { reason: "X" }] },
    });
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.reason).toBeUndefined();
    expect(error.fieldViolations).toEqual([]);
  });
});

describe("requestJson", () => {
  it("sends JSON, leaves empty query parameters out and returns the body", async () => {
    const gateway = installFakeGateway().on("POST", "/api/v1/things", () => jsonResponse({ ok: true }));
    const body = await requestJson("POST", "/things", {
      query: { pageSize: 5, pageToken: "", query: undefined, categoryId: "pulsa & data" },
      body: { a: 1 },
      headers: { "Idempotency-Key": "k1" },
    });
    expect(body).toEqual({ ok: true });
    const [request] = gateway.requests;
    expect(request?.query.toString()).toBe("pageSize=5&categoryId=pulsa+%26+data");
    expect(request?.headers.get("Content-Type")).toBe("application/json");
    expect(request?.headers.get("Idempotency-Key")).toBe("k1");
    expect(request?.body).toEqual({ a: 1 });
  });

  it("turns a gateway error into an ApiError", async () => {
    installFakeGateway().on("GET", "/api/v1/orders/x", () =>
      errorResponse(404, "NOT_FOUND", "order not found", [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: OrderReason[OrderReason.ORDER_NOT_FOUND], domain: "pasar.shop" },
      ]),
    );
    const error = await requestJson("GET", "/orders/x").catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "NOT_FOUND", reason: OrderReason[OrderReason.ORDER_NOT_FOUND] });
  });

  it("reports a network failure as unavailable (status 0)", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    const error = await requestJson("GET", "/products").catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 0, code: "UNAVAILABLE", unavailable: true, retryable: true });
  });

  it("reports a success without a JSON body as an error", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("not json", { status: 200 })));
    await expect(requestJson("GET", "/products")).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("sends a W3C traceparent on every request, each in a new trace unless told which", async () => {
    const gateway = installFakeGateway().on("GET", "/api/v1/products", () => jsonResponse({ products: [] }));
    await requestJson("GET", "/products");
    await requestJson("GET", "/products");
    const traceId = newTraceId();
    await requestJson("GET", "/products", { traceId });
    const sent = gateway.requests.map((request) => request.headers.get("traceparent") ?? "");
    for (const value of sent) expect(value).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(new Set(sent.map((value) => traceIdOf(value))).size).toBe(3);
    expect(traceIdOf(sent[2] ?? "")).toBe(traceId);
  });

  it("names the request's trace id on the error it throws", async () => {
    const gateway = installFakeGateway().on("POST", "/api/v1/orders", () => errorResponse(503, "UNAVAILABLE", "down"));
    const error = await requestJson("POST", "/orders", { body: {} }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApiError);
    const sentTraceId = traceIdOf(gateway.requests[0]?.headers.get("traceparent") ?? "");
    expect(sentTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect((error as ApiError).traceId).toBe(sentTraceId);
  });

  it("names the trace id on a network failure and on a body that is not JSON", async () => {
    const traceId = newTraceId();
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(requestJson("GET", "/products", { traceId })).rejects.toMatchObject({ status: 0, traceId });
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("<html>", { status: 502 })));
    await expect(requestJson("GET", "/products", { traceId })).rejects.toMatchObject({ code: "UNAVAILABLE", traceId });
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response("not json", { status: 200 })));
    await expect(requestJson("GET", "/products", { traceId })).rejects.toMatchObject({ code: "INTERNAL", traceId });
  });

  it("passes a caller's abort through as an abort, not an ApiError", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn((_input: unknown, init?: RequestInit) => {
        return new Promise((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        });
      }),
    );
    const controller = new AbortController();
    const pending = requestJson("GET", "/products", { signal: controller.signal });
    controller.abort();
    const error = await pending.catch((failure: unknown) => failure);
    expect(isAbort(error)).toBe(true);
  });
});
