/** The payment service's public routes: payment channels, payments, and the sandbox's settlement. */
import { PaymentSchema, type Payment, type PaymentChannel } from "@pasar/contracts/pasar/payment/v1/payment_pb";
import { ListPaymentChannelsResponseSchema } from "@pasar/contracts/pasar/payment/v1/payment_service_pb";

import { parseMessage, requestJson } from "./http";

/** The most channels a page may hold (the contract's maximum). */
const CHANNEL_PAGE_SIZE = 100;

/** Every enabled payment channel, in display order, following the pages. */
export async function listPaymentChannels(signal?: AbortSignal): Promise<PaymentChannel[]> {
  const channels: PaymentChannel[] = [];
  let pageToken = "";
  do {
    const json = await requestJson("GET", "/payment-channels", {
      query: { pageSize: CHANNEL_PAGE_SIZE, pageToken },
      signal,
    });
    const page = parseMessage(ListPaymentChannelsResponseSchema, json);
    channels.push(...page.paymentChannels);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return channels;
}

/**
 * Whether the shop's payments are settled by the sandbox (ListPaymentChannelsResponse.sandbox):
 * no real money moves and anyone may mark a payment paid, so the shop is a demo.
 */
export async function paymentsSettledBySandbox(signal?: AbortSignal): Promise<boolean> {
  const json = await requestJson("GET", "/payment-channels", { query: { pageSize: 1 }, signal });
  return parseMessage(ListPaymentChannelsResponseSchema, json).sandbox;
}

/** A payment with its instructions and state; its random id is the credential. */
export async function getPayment(id: string, signal?: AbortSignal): Promise<Payment> {
  const json = await requestJson("GET", `/payments/${encodeURIComponent(id)}`, { signal });
  return parseMessage(PaymentSchema, json);
}

/** Settles a pending payment through the sandbox provider, as a shopper paying would. */
export async function simulatePayment(id: string, signal?: AbortSignal): Promise<Payment> {
  const json = await requestJson("POST", `/payments/${encodeURIComponent(id)}:simulate`, { body: {}, signal });
  return parseMessage(PaymentSchema, json);
}
