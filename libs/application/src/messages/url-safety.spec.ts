import { assertPublicUrl, checkPublicHttpUrl, isPublicAddress, isPublicHttpUrl, UnsafeUrlError } from './url-safety';

describe('isPublicHttpUrl (R22)', () => {
  it.each([
    ['https://cdn.shopify.com/s/files/lamp.png', true],
    ['http://images.example.com/a.jpg?w=200', true],
    ['https://8.8.8.8/x.png', true],
    ['https://[2606:4700:4700::1111]/x.png', true],
    ['https://bücher.example/x.png', true],
    ['http://169.254.169.254/latest/meta-data/', false],
    ['http://169.254.170.2/v2/credentials', false],
    ['http://localhost/x.png', false],
    ['http://LOCALHOST./x.png', false],
    ['http://api.localhost/x.png', false],
    ['http://127.0.0.1/x.png', false],
    ['http://127.1/x.png', false],
    ['http://2130706433/x.png', false],
    ['http://0x7f000001/x.png', false],
    ['http://0.0.0.0/x.png', false],
    ['http://10.1.2.3/x.png', false],
    ['http://172.16.0.1/x.png', false],
    ['http://172.31.255.255/x.png', false],
    ['http://172.32.0.1/x.png', true],
    ['http://192.168.1.1/x.png', false],
    ['http://100.64.0.1/x.png', false],
    ['http://[::1]/x.png', false],
    ['http://[::]/x.png', false],
    ['http://[::ffff:127.0.0.1]/x.png', false],
    ['http://[::ffff:169.254.169.254]/x.png', false],
    ['http://[fd00::1]/x.png', false],
    ['http://[fe80::1]/x.png', false],
    ['http://metadata/computeMetadata/v1/', false],
    ['http://metadata.google.internal/computeMetadata/v1/', false],
    ['http://printer.local/x.png', false],
    ['https://user:pass@cdn.example.com/x.png', false],
    ['file:///etc/passwd', false],
    ['data:image/png;base64,AAAA', false],
    ['javascript:alert(1)', false],
    ['ftp://files.example.com/x.png', false],
    ['//cdn.example.com/x.png', false],
    ['', false],
  ])('%s → %s', (url, expected) => {
    expect(isPublicHttpUrl(url)).toBe(expected);
  });

  it('says why a URL is refused', () => {
    expect(checkPublicHttpUrl('file:///etc/passwd')).toEqual({ ok: false, reason: 'scheme' });
    expect(checkPublicHttpUrl('http://169.254.169.254/')).toEqual({ ok: false, reason: 'non-public-address' });
    expect(checkPublicHttpUrl('http://localhost/')).toEqual({ ok: false, reason: 'internal-host' });
    expect(checkPublicHttpUrl('https://u:p@a.example/')).toEqual({ ok: false, reason: 'credentials' });
  });

  it('judges bare addresses', () => {
    expect(isPublicAddress('93.184.216.34')).toBe(true);
    expect(isPublicAddress('169.254.169.254')).toBe(false);
    expect(isPublicAddress('::ffff:10.0.0.1')).toBe(false);
    expect(isPublicAddress('not-an-ip')).toBe(false);
  });
});

describe('assertPublicUrl (resolving)', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address }));
  };
  const lookup = resolver({
    'cdn.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'evil.example.com': ['93.184.216.34', '169.254.169.254'],
    'rebind.example.com': ['127.0.0.1'],
    'mapped.example.com': ['::ffff:192.168.0.10'],
  });

  async function reason(url: string): Promise<string | undefined> {
    try {
      await assertPublicUrl(url, lookup);
      return undefined;
    } catch (err) {
      if (err instanceof UnsafeUrlError) return err.reason;
      throw err;
    }
  }

  it('accepts a host whose every address is public', async () => {
    await expect(assertPublicUrl('https://cdn.example.com/a.png', lookup)).resolves.toBeInstanceOf(URL);
  });

  it('refuses a host when any resolved address is internal', async () => {
    expect(await reason('https://evil.example.com/a.png')).toBe('non-public-address');
    expect(await reason('https://rebind.example.com/a.png')).toBe('non-public-address');
    expect(await reason('https://mapped.example.com/a.png')).toBe('non-public-address');
  });

  it('refuses unresolvable hosts and bad URLs without resolving', async () => {
    expect(await reason('https://nowhere.example.com/a.png')).toBe('unresolvable');
    expect(await reason('file:///etc/passwd')).toBe('scheme');
    expect(await reason('http://10.0.0.1/')).toBe('non-public-address');
  });
});
