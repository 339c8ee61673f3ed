import { PaymentChannelKind, PaymentState } from "@pasar/contracts/pasar/payment/v1/payment_pb";
import { describe, expect, it } from "vitest";

import { channelsJson, PAYMENT_ID, paymentJson } from "@/testing/catalog";
import { installFakeGateway, jsonResponse } from "@/testing/gateway";

import { getPayment, listPaymentChannels, simulatePayment } from "./payments";

describe("the payment client", () => {
  it("lists channels with their fees, limits and kinds", async () => {
    installFakeGateway().on("GET", "/api/v1/payment-channels", () => jsonResponse(channelsJson()));
    const channels = await listPaymentChannels();
    const bca = channels[0];
    expect(channels.map((channel) => channel.code)).toEqual(["bca_va", "qris", "ovo", "alfamart"]);
    expect(bca?.kind).toBe(PaymentChannelKind.VIRTUAL_ACCOUNT);
    expect(bca?.flatFee?.amount).toBe(4000n);
    expect(bca?.maxAmount?.amount).toBe(50000000n);
    expect(bca?.paymentTtl?.seconds).toBe(86400n);
    expect(channels[1]?.percentFeeBps).toBe(70);
  });

  it("reads a payment's instructions from the oneof", async () => {
    installFakeGateway().on("GET", `/api/v1/payments/${PAYMENT_ID}`, () =>
      jsonResponse(
        paymentJson("PENDING", {
          channelKind: "PAYMENT_CHANNEL_KIND_QRIS",
          virtualAccount: undefined,
          qris: { qrString: "00020101021226..." },
        }),
      ),
    );
    const payment = await getPayment(PAYMENT_ID);
    expect(payment.state).toBe(PaymentState.PENDING);
    expect(payment.total?.amount).toBe(27000n);
    expect(payment.instructions.case).toBe("qris");
    expect(payment.instructions.case === "qris" && payment.instructions.value.qrString).toBe("00020101021226...");
  });

  it("settles a payment through the sandbox with a POST to :simulate", async () => {
    const gateway = installFakeGateway().on("POST", `/api/v1/payments/${PAYMENT_ID}:simulate`, () =>
      jsonResponse(paymentJson("PAID", { paidTime: "2026-01-05T08:05:00Z" })),
    );
    const payment = await simulatePayment(PAYMENT_ID);
    expect(payment.state).toBe(PaymentState.PAID);
    expect(payment.paidTime?.seconds).toBe(BigInt(Date.UTC(2026, 0, 5, 8, 5) / 1000));
    expect(gateway.requests[0]?.body).toEqual({});
  });
});
