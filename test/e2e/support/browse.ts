/**
 * A browser's walk through the sandbox vendor's sign-in: follows redirects by hand with a cookie jar until the
 * browser would come back to `home` (tokenvend), and answers that URL (the callback, with code and state).
 */
export async function browse(start: string, home: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(start);
  for (let hop = 0; hop < 10; hop++) {
    if (url.origin === new URL(home).origin) return url;
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`no redirect from ${url.pathname} (HTTP ${response.status})`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}
