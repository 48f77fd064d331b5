// dom.js - builds the page from elements and text nodes only.  Nothing in
// web/ assigns innerHTML, outerHTML or insertAdjacentHTML: a document's text
// is data, and h() turns every string child into a text node.

// h('button.primary', {type: 'button', onclick: f, aria: {pressed: 'true'}},
//   'text', child, [more children])
export function h(tag, attrs, ...children) {
  const m = /^([a-z0-9-]+)((?:[.#][A-Za-z0-9_-]+)*)$/.exec(tag);
  if (!m) throw new Error('bad tag ' + tag);
  const el = document.createElement(m[1]);
  for (const part of m[2].match(/[.#][A-Za-z0-9_-]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'aria' || k === 'data') {
      for (const [ak, av] of Object.entries(v)) {
        if (av === undefined || av === null) continue;
        if (k === 'aria') el.setAttribute('aria-' + ak, String(av));
        else el.dataset[ak] = String(av);
      }
    } else if (k === 'class') {
      for (const c of String(v).split(/\s+/)) if (c) el.classList.add(c);
    } else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') {
      el[k] = v;
    } else if (k === 'href' || k === 'src') {
      el.setAttribute(k, safeUrl(String(v)));
    } else if (k === 'style') {
      throw new Error('no style attributes: the CSP refuses them');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// Links and images point only at this server: a relative path, or '#...'.
export function safeUrl(u) {
  if (/^(\/(?!\/)|#|\?)/.test(u)) return u;
  return '#';
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// Code points of a string: what moat's offsets count.
export function codePoints(s) {
  return Array.from(s || '');
}

// A contrasting text colour (black or white) for a background #rrggbb.
export function inkFor(hex) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || '');
  if (!m) return '#000';
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16) / 255);
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return L > 0.4 ? '#000' : '#fff';
}
