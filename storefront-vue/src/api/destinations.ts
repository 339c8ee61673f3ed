/** The fulfillment service's public route: looking a destination up before paying. */
import { create, toJson } from "@bufbuild/protobuf";
import {
  LookupDestinationRequestSchema,
  LookupDestinationResponseSchema,
  type LookupDestinationResponse,
} from "@pasar/contracts/pasar/fulfillment/v1/fulfillment_service_pb";

import { parseMessage, requestJson } from "./http";

/**
 * What the biller knows of a destination (the name on a PLN meter, a phone number's
 * operator). A POST, so that the destination travels in the body and never in a URL.
 */
export async function lookupDestination(
  productId: string,
  destination: Readonly<Record<string, string>>,
  signal?: AbortSignal,
): Promise<LookupDestinationResponse> {
  const request = create(LookupDestinationRequestSchema, { productId, destination: { ...destination } });
  const json = await requestJson("POST", "/destinations:lookup", {
    body: toJson(LookupDestinationRequestSchema, request),
    signal,
  });
  return parseMessage(LookupDestinationResponseSchema, json);
}
