// web_page.mjs - drives moat's page (web/) in Debian's Chromium with
// playwright-core; run by tests/cli/web_page.sh, which makes the workspace
// and starts `moat serve`.  Env: BASE (http://127.0.0.1:PORT), TOKEN (the
// one-time login token), MODEL_URI (gguf:.../llama-2-tiny-random.gguf),
// SHOTS (a directory for screenshots, or empty).
// Prints "ok WHAT" or "FAIL WHAT" per check; exits 1 on any failure.
// After each step it reads back over the API (as the admin, who sees every
// annotation) what the server now holds.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';

const BASE = process.env.BASE;
const TOKEN = process.env.TOKEN;
const MODEL_URI = process.env.MODEL_URI;
const SHOTS = process.env.SHOTS || '';
const CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let failures = 0;
const ok = (what) => console.log('ok ' + what);
const fail = (what) => {
  failures++;
  console.log('FAIL ' + what);
};
const check = (cond, what, detail) => (cond ? ok(what) : fail(what + (detail !== undefined ? ': ' + detail : '')));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const cps = (s) => Array.from(s);
const cpIndex = (s, sub) => cps(s.slice(0, s.indexOf(sub))).length;

// polls fn until it returns something truthy; fails after ms
async function until(what, fn, ms = 10000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < ms) {
    try {
      last = await fn();
      if (last) {
        ok(what);
        return last;
      }
    } catch (e) {
      last = String(e && e.message ? e.message : e);
    }
    await sleep(100);
  }
  fail(`${what} (last seen: ${typeof last === 'string' ? last : JSON.stringify(last)})`);
  return null;
}

