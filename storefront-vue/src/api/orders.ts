/** The order service's public routes: placing, reading and cancelling orders. */
import { toJson } from "@bufbuild/protobuf";
import { OrderSchema, type Order } from "@pasar/contracts/pasar/order/v1/order_pb";
import {
  CreateOrderRequestSchema,
  CreateOrderResponseSchema,
  type CreateOrderRequest,
  type CreateOrderResponse,
} from "@pasar/contracts/pasar/order/v1/order_service_pb";

import { ApiError, parseMessage, requestJson } from "./http";
import { newTraceId } from "./traceparent";

/** Pauses before each automatic retry of an order that met contention (ABORTED). */
export const CONTENTION_RETRY_DELAYS_MS = [150, 600];

/**
 * Places an order. idempotencyKey is chosen once per intended order and sent again on
 * every retry of it, so that a retry after a lost answer returns the first order
 * instead of placing a second one. An answer of contention (ABORTED) is retried at once
 * with the same key, a few times, as the contract allows; other errors go to the caller.
 * Those automatic retries are one shopper's action: they share one trace id.
 */
export async function createOrder(
  request: CreateOrderRequest,
  idempotencyKey: string,
  signal?: AbortSignal,
): Promise<CreateOrderResponse> {
  const body = toJson(CreateOrderRequestSchema, request);
  const traceId = newTraceId();
  for (let attempt = 0; ; attempt += 1) {
    try {
      const json = await requestJson("POST", "/orders", {
        body,
        headers: { "Idempotency-Key": idempotencyKey },
        signal,
        traceId,
      });
      return parseMessage(CreateOrderResponseSchema, json);
    } catch (error) {
      const delay = CONTENTION_RETRY_DELAYS_MS[attempt];
      if (!(error instanceof ApiError && error.contention) || delay === undefined) throw error;
      await pause(delay, signal);
    }
  }
}

function pause(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, milliseconds);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** An order, read with the access token from its creation or its e-mail link. */
export async function getOrder(id: string, token: string, signal?: AbortSignal): Promise<Order> {
  const json = await requestJson("GET", `/orders/${encodeURIComponent(id)}`, { query: { token }, signal });
  return parseMessage(OrderSchema, json);
}

/**
 * Cancels an unpaid order; cancelling a cancelled one returns it unchanged. The route's
 * body is the whole CancelOrderRequest (`body: "*"`), so the token travels in the body.
 */
export async function cancelOrder(id: string, token: string, signal?: AbortSignal): Promise<Order> {
  const json = await requestJson("POST", `/orders/${encodeURIComponent(id)}:cancel`, { body: { token }, signal });
  return parseMessage(OrderSchema, json);
}
