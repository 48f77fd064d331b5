// app.js - the page's entry point: the session (GET /api/session, the login
// form, the one-time ?token= link), the routes (#/...), the navigation by
// role, the status line, the keys and the '?' help.  Each view is a module
// that draws into <main> and may set app.keys and app.onKey.
import { api, setCsrf, ApiError } from './api.js';
import { h, replace } from './dom.js';
import { labelView } from './label.js';
import { reviewView } from './review.js';
import { statsView } from './stats.js';
import { modelsView } from './models.js';

const ROLES = { annotator: 1, reviewer: 2, admin: 3 };
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const statusEl = document.getElementById('status');
const help = document.getElementById('help');
const helpBody = document.getElementById('help-body');

export const app = {
  session: null,
  keys: [],        // [[key, what]] of the current view, for the help
  onKey: null,     // the current view's key handler: (ev) => handled
  leave: null,     // called before the view is replaced (saves what is pending)
  timers: new Set(),
  status(msg, isError) {
    statusEl.textContent = msg || '';
    statusEl.classList.toggle('error', !!isError);
  },
  error(err) {
    if (err instanceof ApiError && err.status === 401) {
      app.session = null;
      showLogin('Your session has ended: log in again.');
      return;
    }
    app.status(err && err.message ? err.message : String(err), true);
  },
  can(role) {
    return !!app.session && ROLES[app.session.role] >= ROLES[role];
  },
  go(hash, replaceIt) {
    if (replaceIt) {
      history.replaceState(null, '', hash);
      route();
    } else if (location.hash === hash) {
      route();
    } else {
      location.hash = hash;
    }
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    app.timers.add(t);
    return t;
  },
};

const GLOBAL_KEYS = [
  ['?', 'show these keys'],
  ['Esc', 'close this list; leave a text box'],
];

function showHelp() {
  const rows = [...app.keys, ...GLOBAL_KEYS];
  replace(helpBody, h('table', h('thead', h('tr', h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'What it does'))),
    h('tbody', rows.map(([k, what]) => h('tr', h('td', String(k).split(' / ').map((x, i) => [i ? ' / ' : '', h('kbd', x)])), h('td', what))))));
  if (!help.open) help.showModal();
}

document.addEventListener('keydown', (ev) => {
  if (help.open) return;  // the dialog handles Esc itself
  const t = ev.target;
  const typing = t && t.matches && t.matches('input, textarea, select, [contenteditable="true"]');
  if (typing) {
    if (ev.key === 'Escape') t.blur();
    else if (app.onKey && (ev.ctrlKey || ev.metaKey) && ev.key === 'Enter' && app.onKey(ev)) ev.preventDefault();
    return;
  }
  if (ev.key === '?' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
    ev.preventDefault();
    showHelp();
    return;
  }
  if (app.onKey && app.onKey(ev)) ev.preventDefault();
});

// --- session and login ------------------------------------------------------

function setSession(s) {
  app.session = s;
  setCsrf(s ? s.csrf : '');
  drawTop();
}

function drawTop() {
  const s = app.session;
  if (!s) {
    replace(nav);
    replace(who);
    return;
  }
  replace(who, h('span', s.name, ' ', h('span.small', `(${s.role})`)),
    h('button', { type: 'button', onclick: logout }, 'Log out'));
  drawNav();
}

function drawNav() {
  const r = parseRoute();
  const p = r.project;
  const link = (hash, text, current) => h('a', { href: hash, aria: { current: current ? 'page' : null } }, text);
  const items = [link('#/projects', 'Projects', r.view === 'projects')];
  if (p) {
    const base = '#/p/' + encodeURIComponent(p);
    items.push(link(base + '/label', 'Label', r.view === 'label'));
    if (app.can('reviewer')) {
      items.push(link(base + '/review', 'Review', r.view === 'review'));
      items.push(link(base + '/agreement', 'Agreement', r.view === 'agreement'));
    }
    if (app.can('admin')) items.push(link(base + '/models', 'Models and suggestions', r.view === 'models'));
  }
  items.push(h('button', { type: 'button', aria: { label: 'Show the keys (?)' }, onclick: showHelp }, 'Keys ?'));
  replace(nav, items);
}

async function logout() {
  try {
    await api('POST', '/api/logout', {});
  } catch (err) {
    // logged out either way
  }
  setSession(null);
  showLogin('Logged out.');
}