// --- the API, from here, as one user ---------------------------------------------
class Client {
  constructor() {
    this.cookie = '';
    this.csrf = '';
  }
  async login(name, password) {
    const r = await fetch(BASE + '/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, password }) });
    if (r.status !== 200) throw new Error(`login ${name}: HTTP ${r.status}`);
    this.cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    this.csrf = (await r.json()).csrf;
    return this;
  }
  async req(method, p, body) {
    const headers = { Cookie: this.cookie };
    if (method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(BASE + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const j = await r.json().catch(() => null);
    if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${j && j.error}`);
    return j;
  }
  task(project, id) {
    return this.req('GET', `/api/projects/${encodeURIComponent(project)}/tasks/${id}`);
  }
  async tasks(project) {
    return (await this.req('GET', `/api/projects/${encodeURIComponent(project)}/tasks?limit=100`)).tasks;
  }
}
async function annOf(api, project, id, user) {
  const t = await api.task(project, id);
  return (t.annotations || []).find((a) => a.annotator === user && a.corrects == null) || null;
}

// --- the browser -------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-default-apps',
    '--no-default-browser-check', '--disable-features=Translate,MediaRouter,OptimizationHints'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(15000);

const requests = [];
const noCsp = [];
const consoleErrors = [];
const allowedConsole = []; // [url substring, status] of errors the test itself provokes
const noCsrf = [];
context.on('request', (r) => {
  requests.push(r.url());
  if (r.method() !== 'GET' && r.method() !== 'HEAD' && !r.url().endsWith('/api/login') &&
      !(r.headers()['x-csrf-token'] || '').length) noCsrf.push(`${r.method()} ${r.url()}`);
});
context.on('response', async (r) => {
  const csp = await r.headerValue('content-security-policy').catch(() => null);
  if (csp !== CSP) noCsp.push(`${r.status()} ${r.url()}: ${csp}`);
});
page.on('dialog', async (d) => {
  fail(`a dialog opened: ${d.type()} ${d.message()}`);
  await d.dismiss().catch(() => {});
});
page.on('pageerror', (e) => fail(`page error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() !== 'error' && m.type() !== 'assert') return;
  const url = (m.location() && m.location().url) || '';
  if (allowedConsole.some(([u, st]) => url.includes(u) && m.text().includes(`status of ${st}`))) return;
  consoleErrors.push(`${m.text()} (${url})`);
});

async function shot(name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.mouse.move(0, 0);
  await sleep(150);
  await page.screenshot({ path: `${SHOTS}/label-${name}.png`, type: 'png' });
}
const hashIs = (re) => until(`the address is ${re}`, async () => re.test(new URL(page.url()).hash) && page.url());
async function go(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}
// opens a task on the label page and waits until the page shows it
async function openTask(project, id) {
  await go(`#/p/${project}/label/${id}`);
  await page.locator('.taskhead h2', { hasText: new RegExp(`^Task #${id}$`) }).waitFor();
  await page.locator('main h1', { hasText: `${project}: label` }).waitFor();
}
async function logout() {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#login-name').waitFor();
}
async function login(name) {
  await page.fill('#login-name', name);
  await page.fill('#login-password', name + '-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText(`(${name === 'adm' ? 'admin' : name === 'rev' ? 'reviewer' : 'annotator'})`).waitFor();
}
async function currentTask() {
  const m = /\/label\/(\d+)$/.exec(new URL(page.url()).hash);
  return m ? Number(m[1]) : null;
}

const admin = await new Client().login('adm', 'adm-password');
const ann2 = await new Client().login('ann2', 'ann2-password');
const ids = {};
for (const p of ['cls', 'multi', 'spans', 'boxes', 'pdfbox', 'qa', 'pref']) {
  ids[p] = await admin.tasks(p);
  check(ids[p].length > 0, `project ${p} has tasks`, ids[p].length);
}
const bySnippet = (p, s) => (ids[p].find((t) => (t.snippet || '').includes(s)) || {}).id;

// the picture boxes are drawn on
const img0 = await fetch(`${BASE}/api/projects/boxes/tasks/${ids.boxes[0].id}/image`, { headers: { Cookie: admin.cookie } });
check(img0.status === 200 && /^image\/(png|jpeg)$/.test(img0.headers.get('content-type') || ''),
  'the image task\'s picture is served', `${img0.status} ${img0.headers.get('content-type')}`);

try {
  // --- 1. the one-time link, then the form ------------------------------------------
  await page.goto(`${BASE}/?token=${encodeURIComponent(TOKEN)}`);
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  check(!page.url().includes('token='), 'the token leaves the address bar', page.url());
  const sess = await page.evaluate(async () => (await fetch('/api/session')).json());
  check(sess.role === 'admin', 'the one-time link logs in the admin', JSON.stringify(sess));
  await logout();
  await shot('login');
  await page.fill('#login-name', 'ann');
  await page.fill('#login-password', 'wrong-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  allowedConsole.push(['/api/login', 401]);
  await until('a wrong password is refused on the page', async () => (await page.locator('.login .error-text').textContent()).includes('wrong name or password'));
  await login('ann');
  check(await page.locator('#nav a', { hasText: 'Review' }).count() === 0 && await page.locator('#nav a', { hasText: 'Models' }).count() === 0,
    'an annotator is not shown the reviewer\'s and admin\'s pages');
  await page.getByRole('link', { name: 'cls', exact: true }).click();

  // --- 2. classification with keys and suggestions ----------------------------------
  await hashIs(/^#\/p\/cls\/label\/\d+$/);
  await page.locator('.editor.classify').waitFor();
  const t1 = await currentTask();
  const task1 = await admin.task('cls', t1);
  const s1 = task1.suggestions[0];
  check(!!s1, 'the task has a suggestion from the tiny model', JSON.stringify(task1.suggestions));
  await until('the suggestion is pre-filled and marked with its model and score', async () => {
    const note = await page.locator('.prefill-note').textContent();
    return note.includes('Pre-filled') && note.includes(s1.model) && (await page.locator('.suggestion .model').first().textContent()) === s1.model;
  });
  check(await page.locator(`.labelbtn[data-label="${s1.value.labels[0]}"][aria-pressed="true"]`).count() === 1,
    'the suggested label is shown pressed');
  await shot('classification');
  await page.keyboard.press('a');
  await until('a: the suggestion is accepted and submitted', async () => {
    const a = await annOf(admin, 'cls', t1, 'ann');
    const t = await admin.task('cls', t1);
    return a && a.status === 'submitted' && same(a.value, s1.value) && a.suggestion_id === s1.id &&
      t.suggestions[0].decision === 'accepted';
  });
  await until('accepting goes on to the next task', async () => (await currentTask()) !== t1);
  await page.locator('.editor.classify').waitFor();
  const t2 = await currentTask();
  const s2 = (await admin.task('cls', t2)).suggestions[0];
  await page.keyboard.press('r');
  await until('r: the suggestion is rejected', async () => (await admin.task('cls', t2)).suggestions[0].decision === 'rejected');
  await until('a rejected suggestion is no longer pre-filled', async () =>
    (await page.locator('.labelbtn[aria-pressed="true"]').count()) === 0 &&
    !(await page.locator('.prefill-note').textContent()).includes('Pre-filled'));
  check(!!s2, 'the second task had a suggestion');
  await page.keyboard.press('2');
  await until('key 2: contract saved as a draft', async () => {
    const a = await annOf(admin, 'cls', t2, 'ann');
    return a && a.status === 'draft' && same(a.value.labels, ['contract']);
  });
  await page.keyboard.press('1');
  await until('key 1: invoice saved', async () => same(((await annOf(admin, 'cls', t2, 'ann')) || {}).value, { labels: ['invoice'] }));
  await page.keyboard.press('u');
  await until('u: undo brings back contract on the server', async () => same(((await annOf(admin, 'cls', t2, 'ann')) || {}).value, { labels: ['contract'] }));
  await page.keyboard.press('Enter');
  await until('Enter submits', async () => ((await annOf(admin, 'cls', t2, 'ann')) || {}).status === 'submitted');
  await until('submitting goes on to the next task', async () => ![t1, t2].includes(await currentTask()));
  await page.locator('.editor.classify').waitFor();
  const t3 = await currentTask();
  const s3 = (await admin.task('cls', t3)).suggestions[0];
  const other = ['invoice', 'contract', 'other'].find((l) => l !== s3.value.labels[0]);
  await page.keyboard.press(String(['invoice', 'contract', 'other'].indexOf(other) + 1));
  await until('a changed suggestion is saved as an edit of it', async () => {
    const a = await annOf(admin, 'cls', t3, 'ann');
    return a && same(a.value.labels, [other]) && a.suggestion_id === s3.id;
  });
  await page.keyboard.press('Enter');
  await until('the edited suggestion is submitted and marked edited', async () => {
    const t = await admin.task('cls', t3);
    const a = t.annotations.find((x) => x.annotator === 'ann');
    return a && a.status === 'submitted' && t.suggestions[0].decision === 'edited';
  });
  // focus is visible: Tab onto a control draws a ring
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => {
    const el = document.activeElement;
    const cs = el && getComputedStyle(el);
    return !!cs && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
  }), 'the focused control shows a focus ring');
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  // j and k walk the list
  await openTask('cls', t2);
  await until('the task list marks the current task', async () => (await page.locator('.tasklist [aria-current="true"]').textContent()).includes(`#${t2}`));
  const order = ids.cls.map((t) => t.id);
  const i2 = order.indexOf(t2);
  await page.keyboard.press('j');
  await hashIs(new RegExp(`/label/${order[i2 + 1]}$`));
  await page.keyboard.press('k');
  await hashIs(new RegExp(`/label/${t2}$`));
  await until('a submitted task shows its saved label', async () =>
    (await page.locator('.labelbtn[aria-pressed="true"][data-label="contract"]').count()) === 1);

  // hostile texts: shown as their characters, nothing runs
  for (const [snip, text] of [['<script>', '<script>alert(1)</script>'], ['onerror', '"><img src=x onerror=alert(1)>'],
    ['javascript:', 'javascript:alert(1)']]) {
    const id = bySnippet('cls', snip);
    await openTask('cls', id);
    await until(`hostile text ${JSON.stringify(text)} shows as text`, async () =>
      (await page.locator('.doctext').textContent()).includes(text));
  }
  await sleep(300);
  check(await page.locator('main img, main script, main a[href^="javascript"], main iframe').count() === 0,
    'no element made from a task text or the guidelines');
  check((await page.locator('.guidelines').textContent()).includes('<img src=x onerror=alert(7)>'), 'guidelines HTML shows as text');
  check(await page.locator('.guidelines em').count() === 1 && await page.locator('.guidelines strong').count() === 1,
    'guidelines Markdown: emphasis and strong');

  // several labels (multi): keys toggle
  const mt = ids.multi[0].id;
  await openTask('multi', mt);
  await page.locator('.editor.classify').waitFor();
  await page.keyboard.press('1');
  await page.keyboard.press('3');
  await until('multi: keys 1 and 3 give two labels', async () =>
    same(((await annOf(admin, 'multi', mt, 'ann')) || {}).value, { labels: ['invoice', 'other'] }));
  await page.keyboard.press('1');
  await until('multi: key 1 again takes its label off', async () =>
    same(((await annOf(admin, 'multi', mt, 'ann')) || {}).value, { labels: ['other'] }));

  // --- 3. spans ------------------------------------------------------------------
  const sp = bySnippet('spans', 'Alice');
  const spText = (await admin.task('spans', sp)).text;
  await openTask('spans', sp);
  await page.locator('.spantext').waitFor();
  const pt = await page.evaluate(() => {
    const seg = [...document.querySelectorAll('.spantext .seg')].find((s) => s.textContent.includes('Alice'));
    const node = seg.firstChild;
    const i = node.data.indexOf('Alice');
    const r = document.createRange();
    r.setStart(node, i + 1);
    r.setEnd(node, i + 4); // "lic": inside the word
    const b = r.getBoundingClientRect();
    return { x1: b.left + 1, x2: b.right - 1, y: b.top + b.height / 2 };
  });
  await page.mouse.move(pt.x1, pt.y);
  await page.mouse.down();
  await page.mouse.move(pt.x2, pt.y, { steps: 5 });
  await page.mouse.up();
  await until('a mouse selection inside a word snaps to the word', async () =>
    (await page.locator('.spantext .seg.sel').allTextContents()).join('') === 'Alice');
  await page.keyboard.press('Shift+ArrowRight');
  await until('Shift+Right grows the selection by a word', async () =>
    (await page.locator('.spantext .seg.sel').allTextContents()).join('') === 'Alice Smith');
  await page.keyboard.press('p');
  const person = [cpIndex(spText, 'Alice'), cpIndex(spText, 'Smith') + 5, 'PERSON'];
  await until('key p: PERSON over "Alice Smith" saved in code points', async () =>
    same(((await annOf(admin, 'spans', sp, 'ann')) || {}).value, { spans: [person] }));
  // by keyboard: the cursor is on "Smith"; three words on is "Acme"
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await until('the keyboard selects "Acme Corporation"', async () =>
    (await page.locator('.spantext .seg.sel').allTextContents()).join('') === 'Acme Corporation');
  await page.keyboard.press('o');
  const org = [cpIndex(spText, 'Acme'), cpIndex(spText, 'Corporation') + 11, 'ORG'];
  await until('key o: ORG saved', async () =>
    same(((await annOf(admin, 'spans', sp, 'ann')) || {}).value, { spans: [person, org] }));
  await page.keyboard.press('ArrowRight'); // "Corporation" -> "in"
  await page.keyboard.press('Shift+ArrowRight'); // selects "in"
  await page.keyboard.press('Shift+ArrowRight'); // "in Paris"
  await page.keyboard.press('Control+Shift+ArrowLeft'); // the start back to "Corporation"
  await until('Ctrl+Shift+Left moves the selection\'s start', async () =>
    (await page.locator('.spantext .seg.sel').allTextContents()).join('') === 'Corporation in Paris');
  await page.keyboard.press('l');
  const loc = [cpIndex(spText, 'Corporation'), cpIndex(spText, 'Paris') + 5, 'LOC'];
  await until('an overlapping LOC span saved', async () =>
    same(((await annOf(admin, 'spans', sp, 'ann')) || {}).value, { spans: [person, org, loc] }));
  check(await page.evaluate(() => [...document.querySelectorAll('.spantext .seg.covered')]
    .some((s) => s.textContent.includes('Corporation') && s.style.boxShadow.split('inset').length - 1 === 2)),
  'the overlap is drawn as two bands');
  const badges = await page.locator('.spantext .badge').allTextContents();
  check(['p PERSON', 'o ORG', 'l LOC'].every((b) => badges.includes(b)), 'each span names its key and label', badges.join('|'));
  await shot('spans');
  await page.keyboard.press('u');
  await until('u: the LOC span is undone on the server', async () =>
    same(((await annOf(admin, 'spans', sp, 'ann')) || {}).value, { spans: [person, org] }));
  await page.keyboard.press('ArrowDown'); // picks the first span
  await page.keyboard.press('Delete');
  await until('Delete removes the picked span', async () =>
    same(((await annOf(admin, 'spans', sp, 'ann')) || {}).value, { spans: [org] }));
  await page.keyboard.press('Enter');
  await until('the spans are submitted', async () => ((await annOf(admin, 'spans', sp, 'ann')) || {}).status === 'submitted');
  await until('submitting goes on to the next spans task', async () => (await currentTask()) !== sp);

  // --- 4. boxes ----------------------------------------------------------------------
  const bx = ids.boxes.find((t) => (t.name || '').endsWith('boxes.png')).id;
  const bxTask = await admin.task('boxes', bx);
  check(bxTask.width === 320 && bxTask.height === 200, 'the image task has its size', `${bxTask.width}x${bxTask.height}`);
  await openTask('boxes', bx);
  await page.locator('.canvas').waitFor();
  await until('the image is loaded from moat and shown at its size', async () => page.evaluate(() => {
    const i = document.querySelector('.canvas img');
    return i.complete && i.naturalWidth === 320 && i.naturalHeight === 200;
  }));
  await sleep(200);
  const geo = async () => page.evaluate(() => {
    const c = document.querySelector('.canvas').getBoundingClientRect();
    return { x: c.left, y: c.top, w: c.width };
  });
  let g = await geo();
  const z = g.w / 320;
  const near = (b, want) => b && b.length === 5 && want.every((v, i) => (i === 4 ? b[4] === v : Math.abs(b[i] - v) <= 2));
  const boxesNow = async () => (((await annOf(admin, 'boxes', bx, 'ann')) || {}).value || {}).boxes || [];
  await page.mouse.move(g.x + 20 * z, g.y + 20 * z);
  await page.mouse.down();
  await page.mouse.move(g.x + 120 * z, g.y + 80 * z, { steps: 8 });
  await page.mouse.up();
  await until('a box drawn with the mouse is saved in image pixels', async () => {
    const b = await boxesNow();
    return b.length === 1 && near(b[0], [20, 20, 100, 60, 'figure']);
  });
  await page.mouse.move(g.x + 70 * z, g.y + 50 * z);
  await page.mouse.down();
  await page.mouse.move(g.x + 100 * z, g.y + 70 * z, { steps: 8 });
  await page.mouse.up();
  await until('a dragged box moves', async () => near((await boxesNow())[0], [50, 40, 100, 60, 'figure']));
  await page.mouse.move(g.x + 150 * z - 1, g.y + 100 * z - 1);
  await page.mouse.down();
  await page.mouse.move(g.x + 190 * z, g.y + 130 * z, { steps: 8 });
  await page.mouse.up();
  await until('a dragged corner resizes the box', async () => near((await boxesNow())[0], [50, 40, 140, 90, 'figure']));
  await page.keyboard.press('t');
  await until('key t: the picked box becomes a table', async () => near((await boxesNow())[0], [50, 40, 140, 90, 'table']));
  await page.keyboard.press('ArrowRight');
  await until('Right moves the picked box a pixel', async () => near((await boxesNow())[0], [51, 40, 140, 90, 'table']));
  await page.keyboard.press('+');
  await until('+ zooms in', async () => (await geo()).w > g.w + 10);
  await page.keyboard.press('0');
  g = await geo();
  await page.keyboard.press('Escape'); // nothing picked: the label key sets what new boxes get
  await page.keyboard.press('f');
  await page.mouse.move(g.x + 200 * g.w / 320, g.y + 150 * g.w / 320);
  await page.mouse.down();
  await page.mouse.move(g.x + 260 * g.w / 320, g.y + 190 * g.w / 320, { steps: 6 });
  await page.mouse.up();
  await until('a second box is drawn', async () => (await boxesNow()).length === 2);
  await page.keyboard.press('Delete');
  await until('Delete removes the picked box', async () => {
    const b = await boxesNow();
    return b.length === 1 && b[0][4] === 'table';
  });
  await page.keyboard.press('Insert');
  await until('Insert adds a box by keyboard', async () => (await boxesNow()).length === 2);
  await page.keyboard.press('u');
  await until('u: the added box is undone', async () => (await boxesNow()).length === 1);
  await page.keyboard.press('Enter');
  await until('the boxes are submitted', async () => ((await annOf(admin, 'boxes', bx, 'ann')) || {}).status === 'submitted');

  // a scanned page (JPEG, 791x1024) shown smaller than its size: boxes are still in its pixels
  const paper = ids.boxes.find((t) => (t.name || '').endsWith('.jpg')).id;
  await openTask('boxes', paper);
  await until('the JPEG is shown fitted', async () => page.evaluate(() => {
    const i = document.querySelector('.canvas img');
    return i.complete && i.naturalWidth === 791 && i.getBoundingClientRect().width < 791;
  }));
  g = await geo();
  const zp = g.w / 791;
  const drawBox = async (x, y, w, hh) => {
    await page.mouse.move(g.x + x * zp, g.y + y * zp);
    await page.mouse.down();
    await page.mouse.move(g.x + (x + w) * zp, g.y + (y + hh) * zp, { steps: 8 });
    await page.mouse.up();
  };
  const paperBoxes = async () => (((await annOf(admin, 'boxes', paper, 'ann')) || {}).value || {}).boxes || [];
  const nearZ = (b, want) => b && want.every((v, i) => (i === 4 ? b[4] === v : Math.abs(b[i] - v) <= 1 / zp + 1));
  await page.keyboard.press('t');
  await drawBox(150, 170, 492, 96);
  await until(`at zoom ${zp.toFixed(2)} a box is saved in the image's pixels`, async () =>
    nearZ((await paperBoxes())[0], [150, 170, 492, 96, 'table']));
  await page.keyboard.press('Escape');
  await page.keyboard.press('c');
  await drawBox(130, 655, 494, 72);
  await until('a second label on the page', async () => nearZ((await paperBoxes())[1], [130, 655, 494, 72, 'code']));
  await shot('boxes');

  // a PDF page: its task has no size of its own; the page as moat draws it gives one
  const pg = ids.pdfbox[0].id;
  await openTask('pdfbox', pg);
  const pgSize = await until('the PDF page is drawn by moat and shown', async () => page.evaluate(() => {
    const i = document.querySelector('.canvas img');
    const c = document.querySelector('.canvas').getBoundingClientRect();
    return i.complete && i.naturalWidth > 0 && c.width > 0 ? { w: i.naturalWidth, h: i.naturalHeight, cw: c.width } : null;
  }));
  if (pgSize) {
    g = await geo();
    const zg = g.w / pgSize.w;
    await page.mouse.move(g.x + 40 * zg, g.y + 60 * zg);
    await page.mouse.down();
    await page.mouse.move(g.x + 240 * zg, g.y + 160 * zg, { steps: 6 });
    await page.mouse.up();
    await until('a box on the PDF page is saved in its pixels', async () => {
      const b = (((await annOf(admin, 'pdfbox', pg, 'ann')) || {}).value || {}).boxes || [];
      return b.length === 1 && [40, 60, 200, 100].every((v, i) => Math.abs(b[0][i] - v) <= 1 / zg + 1) && b[0][4] === 'table';
    });
  }

  // --- 5. question-answer and preference ----------------------------------------------
  const qa = bySnippet('qa', 'Invoice 42');
  await openTask('qa', qa);
  await page.locator('textarea.answer').fill('Three boxes of apples are due in May.');
  await page.keyboard.press('Control+Enter');
  await until('a typed answer is submitted with Ctrl+Enter', async () => {
    const a = await annOf(admin, 'qa', qa, 'ann');
    return a && a.status === 'submitted' && a.value.text === 'Three boxes of apples are due in May.';
  });
  const pf = ids.pref[0].id;
  await openTask('pref', pf);
  await page.locator('.pref').waitFor();
  check((await page.locator('.pref').textContent()).includes('Nothing <b>at all</b>.'), 'both responses show, as text');
  await page.keyboard.press('2');
  await until('key 2 prefers response 2', async () => same(((await annOf(admin, 'pref', pf, 'ann')) || {}).value, { preference: 2 }));
  await page.keyboard.press('Enter');
  await until('the preference is submitted', async () => ((await annOf(admin, 'pref', pf, 'ann')) || {}).status === 'submitted');

  // the ? help lists the keys
  await openTask('cls', t2);
  await page.locator('.editor.classify').waitFor();
  await page.keyboard.press('?');
  await page.locator('#help[open]').waitFor();
  const helpText = await page.locator('#help').textContent();
  check(['next task', 'previous task', 'accept the suggestion', 'reject the suggestion', 'undo'].every((s) => helpText.includes(s)),
    '? lists every key');
  await page.keyboard.press('Escape');

  // a second annotator, over the API, so that the tasks have two annotations each
  const a1 = await annOf(admin, 'cls', t1, 'ann');
  for (const [t, labels] of [[t1, a1.value.labels], [t2, ['invoice']], [t3, [other]]]) {
    await ann2.req('PUT', `/api/projects/cls/tasks/${t}/annotation`, { value: { labels }, status: 'submitted' });
  }
  await ann2.req('PUT', `/api/projects/spans/tasks/${sp}/annotation`, { value: { spans: [person] }, status: 'submitted' });

  // --- 6. review ------------------------------------------------------------------------
  await logout();
  await login('rev');
  await go(`#/p/cls/review/${t2}`);
  await until('the annotations sit side by side with who made them', async () => {
    const arts = await page.locator('.side-by-side article.ann:not(.suggestion)').allTextContents();
    return arts.length === 2 && arts.some((t) => t.startsWith('ann ')) && arts.some((t) => t.startsWith('ann2 '));
  });
  await shot('review');
  await page.getByRole('button', { name: 'Accept the annotation of ann', exact: true }).click();
  await until('accept: the annotation is accepted', async () => ((await annOf(admin, 'cls', t2, 'ann')) || {}).status === 'accepted');
  await page.getByRole('button', { name: 'Reject the annotation of ann2', exact: true }).click();
  await until('reject: the annotation is rejected', async () => ((await annOf(admin, 'cls', t2, 'ann2')) || {}).status === 'rejected');
  await go(`#/p/cls/review/${t3}`);
  await page.locator('.review h2', { hasText: `Task #${t3}` }).waitFor();
  await page.getByRole('button', { name: 'Correct the annotation of ann', exact: true }).click();
  const fix = ['invoice', 'contract', 'other'].find((l) => l !== other);
  await page.keyboard.press(String(['invoice', 'contract', 'other'].indexOf(fix) + 1));
  await page.getByRole('button', { name: 'Save the correction' }).click();
  await until('correct: a new accepted annotation by the reviewer replaces the annotator\'s', async () => {
    const t = await admin.task('cls', t3);
    const orig = t.annotations.find((a) => a.annotator === 'ann' && a.corrects == null);
    const corr = t.annotations.find((a) => a.annotator === 'rev' && a.corrects === orig.id);
    return orig.status === 'rejected' && corr && corr.status === 'accepted' && same(corr.value.labels, [fix]);
  });

  await go(`#/p/spans/review/${sp}`);
  await until('span annotations are drawn side by side, each on the text', async () => {
    const cols = await page.locator('.side-by-side article.ann').evaluateAll((as) => as.map((a) =>
      [a.querySelector('.who').textContent, [...a.querySelectorAll('.spantext .badge')].map((b) => b.textContent).join(',')]));
    return same(cols, [['ann', 'o ORG'], ['ann2', 'p PERSON']]);
  });

  // --- 7. agreement ---------------------------------------------------------------------
  await go('#/p/cls/review');
  await page.locator('main h1', { hasText: 'cls: review' }).waitFor();
  await page.getByRole('link', { name: 'Agreement' }).click();
  await page.locator('main h1', { hasText: 'cls: agreement' }).waitFor();
  await page.locator('#per-annotator').waitFor();
  const stats = await admin.req('GET', '/api/projects/cls/stats');
  const rows = await page.locator('#per-annotator tbody tr').allTextContents();
  check(rows.length === stats.annotators.length && rows.some((r) => r.startsWith('ann2')), 'one row per annotator', rows.join('|'));
  const kappa = stats.agreement.cohen_kappa;
  const pageText = await page.locator('main').textContent();
  check(kappa === null ? pageText.includes('n/a') : pageText.includes(kappa.toFixed(3)), 'the page shows the server\'s kappa', kappa);
  check(await page.locator('#per-label tbody tr').count() === 3, 'one row per label');
  await shot('agreement');

  // --- 8. models, the template's preview, a suggestion run --------------------------------
  await logout();
  await login('adm');
  await go('#/p/cls/models');
  await page.locator('main h1', { hasText: 'cls: models' }).waitFor();
  await page.locator('#template').waitFor();
  await until('the models are listed (or their sources named)', async () =>
    (await page.locator('.modellist').textContent()).length > 0 && !(await page.locator('.modellist').textContent()).includes('Asking'));
  // the tiny model is listed from serve's --models-dir: picked from the list
  const listed = page.locator('.modellist input[type=radio][value$="llama-2-tiny-random.gguf"]');
  await until('the GGUF file of --models-dir is listed', async () => (await listed.count()) === 1);
  await listed.check();
  check((await page.inputValue('#model-uri')).endsWith('llama-2-tiny-random.gguf'), 'picking a listed model fills the model field');
  await page.fill('#model-uri', MODEL_URI);
  const firstText = (await admin.task('cls', ids.cls[0].id)).text;
  await page.fill('#template', 'Is this an invoice? Answer yes or no.\n{{text}}');
  await until('the preview renders the edited template live', async () => {
    const p = await page.locator('#preview-prompt').textContent();
    return p.startsWith('Is this an invoice? Answer yes or no.') && p.includes(firstText.trim().slice(0, 20));
  });
  await page.getByRole('button', { name: 'Ask the model' }).click();
  await until('the tiny model answers through the embedded backend', async () =>
    (await page.locator('#preview-answer .answer').count()) === 1 &&
    (await page.locator('#preview-answer').textContent()).includes(MODEL_URI.slice(0, 10)), 60000);
  await shot('models');
  await go('#/p/qa/models');
  await page.locator('main h1', { hasText: 'qa: models' }).waitFor();
  await page.locator('#run-limit').waitFor();
  await page.fill('#model-uri', MODEL_URI);
  const RUN_TEMPLATE = 'Answer in one word: {{text}}';
  await page.fill('#template', RUN_TEMPLATE);
  await page.getByRole('button', { name: 'Start a suggestion run' }).click();
  const run = await until('the run shows up', async () => page.locator('#runs-table tbody tr').first().getAttribute('data-run'));
  await until('the page follows the run to its end', async () =>
    (await page.locator(`#runs-table tr[data-run="${run}"]`).getAttribute('data-status')) === 'done', 120000);
  const runs = (await admin.req('GET', '/api/projects/qa/suggest')).runs;
  const r0 = runs.find((x) => String(x.id) === String(run));
  check(r0 && r0.status === 'done' && r0.done === r0.total && r0.total === ids.qa.length && r0.started_by === 'adm',
    'the server holds the finished run', JSON.stringify(r0));
  const prog = await page.locator(`#runs-table tr[data-run="${run}"] progress`);
  check(await prog.getAttribute('value') === String(r0.done), 'the progress bar shows what was done');
  for (const t of ids.qa) {
    const tt = await admin.task('qa', t.id);
    const g = tt.suggestions.find((s) => s.model === MODEL_URI);
    check(g, `task ${t.id} has a suggestion from the run`);
    const want = createHash('sha256').update(RUN_TEMPLATE.replace('{{text}}', tt.text)).digest('hex');
    check(g && g.prompt_sha256 === want, `task ${t.id}: the run used the template edited on the page`, g && g.prompt_sha256);
  }
} catch (err) {
  fail(`the run stopped: ${err && err.stack ? err.stack : err}`);
}

// --- everything came from moat, with its headers; nothing ran -------------------------
const foreign = requests.filter((u) => !u.startsWith(BASE + '/'));
check(foreign.length === 0, `every request (${requests.length}) goes to the server under test`, foreign.join(' '));
check(noCsrf.length === 0 && requests.length > 0, 'every change the page asks for carries X-CSRF-Token', noCsrf.join(' '));
check(noCsp.length === 0, 'every response carries the Content-Security-Policy', noCsp.join(' | '));
check(consoleErrors.length === 0, 'no console error', consoleErrors.join(' | '));
await browser.close();
console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
