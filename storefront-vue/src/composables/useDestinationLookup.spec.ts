import { ErrorReason as CommonReason } from "@pasar/contracts/pasar/common/v1/error_reason_pb";
import { ErrorReason as FulfillmentReason } from "@pasar/contracts/pasar/fulfillment/v1/error_reason_pb";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { effectScope, ref, type EffectScope } from "vue";

import { errorResponse, installFakeGateway, jsonResponse, unavailable, type FakeGateway } from "@/testing/gateway";
import { settle } from "@/testing/render";

import { LOOKUP_DEBOUNCE_MS, useDestinationLookup, type DestinationLookup } from "./useDestinationLookup";

const PATH = "/api/v1/destinations:lookup";
let gateway: FakeGateway;
let scope: EffectScope;
const destination = ref<Record<string, string> | undefined>();

function start(): DestinationLookup {
  scope = effectScope();
  const lookup = scope.run(() =>
    useDestinationLookup(
      () => "token-listrik",
      () => destination.value,
      () => "meter_number",
    ),
  );
  if (lookup === undefined) throw new Error("no lookup");
  return lookup;
}

function notFound(): Response {
  return errorResponse(404, "NOT_FOUND", "no such meter", [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: FulfillmentReason[FulfillmentReason.DESTINATION_NOT_FOUND],
      domain: "pasar.shop",
      metadata: { product_id: "token-listrik", field: "meter_number" },
    },
  ]);
}

async function afterDebounce(): Promise<void> {
  await vi.advanceTimersByTimeAsync(LOOKUP_DEBOUNCE_MS);
  await settle();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  destination.value = undefined;
  gateway = installFakeGateway().on("POST", PATH, () =>
    jsonResponse({ customerName: "Siti Rahayu", detail: "R1/1300 VA", operatorName: "", matchesProduct: true }),
  );
});
afterEach(() => {
  scope.stop();
  vi.useRealTimers();
});

describe("the look-up before Beli", () => {
  it("asks once the shopper stops typing a valid destination, with the destination in the body", async () => {
    const lookup = start();
    expect(lookup.state.value.status).toBe("idle");
    destination.value = { meter_number: "1234567890" };
    await settle();
    destination.value = { meter_number: "12345678901" };
    await settle();
    expect(lookup.state.value.status).toBe("checking");
    expect(gateway.requestsTo("POST", PATH)).toHaveLength(0);
    await afterDebounce();
    const requests = gateway.requestsTo("POST", PATH);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body).toEqual({ productId: "token-listrik", destination: { meter_number: "12345678901" } });
    expect(requests[0]?.query.toString()).toBe("");
    const state = lookup.state.value;
    expect(state.status === "found" && state.result.customerName).toBe("Siti Rahayu");
  });

  it("remembers answers, and forgets the state when the destination is no longer valid", async () => {
    const lookup = start();
    destination.value = { meter_number: "12345678901" };
    await afterDebounce();
    destination.value = undefined;
    await settle();
    expect(lookup.state.value.status).toBe("idle");
    destination.value = { meter_number: "12345678901" };
    await settle();
    expect(lookup.state.value.status).toBe("found");
    expect(gateway.requestsTo("POST", PATH)).toHaveLength(1);
  });

  it("tells the field a destination the biller does not know", async () => {
    gateway.on("POST", PATH, notFound);
    const lookup = start();
    destination.value = { meter_number: "12345670000" };
    await afterDebounce();
    expect(lookup.state.value).toEqual({ status: "notFound", field: "meter_number" });
  });

  it("says the look-up is unavailable when the fulfillment service is down, and asks again later", async () => {
    gateway.on("POST", PATH, unavailable);
    const lookup = start();
    destination.value = { meter_number: "12345678901" };
    await afterDebounce();
    expect(lookup.state.value.status).toBe("unavailable");
    destination.value = { meter_number: "123456789012" };
    await afterDebounce();
    destination.value = { meter_number: "12345678901" };
    await afterDebounce();
    expect(gateway.requestsTo("POST", PATH)).toHaveLength(3);
  });

  it("shows a refusal on the field it names, and keeps quiet about a product without look-ups", async () => {
    gateway.on("POST", PATH, () =>
      errorResponse(400, "INVALID_ARGUMENT", "bad", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: CommonReason[CommonReason.INVALID_DESTINATION],
          domain: "pasar.shop",
          metadata: { product_id: "token-listrik", field: "meter_number" },
        },
      ]),
    );
    const lookup = start();
    destination.value = { meter_number: "12345678901" };
    await afterDebounce();
    expect(lookup.state.value).toEqual({ status: "refused", field: "meter_number" });
    gateway.on("POST", PATH, () =>
      errorResponse(400, "FAILED_PRECONDITION", "no look-up", [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: FulfillmentReason[FulfillmentReason.LOOKUP_NOT_SUPPORTED],
          domain: "pasar.shop",
          metadata: { product_id: "token-listrik" },
        },
      ]),
    );
    destination.value = { meter_number: "123456789012" };
    await afterDebounce();
    expect(lookup.state.value.status).toBe("idle");
  });

  it("drops the answer of a destination the shopper has changed since", async () => {
    let release: (response: Response) => void = () => undefined;
    gateway.on("POST", PATH, () => new Promise<Response>((resolve) => (release = resolve)));
    const lookup = start();
    destination.value = { meter_number: "12345678901" };
    await afterDebounce();
    destination.value = { meter_number: "123456789012" };
    await settle();
    release(notFound());
    await settle();
    expect(lookup.state.value.status).toBe("checking");
  });
});
