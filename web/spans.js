// spans.js - the span editor.  Offsets are code points of the task's text,
// end exclusive, as moat stores them.  The text is cut into words
// (letters, digits, marks, _ and ' runs; every other visible character is a
// word of its own), and every selection snaps to whole words:
//  - mouse: select, and the selection grows to the words it touches;
//  - keys:  <- -> move a word cursor; Shift+<- -> select from it (the first
//           press selects the cursor's word), moving the cursor's end a word
//           at a time; Ctrl+Shift+<- -> move the other end;
//           Up/Down pick the previous/next span (its words become the selection);
//           a label key labels the selection (or changes the picked span);
//           Delete removes the picked span; Esc drops the selection.
// Overlapping spans are drawn as stacked underlines, one band per span in
// its label's colour, and each span starts with a badge naming its key and
// label, so no span relies on colour alone.
import { h, replace, codePoints } from './dom.js';
import { labelByName, badge, clone } from './labels.js';

const WORD = /[\p{L}\p{N}\p{M}_'\u2019]/u;

function tokenize(cps) {
  const toks = [];
  let i = 0;
  while (i < cps.length) {
    const c = cps[i];
    if (/\s/u.test(c)) {
      i++;
      continue;
    }
    if (WORD.test(c)) {
      const s = i;
      while (i < cps.length && WORD.test(cps[i])) i++;
      toks.push([s, i]);
    } else {
      toks.push([i, i + 1]);
      i++;
    }
  }
  return toks;
}

// stack level of each span: the lowest band free of every span it overlaps
function levels(spans) {
  const order = spans.map((s, i) => i).sort((a, b) => spans[a][0] - spans[b][0] || spans[b][1] - spans[a][1]);
  const lv = new Array(spans.length).fill(0);
  const placed = [];
  for (const i of order) {
    const used = new Set(placed.filter((j) => spans[j][0] < spans[i][1] && spans[i][0] < spans[j][1]).map((j) => lv[j]));
    let l = 0;
    while (used.has(l)) l++;
    lv[i] = l;
    placed.push(i);
  }
  return lv;
}

let instances = 0;

export function makeSpansEditor(ctx) {
  const text = ctx.task.text || '';
  const cps = codePoints(text);
  const n = cps.length;
  const toks = tokenize(cps);
  let value = clone(ctx.value) || { spans: [] };
  let suggested = false;
  let cursor = null;   // token index
  let anchor = null;   // token index: the selection is anchor..cursor; null: none
  let picked = -1;     // index into value.spans

  const help = 'Select words with the mouse, or move with the arrow keys and select with Shift+arrows; ' +
    'Ctrl+Shift+arrows move the start; a label key labels the selection; Up and Down pick a span; Delete removes it.';
  const helpId = `spans-help-${++instances}`;
  const textEl = h('div.spantext', { tabindex: '0', role: 'region',
    aria: { label: ctx.readOnly ? 'Text with its spans' : 'Text to label with spans', describedby: helpId } });
  const live = h('p.small.muted', { id: helpId, aria: { live: 'polite' } }, ctx.readOnly ? '' : help);
  const list = h('ul.spanlist', { aria: { label: 'Spans' } });
  const el = h('div.editor.spans', textEl, live, h('h3', 'Spans'), list);

  textEl.addEventListener('mouseup', () => setTimeout(fromMouse, 0));
  textEl.addEventListener('click', (ev) => {
    const b = ev.target.closest && ev.target.closest('.badge');
    if (b && b.dataset.span !== undefined) pick(Number(b.dataset.span));
  });

  function sel() {
    if (anchor === null || cursor === null) return null;
    const a = Math.min(anchor, cursor);
    const b = Math.max(anchor, cursor);
    return [toks[a][0], toks[b][1]];
  }

  function render() {
    const spans = value.spans || [];
    const lv = levels(spans);
    const bounds = new Set([0, n]);
    for (const [s, e] of spans) {
      bounds.add(s);
      bounds.add(e);
    }
    const sr = sel();
    if (sr) {
      bounds.add(sr[0]);
      bounds.add(sr[1]);
    }
    if (cursor !== null && toks[cursor]) {
      bounds.add(toks[cursor][0]);
      bounds.add(toks[cursor][1]);
    }
    const pts = [...bounds].filter((x) => x >= 0 && x <= n).sort((a, b) => a - b);
    const starts = new Map();
    spans.forEach(([s], i) => {
      if (!starts.has(s)) starts.set(s, []);
      starts.get(s).push(i);
    });
    const frag = document.createDocumentFragment();
    for (let k = 0; k + 1 < pts.length || (k === 0 && n === 0); k++) {
      const a = pts[k];
      const b = pts[k + 1] === undefined ? a : pts[k + 1];
      for (const i of (starts.get(a) || []).sort((x, y) => lv[x] - lv[y])) {
        const l = labelByName(ctx.labels, spans[i][2]);
        const bd = badge(l);
        bd.dataset.span = String(i);
        bd.dataset.at = String(a);
        bd.title = `span ${i + 1}: ${l.name}`;
        if (i === picked) bd.classList.add('picked');
        if (suggested) bd.classList.add('suggested');
        frag.appendChild(bd);
      }
      if (b === a) continue;
      const seg = h('span.seg', cps.slice(a, b).join(''));
      seg.dataset.start = String(a);
      const cover = spans.map((sp, i) => i).filter((i) => spans[i][0] <= a && spans[i][1] >= b)
        .sort((x, y) => lv[x] - lv[y]);
      if (cover.length) {
        seg.classList.add('covered');
        const top = Math.max(...cover.map((i) => lv[i]));
        seg.style.boxShadow = cover.map((i) =>
          `inset 0 -${3 * (lv[i] + 1)}px 0 0 ${labelByName(ctx.labels, spans[i][2]).color}`).join(', ');
        seg.style.paddingBottom = `${3 * (top + 1)}px`;
        if (suggested) seg.style.borderBottom = '1px dashed #6b3fa0';
        seg.title = cover.map((i) => spans[i][2]).join(' + ');
        if (cover.includes(picked)) seg.classList.add('picked');
      }
      if (sr && a >= sr[0] && b <= sr[1]) seg.classList.add('sel');
      if (cursor !== null && toks[cursor] && a >= toks[cursor][0] && b <= toks[cursor][1]) seg.classList.add('cursor');
      frag.appendChild(seg);
    }
    replace(textEl, frag);
    replace(list, spans.length ? spans.map(([s, e, name], i) => {
      const l = labelByName(ctx.labels, name);
      const quote = cps.slice(s, e).join('');
      return h('li', { class: i === picked ? 'picked' : '' }, badge(l),
        h('q.quote', quote), h('span.muted.small', `${s}\u2013${e}`),
        h('button', { type: 'button', aria: { label: `Pick span ${i + 1}, ${name}: ${quote}` },
          onclick: () => { pick(i); textEl.focus(); } }, 'Pick'),
        ctx.readOnly ? null : h('button', { type: 'button', aria: { label: `Remove span ${i + 1}, ${name}: ${quote}` },
          onclick: () => remove(i) }, 'Remove'));
    }) : h('li.muted', 'No span yet.'));
  }

  function say(msg) {
    live.textContent = msg;
  }

  function announce() {
    const sr = sel();
    if (sr) say(`Selected \u201c${cps.slice(sr[0], sr[1]).join('')}\u201d (${sr[0]}\u2013${sr[1]}). Press a label key.`);
    else if (picked >= 0) say(`Picked span ${picked + 1}: ${value.spans[picked][2]}.`);
  }

  // a DOM point -> a code point offset
  function offsetOf(node, off) {
    if (!node || !textEl.contains(node)) return null;
    if (node.nodeType === Node.TEXT_NODE) {
      const p = node.parentElement;
      if (p.classList.contains('seg')) return Number(p.dataset.start) + codePoints(node.data.slice(0, off)).length;
      if (p.closest('.badge')) return Number(p.closest('.badge').dataset.at);
      return null;
    }
    if (node.classList && node.classList.contains('seg')) {
      return Number(node.dataset.start) + (off > 0 ? codePoints(node.textContent).length : 0);
    }
    const kids = node.childNodes;
    for (let i = off; i < kids.length; i++) {
      const seg = kids[i].classList && kids[i].classList.contains('seg') ? kids[i]
        : kids[i].querySelector && kids[i].querySelector('.seg');
      if (seg) return Number(seg.dataset.start);
      if (kids[i].classList && kids[i].classList.contains('badge')) return Number(kids[i].dataset.at);
    }
    return n;
  }

  function fromMouse() {
    const s = window.getSelection();
    if (!s || s.rangeCount === 0) return;
    const r = s.getRangeAt(0);
    if (!textEl.contains(r.commonAncestorContainer)) return;
    if (r.collapsed) {
      // a click: pick the shortest span under it
      const at = offsetOf(r.startContainer, r.startOffset);
      if (at === null) return;
      const spans = value.spans || [];
      const under = spans.map((sp, i) => i).filter((i) => spans[i][0] <= at && at < spans[i][1])
        .sort((x, y) => (spans[x][1] - spans[x][0]) - (spans[y][1] - spans[y][0]));
      const t = toks.findIndex((tk) => tk[1] > at);
      if (under.length) pick(under[0]);
      else if (t >= 0) {
        cursor = t;
        anchor = null;
        picked = -1;
        render();
      }
      return;
    }
    let a = offsetOf(r.startContainer, r.startOffset);
    let b = offsetOf(r.endContainer, r.endOffset);
    if (a === null || b === null) return;
    if (a > b) [a, b] = [b, a];
    const first = toks.findIndex((tk) => tk[1] > a);
    let last = -1;
    for (let i = toks.length - 1; i >= 0; i--) {
      if (toks[i][0] < b) {
        last = i;
        break;
      }
    }
    s.removeAllRanges();
    if (first < 0 || last < first) return;
    anchor = first;
    cursor = last;
    picked = -1;
    render();
    announce();
    textEl.focus({ preventScroll: true });
  }

  function pick(i) {
    const spans = value.spans || [];
    if (i < 0 || i >= spans.length) return;
    picked = i;
    const [s, e] = spans[i];
    const a = toks.findIndex((tk) => tk[1] > s);
    let b = a;
    while (b + 1 < toks.length && toks[b + 1][0] < e) b++;
    anchor = a;
    cursor = b;
    render();
    announce();
  }

  function changed() {
    suggested = false;
    render();
    ctx.onChange(clone(value));
  }

  function remove(i) {
    if (ctx.readOnly) return false;
    value.spans.splice(i, 1);
    picked = -1;
    anchor = null;
    say('Span removed.');
    changed();
    return true;
  }

  function applyLabel(l) {
    if (ctx.readOnly) return false;
    const spans = value.spans || (value.spans = []);
    let range = sel();
    if (!range && cursor !== null && toks[cursor]) range = [toks[cursor][0], toks[cursor][1]];
    if (picked >= 0) {
      const [s, e] = range || spans[picked];
      spans[picked] = [s, e, l.name];
    } else if (range) {
      const same = spans.findIndex((sp) => sp[0] === range[0] && sp[1] === range[1] && sp[2] === l.name);
      if (same >= 0) spans.splice(same, 1);
      else spans.push([range[0], range[1], l.name]);
    } else {
      say('Select some words first.');
      return true;
    }
    spans.sort((x, y) => x[0] - y[0] || x[1] - y[1] || String(x[2]).localeCompare(String(y[2])));
    picked = -1;
    anchor = null;
    say(`Labelled ${l.name}.`);
    changed();
    return true;
  }

  function key(ev) {
    if (!toks.length) return false;
    const last = toks.length - 1;
    const k = ev.key;
    if (k === 'ArrowRight' || k === 'ArrowLeft') {
      const d = k === 'ArrowRight' ? 1 : -1;
      if (ev.shiftKey && (ev.ctrlKey || ev.metaKey)) {
        if (cursor === null) cursor = 0;
        anchor = Math.max(0, Math.min(last, (anchor === null ? cursor : anchor) + d));
      } else if (ev.shiftKey) {
        if (cursor === null) cursor = 0;
        if (anchor === null) anchor = cursor;
        else cursor = Math.max(0, Math.min(last, cursor + d));
      } else {
        cursor = cursor === null ? (d > 0 ? 0 : last) : Math.max(0, Math.min(last, cursor + d));
        anchor = null;
        picked = -1;
      }
      render();
      announce();
      const c = textEl.querySelector('.seg.cursor, .seg.sel');
      if (c && c.scrollIntoView) c.scrollIntoView({ block: 'nearest' });
      return true;
    }
    if (k === 'ArrowDown' || k === 'ArrowUp') {
      const spans = value.spans || [];
      if (!spans.length) return false;
      pick(picked < 0 ? (k === 'ArrowDown' ? 0 : spans.length - 1)
        : (picked + (k === 'ArrowDown' ? 1 : -1) + spans.length) % spans.length);
      return true;
    }
    if ((k === 'Delete' || k === 'Backspace') && picked >= 0) return remove(picked);
    if (k === 'Escape' && (anchor !== null || picked >= 0)) {
      anchor = null;
      picked = -1;
      render();
      say(help);
      return true;
    }
    return false;
  }

  render();
  return {
    el,
    setValue(v, sugg) {
      value = clone(v) || { spans: [] };
      if (!Array.isArray(value.spans)) value.spans = [];
      suggested = !!sugg;
      picked = -1;
      anchor = null;
      render();
    },
    applyLabel,
    key,
    focus() { textEl.focus(); },
  };
}
