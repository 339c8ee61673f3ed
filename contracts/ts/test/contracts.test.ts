// The TypeScript side of the contracts' cross-language tests: a client-side message
// round trip, the shared binary fixture, and the shared validation cases, run with
// node:test on the compiled output (see `scripts/contracts check`).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { create, fromBinary, fromJson, toBinary, toJson, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { createRegistry } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";

import { CreateOrderRequestSchema, CreateOrderResponseSchema, GetOrderRequestSchema, OrderService } from "../src/pasar/order/v1/order_service_pb.js";
import {
  CreateFulfillmentRequestSchema,
  GetFulfillmentRequestSchema,
  LookupDestinationRequestSchema,
  NotifyFulfillmentRequestSchema,
  WatchFulfillmentEventsRequestSchema,
} from "../src/pasar/fulfillment/v1/fulfillment_service_pb.js";
import { CreatePaymentRequestSchema, NotifyPaymentRequestSchema, RefundPaymentRequestSchema } from "../src/pasar/payment/v1/payment_service_pb.js";
import { BatchGetPackagesRequestSchema, ListProductsRequestSchema, ProductService } from "../src/pasar/product/v1/product_service_pb.js";

// Run from contracts/ts, where the shared fixtures are ../testdata.
const testdata = join(process.cwd(), "..", "testdata");

test("a request serialises and parses back", () => {
  const request = create(CreateOrderRequestSchema, {
    requestId: "3f1c2a9e",
    customerEmail: "siti@example.co.id",
    lines: [{ packageId: "pulsa-nusantara-10k", quantity: 2 }],
    paymentChannelCode: "qris",
  });
  const parsed = fromBinary(CreateOrderRequestSchema, toBinary(CreateOrderRequestSchema, request));
  assert.equal(parsed.lines[0]?.quantity, 2);
  assert.equal(parsed.customerEmail, "siti@example.co.id");
});

test("service descriptors carry the methods a client calls", () => {
  assert.equal(ProductService.method.getProduct.name, "GetProduct");
  assert.equal(OrderService.method.createOrder.input.typeName, "pasar.order.v1.CreateOrderRequest");
});

test("the shared fixture decodes to the same JSON as in Python and Go", () => {
  const bytes = readFileSync(join(testdata, "create_order_response.binpb"));
  const decoded = fromBinary(CreateOrderResponseSchema, new Uint8Array(bytes));
  assert.equal(decoded.payment?.instructions.case, "qris");
  assert.equal(decoded.order?.total?.amount, 44308n);
  const expected = JSON.parse(readFileSync(join(testdata, "create_order_response.json"), "utf8")) as JsonValue;
  assert.deepEqual(toJson(CreateOrderResponseSchema, decoded), expected);
  const again = fromBinary(CreateOrderResponseSchema, toBinary(CreateOrderResponseSchema, decoded));
  assert.deepEqual(toJson(CreateOrderResponseSchema, again), expected);
});

type ValidationCases = {
  cases: { name: string; message: string; json: JsonValue; violations: [string, string][] }[];
};

const schemas: DescMessage[] = [
  CreateOrderRequestSchema,
  GetOrderRequestSchema,
  ListProductsRequestSchema,
  CreatePaymentRequestSchema,
  BatchGetPackagesRequestSchema,
  NotifyPaymentRequestSchema,
  RefundPaymentRequestSchema,
  CreateFulfillmentRequestSchema,
  LookupDestinationRequestSchema,
  GetFulfillmentRequestSchema,
  NotifyFulfillmentRequestSchema,
  WatchFulfillmentEventsRequestSchema,
];
const registry = createRegistry(...schemas);
const validator = createValidator();
const document = JSON.parse(readFileSync(join(testdata, "validation_cases.json"), "utf8")) as ValidationCases;

for (const validationCase of document.cases) {
  test(`protovalidate-es agrees on: ${validationCase.name}`, () => {
    const schema = registry.getMessage(validationCase.message);
    assert.ok(schema, `no schema for ${validationCase.message}`);
    const result = validator.validate(schema, fromJson(schema, validationCase.json));
    const found = (result.kind === "invalid" ? result.error.violations : []).map((violation) => {
      let path = "";
      for (const element of violation.field) {
        if (element.kind === "field") {
          path += path ? `.${element.name}` : element.name;
        } else if (element.kind === "list_sub") {
          path += `[${element.index}]`;
        } else if (element.kind === "map_sub") {
          path += `[${String(element.key)}]`; // a map value's key, unquoted, as the services write it
        }
      }
      return `${path} ${violation.ruleId}`;
    });
    const expected = validationCase.violations.map(([field, rule]) => `${field} ${rule}`);
    assert.deepEqual(found.sort(), expected.sort());
  });
}
