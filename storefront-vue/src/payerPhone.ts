/**
 * The phone number of the shopper's e-wallet account, for the channels that push the
 * payment request to it (PaymentChannel.requires_phone_number: OVO, DANA). It is checked
 * with the contract's own pattern (CreateOrderRequest.payer_phone_number's
 * buf.validate rule, read from the descriptor), so the page and the server agree.
 */
import { getOption } from "@bufbuild/protobuf";
import { field as validateField } from "@pasar/contracts/buf/validate/validate_pb";
import { CreateOrderRequestSchema } from "@pasar/contracts/pasar/order/v1/order_service_pb";

/** The contract's pattern for payer_phone_number (it also allows empty, for other channels). */
function contractPattern(): RegExp {
  const rules = getOption(CreateOrderRequestSchema.field.payerPhoneNumber, validateField);
  if (rules.type.case !== "string" || rules.type.value.pattern === undefined) {
    throw new Error("CreateOrderRequest.payer_phone_number has no pattern in the contract");
  }
  return new RegExp(rules.type.value.pattern);
}

export const PAYER_PHONE_PATTERN = contractPattern();

/** What the shopper typed, as the contract takes it: without spaces, dashes, dots or brackets. */
export function payerPhoneNumber(typed: string): string {
  return typed.replace(/[\s\-.()]/g, "");
}

/** True when the typed number is an Indonesian mobile number the contract accepts. */
export function isPayerPhoneNumber(typed: string): boolean {
  const number = payerPhoneNumber(typed);
  return number !== "" && PAYER_PHONE_PATTERN.test(number);
}
