import { readNetworkCounters } from './collector';

describe(readNetworkCounters.name, () => {
  it('reads every interface of /proc/net/dev with its received and transmitted bytes', () => {
    const procNetDev = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 57959649   76248    0    0    0     0          0         0 57959649   76248    0    0    0     0       0          0',
      '  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
      'veth1a2b3c4:1099511627776 5 0 0 0 0 0 0 42 1 0 0 0 0 0 0',
      '',
    ].join('\n');
    expect(readNetworkCounters(procNetDev)).toEqual([
      { device: 'lo', rxBytesTotal: 57959649, txBytesTotal: 57959649 },
      { device: 'ifb0', rxBytesTotal: 0, txBytesTotal: 0 },
      { device: 'veth1a2b3c4', rxBytesTotal: 1099511627776, txBytesTotal: 42 },
    ]);
  });
});
