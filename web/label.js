// label.js - the annotator's view: the task list (paged and filtered by
// the server), the task in its kind's editor, its suggestions and the
// guidelines.  What the editor shows is what the server holds: each change
// is saved as a draft a moment later (or re-saved as submitted when it was
// submitted), Enter submits and goes on to the next task, u undoes the last
// change and saves that.
import { api, path, query } from './api.js';
import { h, replace } from './dom.js';
import { projectLabels, describeValue, emptyValue, valueComplete, clone, chip, shortName } from './labels.js';
import { renderMarkdown } from './markdown.js';
import { makeEditor } from './editors.js';

const SAVE_DELAY_MS = 300;
const PAGE = 50;

export function labelKeys(kind) {
  const keys = [
    ['1 \u2026 9 / the labels\u2019 keys', kind === 'boxes' ? 'the label of new boxes, and of the picked box'
      : kind === 'spans' ? 'label the selected words (or change the picked span)'
        : kind === 'preference' ? 'prefer response 1 or 2' : 'pick a label'],
    ['Enter', 'submit and go to the next task'],
    ['j', 'next task in the list'],
    ['k', 'previous task in the list'],
    ['a', 'accept the suggestion (submits it)'],
    ['e', 'edit the suggestion (change it, then submit)'],
    ['r', 'reject the suggestion'],
    ['u', 'undo the last change (saved again)'],
  ];
  if (kind === 'spans') {
    keys.push(['\u2190 / \u2192', 'move the word cursor'],
      ['Shift+\u2190 / Shift+\u2192', 'select words: the first press selects the cursor\u2019s word, then the end moves'],
      ['Ctrl+Shift+\u2190 / Ctrl+Shift+\u2192', 'move the other end of the selection'],
      ['\u2191 / \u2193', 'pick the previous / next span'],
      ['Delete', 'remove the picked span'],
      ['Esc', 'drop the selection']);
  } else if (kind === 'boxes') {
    keys.push(['Tab', 'reach each box (picks it)'],
      ['\u2190 \u2191 \u2192 \u2193', 'move the picked box one pixel (Shift: 10)'],
      ['Alt+arrows', 'resize the picked box'],
      ['Delete', 'remove the picked box'],
      ['Insert', 'add a box where you look'],
      ['+ / - / 0', 'zoom in, out, 100 %']);
  } else if (kind === 'qa') {
    keys.push(['Ctrl+Enter', 'submit from the answer box']);
  }
  return keys;
}

function fmtScore(s) {
  return typeof s === 'number' ? s.toFixed(2) : 'no score';
}

// The view stays mounted while the route moves from task to task of one
// project, so the list keeps its pages and filter.
let active = null;

