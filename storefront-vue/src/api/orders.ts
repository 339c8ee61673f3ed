/** The order service's public routes: placing, reading and cancelling orders. */
import { toJson } from "@bufbuild/protobuf";
import { OrderSchema, type Order } from "@pasar/contracts/pasar/order/v1/order_pb";
import {
  CreateOrderRequestSchema,
  CreateOrderResponseSchema,
  type CreateOrderRequest,
  type CreateOrderResponse,
} from "@pasar/contracts/pasar/order/v1/order_service_pb";

import { parseMessage, requestJson } from "./http";

/**
 * Places an order. idempotencyKey is chosen once per intended order and sent again on
 * every retry of it, so that a retry after a lost answer returns the first order
 * instead of placing a second one.
 */
export async function createOrder(
  request: CreateOrderRequest,
  idempotencyKey: string,
  signal?: AbortSignal,
): Promise<CreateOrderResponse> {
  const json = await requestJson("POST", "/orders", {
    body: toJson(CreateOrderRequestSchema, request),
    headers: { "Idempotency-Key": idempotencyKey },
    signal,
  });
  return parseMessage(CreateOrderResponseSchema, json);
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
