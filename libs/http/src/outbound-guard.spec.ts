import { createServer } from 'node:http';
import {
  checkOutboundUrl,
  classifyAddress,
  OutboundAddressRefusedError,
  outboundUrlProblem,
  sendHttp,
  setOutboundPolicy,
} from './index';

/** The outbound URL guard (R22). */
describe('outbound URL guard', () => {
  const strict = { allowPrivate: false };
  const lan = { allowPrivate: true };

  afterAll(() => setOutboundPolicy({ allowPrivate: true }));

  it('classifies addresses', () => {
    expect(classifyAddress('127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::1')).toBe('loopback');
    expect(classifyAddress('169.254.169.254')).toBe('link-local');
    expect(classifyAddress('::ffff:169.254.169.254')).toBe('link-local');
    expect(classifyAddress('fe80::1')).toBe('link-local');
    expect(classifyAddress('10.1.2.3')).toBe('private');
    expect(classifyAddress('172.20.0.5')).toBe('private');
    expect(classifyAddress('192.168.1.10')).toBe('private');
    expect(classifyAddress('fd12::1')).toBe('private');
    expect(classifyAddress('0.0.0.0')).toBe('unspecified');
    expect(classifyAddress('224.0.0.1')).toBe('reserved');
    expect(classifyAddress('93.184.216.34')).toBe('public');
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://metadata.google.internal/computeMetadata/v1/', /metadata/],
    ['http://0.0.0.0:8080/', /unspecified/],
    ['file:///etc/passwd', /scheme/],
    ['gopher://store.example/', /scheme/],
  ])('refuses %s always', (url, why) => {
    expect(outboundUrlProblem(url, strict)).toMatch(why);
    expect(outboundUrlProblem(url, lan)).toMatch(why);
  });

  it.each(['http://127.0.0.1:8080/api', 'http://localhost/api', 'https://10.0.0.5/wp-json', 'http://[::1]:3000/'])(
    'refuses %s by default, allows it with the private-network opt-in',
    (url) => {
      expect(outboundUrlProblem(url, strict)).toMatch(/ALLOW_PRIVATE_STORE_URLS/);
      expect(outboundUrlProblem(url, lan)).toBeUndefined();
    },
  );

  it('checks what a host name resolves to', async () => {
    await expect(checkOutboundUrl('http://localhost.localhost/', strict)).rejects.toBeInstanceOf(
      OutboundAddressRefusedError,
    );
    await expect(checkOutboundUrl('https://store.invalid/', strict)).resolves.toBeUndefined(); // unresolvable: fails on its own
  });

  it('sends nothing to a refused address, and reaches it with the opt-in', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits += 1;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      setOutboundPolicy(strict);
      await expect(
        sendHttp({ method: 'GET', url: `http://127.0.0.1:${port}/` }, { timeoutMs: 15_000 }),
      ).rejects.toMatchObject({ code: 'EREFUSED_OUTBOUND' });
      // A name that resolves to loopback is refused at connection time too.
      await expect(
        sendHttp({ method: 'GET', url: `http://localhost:${port}/` }, { timeoutMs: 15_000 }),
      ).rejects.toBeInstanceOf(OutboundAddressRefusedError);
      expect(hits).toBe(0);
      setOutboundPolicy(lan);
      expect((await sendHttp({ method: 'GET', url: `http://127.0.0.1:${port}/` }, { timeoutMs: 15_000 })).text).toBe(
        'ok',
      );
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });
});
