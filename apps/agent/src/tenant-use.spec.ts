import { parseFilesystemRoots } from './tenant-use';

describe(parseFilesystemRoots.name, () => {
  it("takes mount points whose mount is a filesystem's root, not bind mounts of a directory, and unescapes them", () => {
    const mountInfo = [
      '22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '40 22 252:16 / /srv/tenants/gwent\\040police rw,relatime shared:20 - xfs /dev/vdb rw',
      '41 22 252:16 /tenants/torfaen /srv/tenants/torfaen rw,relatime shared:20 - xfs /dev/vdb rw',
    ].join('\n');
    expect([...parseFilesystemRoots(mountInfo)]).toEqual(['/', '/srv/tenants/gwent police']);
  });
});
