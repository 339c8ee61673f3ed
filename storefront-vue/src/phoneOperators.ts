/**
 * Indonesia's mobile operators by number prefix (the same table the sandbox biller's
 * look-up answers from), so that a prefix error can name the operator a product is for:
 * "Nomor ini bukan nomor Telkomsel (0811, 0812, …)".
 */
const OPERATOR_PREFIXES: Readonly<Record<string, readonly string[]>> = {
  Telkomsel: ["0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853"],
  Indosat: ["0814", "0815", "0816", "0855", "0856", "0857", "0858"],
  XL: ["0817", "0818", "0819", "0859", "0877", "0878"],
  Axis: ["0831", "0832", "0833", "0838"],
  Tri: ["0895", "0896", "0897", "0898", "0899"],
  Smartfren: ["0881", "0882", "0883", "0884", "0885", "0886", "0887", "0888", "0889"],
};

/** The operator every one of these prefixes belongs to; undefined when they are not all one operator's. */
export function operatorOfPrefixes(prefixes: readonly string[]): string | undefined {
  if (prefixes.length === 0) return undefined;
  for (const [operator, own] of Object.entries(OPERATOR_PREFIXES)) {
    if (prefixes.every((prefix) => own.includes(prefix))) return operator;
  }
  return undefined;
}
