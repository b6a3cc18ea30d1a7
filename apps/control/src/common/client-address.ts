import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** Whether the peer at `hop` (0: the socket's) is a trusted proxy, whose X-Forwarded-For may be believed. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * The trust rule for DCM_TRUSTED_PROXIES (addresses and CIDRs): Fastify's trustProxy and the report fast path both use
 * it, so that every route counts and logs the same client address. No proxies: false, the socket's address is the client's.
 */
export function proxyTrust(trustedProxies: readonly string[]): ProxyTrust | false {
  return trustedProxies.length === 0 ? false : proxyAddr.compile([...trustedProxies]);
}

/** The client's address: the socket's peer, or, when that peer is a trusted proxy, the last untrusted X-Forwarded-For hop. */
export function clientAddress(request: IncomingMessage, trust: ProxyTrust | false): string {
  return trust ? proxyAddr(request, trust) : (request.socket.remoteAddress ?? '');
}
