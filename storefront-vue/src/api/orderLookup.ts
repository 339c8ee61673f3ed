/**
 * "Cek pesanan": finding an order by its number and the e-mail address or destination it
 * was placed with (OrderService.LookupOrder, `POST /api/v1/orders:lookup`), and what a
 * failed look-up means. A wrong pair answers exactly like an unknown number, so the page
 * cannot tell them apart either; too many attempts answer RATE_LIMITED with how long to wait.
 */
import { create, getOption, toJson } from "@bufbuild/protobuf";
import { field as validateField } from "@pasar/contracts/buf/validate/validate_pb";
import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import {
  LookupOrderRequestSchema,
  LookupOrderResponseSchema,
  type LookupOrderResponse,
} from "@pasar/contracts/pasar/order/v1/order_service_pb";

import { type ApiError, parseMessage, requestJson } from "./http";
import { retryAfterSeconds } from "./reasons";

/** LookupOrderRequest's string rules for a field (buf.validate, read from the descriptor). */
function stringRules(field: "orderNumber" | "contact") {
  const rules = getOption(LookupOrderRequestSchema.field[field], validateField);
  if (rules.type.case !== "string") throw new Error(`LookupOrderRequest.${field} has no string rules in the contract`);
  return rules.type.value;
}

function contractOrderNumberPattern(): RegExp {
  const pattern = stringRules("orderNumber").pattern;
  if (pattern === "") throw new Error("LookupOrderRequest.order_number has no pattern in the contract");
  return new RegExp(pattern);
}

function contractContactMaxLength(): number {
  const maxLength = stringRules("contact").maxLen;
  if (maxLength === 0n) throw new Error("LookupOrderRequest.contact has no max_len in the contract");
  return Number(maxLength);
}

/** An order number as the contract takes it ("PSR-" and six of 23456789ABCDEFGHJKMNPQRSTVWXYZ), so page and server agree. */
export const ORDER_NUMBER_PATTERN = contractOrderNumberPattern();

/** The longest contact the contract takes. */
export const CONTACT_MAX_LENGTH = contractContactMaxLength();

/**
 * The order number a shopper typed, as the contract writes it: upper case, without
 * spaces, "PSR-" added when left out ("7k3 m9q" and "psr7k3m9q" are "PSR-7K3M9Q").
 * Empty stays empty; anything else is returned normalized for the pattern to judge.
 */
export function normalizeOrderNumber(typed: string): string {
  const compact = typed.toUpperCase().replace(/\s+/g, "");
  if (compact === "") return "";
  const rest = compact.startsWith("PSR") ? compact.slice(3) : compact;
  return `PSR-${rest.replace(/-/g, "")}`;
}

/** Finds an order; the answer carries the access token that opens its page. */
export async function lookupOrder(orderNumber: string, contact: string, signal?: AbortSignal): Promise<LookupOrderResponse> {
  const body = toJson(LookupOrderRequestSchema, create(LookupOrderRequestSchema, { orderNumber, contact }));
  const json = await requestJson("POST", "/orders:lookup", { body, signal });
  return parseMessage(LookupOrderResponseSchema, json);
}

/** What a failed look-up tells the shopper. */
export type LookupFailure =
  | { kind: "notFound" }
  | { kind: "rateLimited"; retryAfterSeconds: number | undefined }
  | { kind: "invalid" }
  | { kind: "unavailable" }
  | { kind: "failed" };

const RATE_LIMITED = CommonReason[CommonReason.RATE_LIMITED];

/** Reads a failed look-up: the reason and code, never the server's English text. */
export function lookupFailure(error: ApiError): LookupFailure {
  if (error.reason === RATE_LIMITED || error.status === 429 || error.code === "RESOURCE_EXHAUSTED") {
    return { kind: "rateLimited", retryAfterSeconds: retryAfterSeconds(error) };
  }
  if (error.code === "NOT_FOUND") return { kind: "notFound" };
  if (error.code === "INVALID_ARGUMENT") return { kind: "invalid" };
  if (error.unavailable) return { kind: "unavailable" };
  return { kind: "failed" };
}