function showLogin(msg) {
  stopView();
  document.title = 'moat: log in';
  const err = h('p.error-text', { role: 'alert' }, msg && msg !== 'Logged out.' ? msg : '');
  const name = h('input#login-name', { name: 'name', autocomplete: 'username', required: true });
  const pw = h('input#login-password', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const form = h('form.panel.login', { 'aria-labelledby': 'login-title' },
    h('h1#login-title', 'Log in to moat'),
    h('div.field', h('label', { for: 'login-name' }, 'Name'), name),
    h('div.field', h('label', { for: 'login-password' }, 'Password'), pw),
    err,
    h('button.primary', { type: 'submit' }, 'Log in'),
    h('p.small.muted', 'Or open the link that ', h('code', 'moat serve'), ' printed when it started.'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const s = await api('POST', '/api/login', { name: name.value, password: pw.value });
      setSession(s);
      app.status(`Logged in as ${s.name}.`);
      if (!location.hash || location.hash === '#/login') app.go('#/projects', true);
      else route();
    } catch (e) {
      err.textContent = e.status === 429 ? 'Too many failed logins: wait and try again.' : e.message;
      pw.value = '';
      pw.focus();
    }
  });
  replace(main, form);
  drawTop();
  app.status(msg === 'Logged out.' ? msg : '');
  name.focus();
}

// --- routes -------------------------------------------------------------------

function parseRoute() {
  const parts = (location.hash || '').replace(/^#\/?/, '').split('/').filter((x) => x !== '');
  const dec = (s) => {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      return null;
    }
  };
  if (parts[0] === 'p' && parts[1]) {
    return { view: parts[2] || 'label', project: dec(parts[1]), id: parts[3] ? Number(parts[3]) || null : null };
  }
  return { view: 'projects', project: null, id: null };
}

function stopView() {
  for (const t of app.timers) clearInterval(t);
  app.timers.clear();
  app.keys = [];
  app.onKey = null;
}

let routing = Promise.resolve();
function route() {
  routing = routing.then(routeNow, routeNow);
  return routing;
}

async function routeNow() {
  if (!app.session) return;
  if (app.leave) {
    const leave = app.leave;
    app.leave = null;
    try {
      await leave();
    } catch (err) {
      app.error(err);
    }
  }
  stopView();
  const r = parseRoute();
  drawNav();
  try {
    if (r.view === 'projects' || !r.project) await projectsView();
    else if (r.view === 'label') await labelView(main, app, r.project, r.id);
    else if (r.view === 'review' && app.can('reviewer')) await reviewView(main, app, r.project, r.id);
    else if (r.view === 'agreement' && app.can('reviewer')) await statsView(main, app, r.project);
    else if (r.view === 'models' && app.can('admin')) await modelsView(main, app, r.project);
    else replace(main, h('p', 'This page is not open to your role.'));
  } catch (err) {
    app.error(err);
  }
}

async function projectsView() {
  document.title = 'moat: projects';
  const data = await api('GET', '/api/projects');
  const list = data.projects || [];
  replace(main, h('h1', 'Projects'),
    list.length ? h('div.projects', list.map((p) => {
      const base = '#/p/' + encodeURIComponent(p.name);
      return h('section.panel', { aria: { label: p.name } },
        h('h2', h('a', { href: base + '/label' }, p.name)),
        h('p.small.muted', `${p.kind}, from ${p.from || p.source || 'documents'}`),
        h('p', `${p.done} of ${p.tasks} tasks done, ${p.annotations} annotations, ${p.suggestions} suggestions`),
        h('div.row',
          h('a', { href: base + '/label' }, 'Label'),
          app.can('reviewer') ? h('a', { href: base + '/review' }, 'Review') : null,
          app.can('reviewer') ? h('a', { href: base + '/agreement' }, 'Agreement') : null,
          app.can('admin') ? h('a', { href: base + '/models' }, 'Models and suggestions') : null));
    })) : h('p', 'No project yet: make one with ', h('code', 'moat label create'), '.'));
  app.keys = [];
  app.status(`${list.length} project${list.length === 1 ? '' : 's'}.`);
}

window.addEventListener('hashchange', route);

async function start() {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  if (token) {
    // the token works once: take it out of the address bar and history first
    history.replaceState(null, '', location.pathname + (location.hash || '#/projects'));
    try {
      setSession(await api('POST', '/api/login', { token }));
    } catch (err) {
      showLogin(err.status === 401 ? 'That link has been used already: log in with your name and password.'
        : err.message);
      return;
    }
  } else {
    try {
      setSession(await api('GET', '/api/session'));
    } catch (err) {
      if (err.status === 401) {
        showLogin('');
        return;
      }
      app.error(err);
      return;
    }
  }
  if (!location.hash) history.replaceState(null, '', '#/projects');
  route();
}

start();