export async function labelView(main, app, project, taskId) {
  if (active && active.project === project && main.contains(active.root) && taskId) {
    active.register();
    await active.load(taskId);
    return;
  }
  active = null;
  const proj = await api('GET', path('projects', project));
  const schema = proj.schema || {};
  const kind = schema.kind || proj.kind;
  const labels = projectLabels(schema);
  const byKey = new Map(labels.filter((l) => l.key).map((l) => [l.key, l]));
  document.title = `moat: ${project}`;

  if (!taskId) {
    const nx = await api('GET', path('projects', project, 'next'));
    if (nx.task) {
      app.go(`#/p/${encodeURIComponent(project)}/label/${nx.task.id}`, true);
      return;
    }
  }

  // --- the task list -----------------------------------------------------------
  const list = { filter: 'all', tasks: [], next: null, total: 0 };
  const filterSel = h('select#task-filter', { onchange: () => loadList(true) },
    [['all', 'all tasks'], ['todo', 'to do'], ['done', 'done'], ['mine', 'mine'], ['review', 'waiting for review']]
      .map(([v, t]) => h('option', { value: v }, t)));
  const ol = h('ol', { aria: { label: 'Tasks' } });
  const more = h('button', { type: 'button', onclick: () => loadList(false) }, 'More tasks');
  const totalEl = h('p.small.muted');
  const listPanel = h('nav.tasklist.panel', { aria: { label: 'Task list' } },
    h('div.field', h('label', { for: 'task-filter' }, 'Show'), filterSel), totalEl, ol, more);

  async function loadList(reset) {
    if (reset) {
      list.tasks = [];
      list.next = null;
      list.filter = filterSel.value;
    }
    const page = await api('GET', path('projects', project, 'tasks') +
      query({ filter: list.filter, after: reset ? null : list.next, limit: PAGE }));
    list.tasks.push(...page.tasks);
    list.next = page.next;
    list.total = page.total;
    drawList();
  }
  function drawList() {
    replace(ol, list.tasks.map((t) => h('li', h('button', {
      type: 'button', aria: { current: current && t.id === current.id ? 'true' : null },
      onclick: () => openTask(t.id) },
    h('span', { title: t.name || undefined }, `#${t.id} `, shortName(t.name)), ' ',
    t.open ? (t.n_done ? h('span.tag', `${t.n_done} done`) : null) : h('span.tag.done', 'done'),
    h('span.snip', t.snippet || '')))));
    totalEl.textContent = `${list.tasks.length} of ${list.total} shown`;
    more.hidden = !list.next;
  }

  // --- the task ----------------------------------------------------------------
  const head = h('div.taskhead');
  const note = h('p.prefill-note', { aria: { live: 'polite' } });
  const editorBox = h('div');
  const saveState = h('span.savestate', { aria: { live: 'polite' } });
  const btn = (text, key, fn, extra) => h('button', { type: 'button', onclick: fn, aria: { keyshortcuts: key }, ...(extra || {}) },
    text, ' ', h('kbd', key));
  const submitBtn = btn('Submit', 'Enter', () => submit(), { class: 'primary' });
  const undoBtn = btn('Undo', 'u', () => undo());
  const actions = h('div.actions', btn('Previous', 'k', () => step(-1)), btn('Next', 'j', () => step(1)),
    undoBtn, submitBtn, saveState);
  const taskPanel = h('section.panel', { aria: { label: 'Task' } }, head, note, editorBox, actions);
  const suggPanel = h('section.panel', { aria: { labelledby: 'sugg-title' } }, h('h2#sugg-title', 'Suggestions'));
  const guide = h('section.panel', { aria: { labelledby: 'guide-title' } }, h('h2#guide-title', 'Guidelines'),
    h('div.guidelines', schema.guidelines ? renderMarkdown(schema.guidelines) : h('p.muted', 'This project has no guidelines.')),
    labels.length ? h('ul.value-list', labels.map((l) => h('li', chip(l), l.description ? ` \u2014 ${l.description}` : ''))) : null);
  const root = h('div.labelview');
  replace(main, root);
  replace(root, h('h1', `${project}: label`, h('span.muted.small', ` (${kind}${schema.multi ? ', several labels' : ''})`)),
    h('div.work', listPanel, taskPanel, h('aside.side', { aria: { label: 'Suggestions and guidelines' } }, suggPanel, guide)));

  let current = null;   // the task as the server gave it
  let mine = null;      // my annotation of it
  let value = null;     // what the editor shows
  let status = null;    // 'draft' | 'submitted' | 'accepted' | 'rejected' | null: what the server holds
  let suggestion = null; // the suggestion the value comes from (id), or null
  let prefilled = false; // the value is a suggestion nobody has saved
  let history = [];
  let editor = null;
  let saveTimer = null;
  let saving = Promise.resolve();
  let readOnly = false;
  let target = null;    // the task being opened (j/k chain from it, not from the one still shown)

  function openSuggestions() {
    return (current.suggestions || []).filter((s) => !s.decision);
  }

  function drawSuggestions() {
    const sugg = current.suggestions || [];
    replace(suggPanel, h('h2#sugg-title', 'Suggestions'),
      sugg.length ? sugg.map((s) => h('div.suggestion', { class: s.decision ? 'decided' : '' },
        h('p.model', s.model), h('p.small', `score ${fmtScore(s.score)}`,
          s.decision ? h('span.tag', { class: 'sugg' }, ` ${s.decision}`) : null),
        describeValue(kind, s.value, labels, current),
        !s.decision && !readOnly ? h('div.row',
          btn('Accept', 'a', () => accept(s)), btn('Edit', 'e', () => edit(s)), btn('Reject', 'r', () => reject(s))) : null))
        : h('p.muted', 'No suggestion for this task.'));
  }

  function drawHead() {
    const st = status ? h('span.tag', { class: status === 'submitted' || status === 'accepted' ? 'done' : 'draft' }, status)
      : h('span.tag', 'not saved');
    const full = current.name || (current.meta && current.meta.path) || '';
    replace(head, h('h2', `Task #${current.id}`), full ? h('span.muted', { title: full }, shortName(full)) : null, st,
      full.includes('/') ? h('span.small.muted.where', full) : null);
    if (prefilled && suggestion) {
      const s = (current.suggestions || []).find((x) => x.id === suggestion);
      note.textContent = `Pre-filled from the suggestion of ${s ? s.model : 'a model'} (${fmtScore(s && s.score)}): ` +
        'accept it with a, change it to edit it, or reject it with r.';
      editorBox.classList.add('prefill');
    } else {
      note.textContent = readOnly ? `A reviewer has ${status} your annotation: it can no longer be changed.` : '';
      editorBox.classList.remove('prefill');
    }
    submitBtn.disabled = readOnly;
    undoBtn.disabled = readOnly || !history.length;
  }

  async function openTask(id, replaceHash) {
    target = id;
    await flush();
    const hash = `#/p/${encodeURIComponent(project)}/label/${id}`;
    if (location.hash !== hash) {
      // the hashchange route() will call back here through labelView; keep it light
      app.go(hash, replaceHash);
      return;
    }
  }

  async function load(id) {
    target = id;
    current = await api('GET', path('projects', project, 'tasks', id));
    mine = (current.annotations || []).find((a) => a.annotator === app.session.name && a.corrects == null) || null;
    history = [];
    readOnly = !!mine && (mine.status === 'accepted' || mine.status === 'rejected');
    const open = openSuggestions();
    if (mine) {
      value = clone(mine.value);
      status = mine.status;
      suggestion = mine.suggestion_id || null;
      prefilled = false;
    } else if (open.length) {
      value = clone(open[0].value);
      status = null;
      suggestion = open[0].id;
      prefilled = true;
    } else {
      value = emptyValue(kind);
      status = null;
      suggestion = null;
      prefilled = false;
    }
    editor = makeEditor(kind, {
      task: current, schema, labels, value, readOnly, onChange,
      imageUrl: path('projects', project, 'tasks', current.id, 'image'),
    });
    if (prefilled) editor.setValue(value, true);
    replace(editorBox, editor.el);
    drawHead();
    drawSuggestions();
    drawList();
    saveState.textContent = status ? `Saved (${status}).` : 'Not saved yet.';
    app.status(`Task #${current.id}. Press ? for the keys.`);
  }

  function onChange(v) {
    history.push(value);
    value = v;
    if (prefilled) prefilled = false;  // an edit of the suggestion: it stays linked
    drawHead();
    schedule();
  }

  function schedule() {
    clearTimeout(saveTimer);
    saveState.textContent = 'Changed\u2026';
    saveTimer = setTimeout(() => {
      saveTimer = null;
      save();
    }, SAVE_DELAY_MS);
  }

  // Saves what the editor shows, with the status the server holds (a draft
  // stays a draft, a submitted annotation is re-submitted).
  function save(wanted) {
    const st = wanted || (status === 'submitted' ? 'submitted' : 'draft');
    const task = current;
    const v = clone(value);
    saving = saving.then(async () => {
      if (!valueComplete(kind, schema.multi, v)) {
        saveState.textContent = kind === 'classification' ? 'Not saved: pick a label.' : 'Not saved: incomplete.';
        return false;
      }
      const body = { value: v, status: st };
      if (suggestion) body.suggestion = suggestion;
      try {
        const r = await api('PUT', path('projects', project, 'tasks', task.id, 'annotation'), body);
        if (task === current) {
          status = r.status || st;
          prefilled = false;
          saveState.textContent = `Saved (${status}).`;
          drawHead();
        }
        return true;
      } catch (err) {
        saveState.textContent = 'Not saved.';
        app.error(err);
        return false;
      }
    });
    return saving;
  }

  async function flush() {
    if (saveTimer) {
      clearTimeout(saveTimer);
      saveTimer = null;
      await save();
    }
    await saving;
  }

  async function submit() {
    if (readOnly || !current) return;
    const from = current;
    const here = location.hash;
    clearTimeout(saveTimer);
    saveTimer = null;
    await saving;
    if (!valueComplete(kind, schema.multi, value)) {
      app.status(kind === 'classification' ? 'Pick a label first.' : 'This answer is not complete.', true);
      return;
    }
    if (!(await save('submitted'))) return;
    app.status(`Task #${from.id} submitted.`);
    await goNext(from, here);
  }

  // Opens the next task for this user after task `from`, unless the user
  // went elsewhere since (here: the address when they asked).
  async function goNext(from, here) {
    if (location.hash !== here || current !== from) return;
    const nx = await api('GET', path('projects', project, 'next') + query({ after: from.id }));
    let t = nx.task;
    if (!t) t = (await api('GET', path('projects', project, 'next'))).task;
    if (location.hash !== here || current !== from) return;  // the user went elsewhere meanwhile
    if (t && t.id !== from.id) openTask(t.id);
    else {
      loadList(true).catch(app.error);
      app.status('No task is left for you in this project. Thank you!');
    }
  }

  async function step(d) {
    if (!current) return;
    const at = target || current.id;
    await flush();
    let i = list.tasks.findIndex((t) => t.id === at);
    if (i < 0) {
      // not in the loaded list: the nearest by id
      i = d > 0 ? list.tasks.findIndex((t) => t.id > at) - 1 : list.tasks.findIndex((t) => t.id >= at);
      if (d > 0 && i < -1) i = list.tasks.length - 1;
    }
    let j = i + d;
    if (j >= list.tasks.length && list.next) {
      await loadList(false);
    }
    if (j < 0 || j >= list.tasks.length) {
      app.status(d > 0 ? 'This is the last task of the list.' : 'This is the first task of the list.');
      return;
    }
    openTask(list.tasks[j].id);
  }

  async function accept(s) {
    if (readOnly) return;
    const from = current;
    const here = location.hash;
    clearTimeout(saveTimer);
    saveTimer = null;
    await saving;
    history.push(value);
    value = clone(s.value);
    suggestion = s.id;
    editor.setValue(value, false);
    prefilled = false;
    if (!(await save('submitted'))) return;
    app.status(`Suggestion of ${s.model} accepted for task #${from.id}.`);
    await goNext(from, here);
  }

  function edit(s) {
    if (readOnly) return;
    if (suggestion !== s.id || prefilled) {
      if (!prefilled) history.push(value);
      value = clone(s.value);
      suggestion = s.id;
      prefilled = true;
      editor.setValue(value, true);
      drawHead();
    }
    note.textContent = `Editing the suggestion of ${s.model}: change it, then submit with Enter.`;
    editor.focus();
  }

  async function reject(s) {
    if (readOnly) return;
    try {
      await flush();
      await api('POST', path('projects', project, 'suggestions', s.id, 'reject'), {});
      s.decision = 'rejected';
      if (suggestion === s.id) {
        suggestion = null;
        if (prefilled) {
          prefilled = false;
          value = emptyValue(kind);
          editor.setValue(value, false);
        }
      }
      app.status(`Suggestion of ${s.model} rejected.`);
      drawHead();
      drawSuggestions();
    } catch (err) {
      app.error(err);
    }
  }

  function undo() {
    if (readOnly) return;
    if (!history.length) {
      app.status('Nothing to undo on this task.');
      return;
    }
    value = history.pop();
    editor.setValue(value, false);
    drawHead();
    if (valueComplete(kind, schema.multi, value)) {
      schedule();
      app.status('Undone.');
    } else {
      saveState.textContent = 'Undone on the page; the server keeps the last saved value until you label again.';
    }
  }

  function register() {
    app.keys = labelKeys(kind);
    app.leave = flush;
    app.onKey = onKey;
  }
  function onKey(ev) {
    if (!current) return false;
    const mod = ev.ctrlKey || ev.metaKey || ev.altKey;
    const onButton = ev.target && ev.target.matches && ev.target.matches('button, a, select, summary');
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      submit();
      return true;
    }
    if (!mod) {
      const k = ev.key;
      if (k === 'j') return step(1), true;
      if (k === 'k') return step(-1), true;
      if (k === 'u') return undo(), true;
      if (k === 'a' || k === 'r' || (k === 'e' && !byKey.has('e'))) {
        const s = suggestion && (current.suggestions || []).find((x) => x.id === suggestion && !x.decision) || openSuggestions()[0];
        if (!s) {
          app.status('This task has no open suggestion.');
          return true;
        }
        if (k === 'a') accept(s);
        else if (k === 'r') reject(s);
        else edit(s);
        return true;
      }
      if (byKey.has(k) && !readOnly) return editor.applyLabel(byKey.get(k));
      if (k === 'Enter' && !onButton) {
        submit();
        return true;
      }
    }
    return editor ? editor.key(ev) : false;
  }

  register();
  await loadList(true);
  if (taskId) {
    active = { project, root, register, load };
    await load(taskId);
  } else {
    replace(taskPanel, h('h2', 'Nothing left to do'), h('p', 'Every task of this project is done or held by others. ' +
      'Pick one from the list to see it.'));
    app.status('No task is left for you in this project.');
  }
}
