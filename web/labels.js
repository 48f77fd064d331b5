// labels.js - a project's labels as the page uses them: each with its key
// (the schema's, else the first free digit), its colour (the schema's, else
// the Okabe-Ito palette, which stays apart for colour-blind readers) and its
// name; and a value of any kind described in words, for suggestions and review.
import { h, inkFor, codePoints } from './dom.js';

const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];
// keys the page itself uses whatever the schema says (docs/label.md, "The web page")
export const PAGE_KEYS = new Set(['j', 'k', 'a', 'r', 'u', '?']);

export function projectLabels(schema) {
  const list = (schema && schema.labels) || [];
  const taken = new Set();
  const out = list.map((l, i) => {
    let key = l.key && !PAGE_KEYS.has(l.key.toLowerCase()) ? l.key : null;
    if (key) taken.add(key);
    return { name: l.name, key, color: l.color || PALETTE[i % PALETTE.length],
             description: l.description || '', index: i };
  });
  let d = 1;
  for (const l of out) {
    if (l.key) continue;
    while (d <= 9 && taken.has(String(d))) d++;
    if (d <= 9) {
      l.key = String(d);
      taken.add(l.key);
    }
  }
  return out;
}

export function labelByName(labels, name) {
  return labels.find((l) => l.name === name) || { name, key: null, color: '#999999', index: -1 };
}

// A chip: [key] ■ name.  The colour is never the only sign.
export function chip(l, extra) {
  const sw = h('span.swatch', { aria: { hidden: 'true' } });
  sw.style.background = l.color;
  return h('span.chip', extra || {}, l.key ? h('kbd', l.key) : null, ' ', sw, ' ', l.name);
}

// A small badge coloured as the label, with its key and name in text.
export function badge(l) {
  const b = h('span.badge', l.key ? `${l.key} ${l.name}` : l.name);
  b.style.background = l.color;
  b.style.color = inkFor(l.color);
  return b;
}

// A value described in words (a list of nodes), for any kind.
export function describeValue(kind, value, labels, task) {
  if (!value || typeof value !== 'object') return [h('span.muted', '(no value)')];
  const out = [];
  if (Array.isArray(value.labels)) {
    out.push(h('div.row', value.labels.length ? value.labels.map((n) => chip(labelByName(labels, n)))
      : h('span.muted', '(no label)')));
  }
  if (Array.isArray(value.spans)) {
    const cps = codePoints(task && task.text);
    out.push(value.spans.length ? h('ul.value-list', value.spans.map(([s, e, n]) =>
      h('li', chip(labelByName(labels, n)), ' ', h('q', cps.slice(s, e).join('')),
        h('span.muted.small', ` ${s}\u2013${e}`))))
      : h('span.muted', '(no span)'));
  }
  if (Array.isArray(value.boxes)) {
    out.push(value.boxes.length ? h('ul.value-list', value.boxes.map(([x, y, w, hh, n]) =>
      h('li', chip(labelByName(labels, n)), ` at ${Math.round(x)},${Math.round(y)} size ${Math.round(w)}\u00d7${Math.round(hh)}`)))
      : h('span.muted', '(no box)'));
  }
  if (typeof value.text === 'string') out.push(h('p.answertext', value.text || '(empty answer)'));
  if (value.preference === 1 || value.preference === 2) out.push(h('p', `Prefers response ${value.preference}`));
  if (typeof value.comment === 'string' && value.comment) out.push(h('p.small', 'Comment: ', value.comment));
  return out;
}

// An empty value for a kind.
export function emptyValue(kind) {
  switch (kind) {
    case 'classification': return { labels: [] };
    case 'spans': return { spans: [] };
    case 'boxes': return { boxes: [] };
    case 'qa': return { text: '' };
    case 'preference': return { preference: null };
    default: return {};
  }
}

// Whether the schema would accept the value as it stands (so that the page
// does not send what the server must refuse, e.g. no label on a single-label
// task).
export function valueComplete(kind, multi, value) {
  if (!value) return false;
  switch (kind) {
    case 'classification': return multi ? Array.isArray(value.labels) : (value.labels || []).length === 1;
    case 'spans': return Array.isArray(value.spans);
    case 'boxes': return Array.isArray(value.boxes);
    case 'qa': return typeof value.text === 'string';
    case 'preference': return value.preference === 1 || value.preference === 2;
    default: return false;
  }
}

export function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

// A task's name for lists and headings: a path's last part (the whole name
// goes in a title).
export function shortName(name) {
  const s = String(name || '');
  const i = s.lastIndexOf('/');
  return i >= 0 && i < s.length - 1 ? s.slice(i + 1) : s;
}
