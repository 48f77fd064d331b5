// api.js - the only module that talks to moat serve: fetch() on the same
// origin, JSON in and out, the CSRF token on every request that changes
// something (docs/api.md).  Nothing here touches the page.

let csrf = '';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setCsrf(token) {
  csrf = token || '';
}

// One request: METHOD path [body].  Resolves to the parsed JSON answer;
// rejects with ApiError (status 0 when the server could not be reached).
export async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') {
    opts.headers['X-CSRF-Token'] = csrf;
  }
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (err) {
    throw new ApiError(0, 'the server cannot be reached');
  }
  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (type.startsWith('application/json')) {
    try {
      data = await res.json();
    } catch (err) {
      data = null;
    }
  }
  if (!res.ok) {
    const msg = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
    throw new ApiError(res.status, msg);
  }
  return data;
}

// A path under /api/ built from segments, each one encoded on its own so
// that a project name with '?', '#' or '%' stays one segment.
export function path(...segs) {
  return '/api/' + segs.map((s) => encodeURIComponent(String(s))).join('/');
}

// A query string from an object, leaving out undefined and null values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}
