// editors.js - one editor per task kind, all with the same face:
//   const ed = makeEditor(kind, {task, schema, labels, value, onChange, readOnly})
//   ed.el                 the editor's element
//   ed.setValue(v, sugg)  shows a value (sugg: it is a suggestion, not yet anyone's)
//   ed.applyLabel(l)      a label's key was pressed: true when it did something
//   ed.key(ev)            any other key (arrows, Delete...): true when handled
//   ed.focus()
// An editor never saves: it calls onChange(newValue) and the label view
// decides (label.js).  Document text goes in as text nodes only.
import { h } from './dom.js';
import { chip, clone } from './labels.js';
import { makeSpansEditor } from './spans.js';
import { makeBoxesEditor } from './boxes.js';

export function makeEditor(kind, ctx) {
  switch (kind) {
    case 'classification': return makeClassEditor(ctx);
    case 'spans': return makeSpansEditor(ctx);
    case 'boxes': return makeBoxesEditor(ctx);
    case 'qa': return makeQaEditor(ctx);
    case 'preference': return makePrefEditor(ctx);
    default: return makeUnknown(kind);
  }
}

function docText(task) {
  return h('div.doctext', { tabindex: '0', role: 'region', aria: { label: 'The task\u2019s text' } },
    task.text || '');
}

function makeClassEditor(ctx) {
  const multi = !!(ctx.schema && ctx.schema.multi);
  let value = clone(ctx.value) || { labels: [] };
  let suggested = false;
  const buttons = ctx.labels.map((l) => {
    const b = h('button.labelbtn', {
      type: 'button', disabled: ctx.readOnly,
      title: l.description || undefined,
      aria: { pressed: 'false', label: `${l.name}${l.key ? ', key ' + l.key : ''}` },
      onclick: () => toggle(l),
    }, chip(l));
    b.dataset.label = l.name;
    return b;
  });
  const group = h('div.labels', { role: 'group', aria: { label: multi ? 'Labels (several allowed)' : 'Label (one)' } }, buttons);
  const el = h('div.editor.classify', docText(ctx.task), group);
  function paint() {
    const on = new Set(value.labels || []);
    for (const b of buttons) {
      b.setAttribute('aria-pressed', on.has(b.dataset.label) ? 'true' : 'false');
      b.classList.toggle('suggested', suggested && on.has(b.dataset.label));
    }
  }
  function toggle(l) {
    if (ctx.readOnly) return false;
    const cur = new Set(value.labels || []);
    let next;
    if (multi) {
      if (cur.has(l.name)) cur.delete(l.name);
      else cur.add(l.name);
      next = ctx.labels.map((x) => x.name).filter((n) => cur.has(n));
    } else {
      next = [l.name];
    }
    value = { ...value, labels: next };
    suggested = false;
    paint();
    ctx.onChange(clone(value));
    return true;
  }
  paint();
  return {
    el,
    setValue(v, sugg) { value = clone(v) || { labels: [] }; suggested = !!sugg; paint(); },
    applyLabel: toggle,
    key() { return false; },
    focus() { (buttons[0] || el).focus(); },
  };
}

function makeQaEditor(ctx) {
  let value = clone(ctx.value) || { text: '' };
  const q = ctx.task.meta && typeof ctx.task.meta.question === 'string' ? ctx.task.meta.question : '';
  const id = 'answer-' + ctx.task.id;
  const ta = h('textarea.answer', { id, disabled: ctx.readOnly, spellcheck: 'true',
    oninput: () => { value = { ...value, text: ta.value }; ta.classList.remove('prefill'); ctx.onChange(clone(value)); } });
  ta.value = value.text || '';
  const el = h('div.editor.qa',
    q ? h('p', h('strong', 'Question: '), q) : null,
    docText(ctx.task),
    h('div.field', h('label', { for: id }, 'Answer ', h('span.muted.small', '(Ctrl+Enter submits, Esc leaves the box)')), ta));
  return {
    el,
    setValue(v, sugg) { value = clone(v) || { text: '' }; ta.value = value.text || ''; ta.classList.toggle('prefill', !!sugg); },
    applyLabel() { return false; },
    key() { return false; },
    focus() { ta.focus(); },
  };
}

function makePrefEditor(ctx) {
  let value = clone(ctx.value) || { preference: null };
  let suggested = false;
  const meta = ctx.task.meta || {};
  const col = (n, field) => {
    const text = typeof meta[field] === 'string' ? meta[field] : null;
    const b = h('button.labelbtn', { type: 'button', disabled: ctx.readOnly,
      aria: { pressed: 'false', label: `Prefer response ${n}, key ${n}` },
      onclick: () => pick(n) }, h('kbd', String(n)), ` Prefer response ${n}`);
    const box = h('div.prefcol', h('h3', `Response ${n}`), b,
      h('div.resp', { tabindex: '0', role: 'region', aria: { label: `Response ${n}` } },
        text !== null ? text : `(this task has no ${field})`));
    return { box, b };
  };
  const c1 = col(1, 'response_a');
  const c2 = col(2, 'response_b');
  const q = typeof meta.question === 'string' ? meta.question : '';
  const el = h('div.editor.preference',
    q ? h('p', h('strong', 'Prompt: '), q) : null,
    ctx.task.text ? docText(ctx.task) : null,
    h('div.pref', c1.box, c2.box));
  function paint() {
    for (const [n, c] of [[1, c1], [2, c2]]) {
      c.b.setAttribute('aria-pressed', value.preference === n ? 'true' : 'false');
      c.box.classList.toggle('chosen', value.preference === n);
      c.b.classList.toggle('suggested', suggested && value.preference === n);
    }
  }
  function pick(n) {
    if (ctx.readOnly) return false;
    value = { ...value, preference: n };
    suggested = false;
    paint();
    ctx.onChange(clone(value));
    return true;
  }
  paint();
  return {
    el,
    setValue(v, sugg) { value = clone(v) || { preference: null }; suggested = !!sugg; paint(); },
    applyLabel() { return false; },
    key(ev) {
      if (ev.key === '1' || ev.key === '2') return pick(Number(ev.key));
      return false;
    },
    focus() { c1.b.focus(); },
  };
}

function makeUnknown(kind) {
  const el = h('p.error-text', `This page cannot show tasks of kind '${kind}'.`);
  return { el, setValue() {}, applyLabel() { return false; }, key() { return false; }, focus() {} };
}

