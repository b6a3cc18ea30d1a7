import proxyAddr from '@fastify/proxy-addr';

/** Whether proxy-addr takes this as an address, a CIDR or a named range (loopback, linklocal, uniquelocal). */
export function isProxyAddress(value: string): boolean {
  try {
    proxyAddr.compile(value);
    return true;
  } catch {
    return false;
  }
}
