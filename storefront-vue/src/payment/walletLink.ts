/**
 * Whether an e-wallet's checkout link may be shown to a shopper. The contract promises an
 * app link or nothing, never a placeholder; this holds the page to it even if a provider
 * (or an older sandbox) sends one: a web link to a reserved test host (".test",
 * ".example", ".invalid", ".localhost", ".local", example.com), to this machine
 * (localhost, 127.0.0.1, [::1]) or a script URL would lead nowhere, or somewhere harmful.
 * A custom scheme's host is the app's own word ("gojek://gopay/...", "myapp://test/..."),
 * not a DNS name, so only web links are judged by their host. Without a link the page
 * says what to do instead.
 */

const RESERVED_SUFFIXES = [".test", ".example", ".invalid", ".localhost", ".local"];
const RESERVED_HOSTS = ["localhost", "example.com", "example.net", "example.org"];
const REFUSED_PROTOCOLS = ["javascript:", "data:", "blob:", "file:", "vbscript:"];
/** Hosts that name the machine the browser runs on: 127.0.0.0/8, ::1 and 0.0.0.0. */
const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/;

/** A web link's host that is no shop's or wallet's: reserved for tests and examples, or loopback. */
function isPlaceholderHost(host: string): boolean {
  return (
    host === "" ||
    LOOPBACK_HOST.test(host) ||
    RESERVED_HOSTS.some((name) => host === name || host.endsWith(`.${name}`)) ||
    RESERVED_SUFFIXES.some((suffix) => host.endsWith(suffix) || host === suffix.slice(1))
  );
}

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
  const web = url.protocol === "http:" || url.protocol === "https:";
  if (web && isPlaceholderHost(url.hostname.toLowerCase().replace(/\.$/, ""))) return undefined;
  return trimmed;
}
