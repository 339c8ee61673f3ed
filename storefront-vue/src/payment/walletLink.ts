/**
 * Whether an e-wallet's checkout link may be shown to a shopper. The contract promises an
 * app link or nothing, never a placeholder; this holds the page to it even if a provider
 * (or an older sandbox) sends one: a link to a reserved test host (".test", ".example",
 * ".invalid", ".localhost", example.com) or a script URL would lead nowhere, or somewhere
 * harmful. Without a link the page says what to do instead.
 */

const RESERVED_SUFFIXES = [".test", ".example", ".invalid", ".localhost", ".local"];
const RESERVED_HOSTS = ["localhost", "example.com", "example.net", "example.org"];
const REFUSED_PROTOCOLS = ["javascript:", "data:", "blob:", "file:", "vbscript:"];

export function usableWalletLink(link: string): string | undefined {
  const trimmed = link.trim();
  if (trimmed === "") return undefined;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined; // not absolute: it cannot open an app
  }
  if (REFUSED_PROTOCOLS.includes(url.protocol)) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if ((url.protocol === "http:" || url.protocol === "https:") && host === "") return undefined;
  const reserved =
    RESERVED_HOSTS.some((name) => host === name || host.endsWith(`.${name}`)) ||
    RESERVED_SUFFIXES.some((suffix) => host.endsWith(suffix) || host === suffix.slice(1));
  return reserved ? undefined : trimmed;
}
