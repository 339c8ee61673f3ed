/**
 * The look-up before Beli (FulfillmentService.LookupDestination): once the destination
 * is valid, and the shopper has stopped typing for a moment, ask what the biller knows
 * of it (the PLN customer's name, a phone number's operator). Only the newest
 * destination's answer counts; answers are remembered for the visit.
 *
 * The look-up helps and never blocks: with the fulfillment service down the shopper is
 * told that the name cannot be checked now and may still buy (delivery waits, checkout
 * does not). Only the biller's definite "no such destination" stops Beli.
 */
import type { LookupDestinationResponse } from "@pasar/contracts/pasar/fulfillment/v1/fulfillment_service_pb";
import { onScopeDispose, shallowRef, watch, type ShallowRef } from "vue";

import { lookupDestination } from "@/api/destinations";
import { isAbort, toApiError } from "@/api/http";
import { isDestinationNotFound, refusedDestinationField } from "@/api/reasons";
import type { Destination } from "@/destinations";

/** How long the shopper must stop typing before the look-up is sent. */
export const LOOKUP_DEBOUNCE_MS = 400;

export type LookupState =
  /** Nothing to look up (the destination is not valid yet, or the product has no look-up). */
  | { status: "idle" }
  | { status: "checking" }
  | { status: "found"; result: LookupDestinationResponse }
  /** The biller has no such destination (NOT_FOUND DESTINATION_NOT_FOUND); field: which value. */
  | { status: "notFound"; field: string }
  /** The service refused a value (INVALID_DESTINATION) that the storefront's check let through. */
  | { status: "refused"; field: string }
  /** The look-up cannot be made now (the fulfillment service is down or busy); traceId: the failed request's. */
  | { status: "unavailable"; traceId?: string };

export interface DestinationLookup {
  state: ShallowRef<LookupState>;
}

/** A text of a destination that is the same for the same values in any key order. */
function keyOf(productId: string, destination: Destination): string {
  return JSON.stringify([productId, Object.entries(destination).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/**
 * productId and destination are read reactively; destination() is undefined while
 * there is nothing to look up. lookupField names the value a "not found" belongs to when
 * the answer does not say.
 */
export function useDestinationLookup(
  productId: () => string,
  destination: () => Destination | undefined,
  lookupField: () => string,
  delayMs = LOOKUP_DEBOUNCE_MS,
): DestinationLookup {
  const state = shallowRef<LookupState>({ status: "idle" });
  const answers = new Map<string, LookupState>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: AbortController | undefined;

  function stop(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    running?.abort();
    running = undefined;
  }

  async function look(id: string, wanted: Destination, key: string): Promise<void> {
    const controller = new AbortController();
    running = controller;
    try {
      const result = await lookupDestination(id, wanted, controller.signal);
      if (controller.signal.aborted) return;
      state.value = { status: "found", result };
      answers.set(key, state.value);
    } catch (failure) {
      if (controller.signal.aborted || isAbort(failure)) return;
      const error = toApiError(failure);
      if (isDestinationNotFound(error)) {
        state.value = { status: "notFound", field: error.metadata.field || lookupField() };
        answers.set(key, state.value);
      } else if (refusedDestinationField(error) !== undefined) {
        state.value = { status: "refused", field: refusedDestinationField(error) ?? lookupField() };
      } else if (error.unavailable || error.status >= 500 || error.status === 429) {
        state.value = { status: "unavailable", traceId: error.traceId };
      } else {
        // LOOKUP_NOT_SUPPORTED, an unknown product: nothing to tell the shopper.
        state.value = { status: "idle" };
      }
    } finally {
      if (running === controller) running = undefined;
    }
  }

  watch(
    () => {
      const wanted = destination();
      return wanted === undefined ? undefined : { id: productId(), wanted, key: keyOf(productId(), wanted) };
    },
    (next, previous) => {
      if (next?.key === previous?.key && next !== undefined) return;
      stop();
      if (next === undefined) {
        state.value = { status: "idle" };
        return;
      }
      const known = answers.get(next.key);
      if (known !== undefined) {
        state.value = known;
        return;
      }
      state.value = { status: "checking" };
      timer = setTimeout(() => {
        timer = undefined;
        void look(next.id, next.wanted, next.key);
      }, delayMs);
    },
    { immediate: true },
  );

  onScopeDispose(stop);
  return { state };
}
