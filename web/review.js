// review.js - the reviewer's view: the queue of tasks whose submitted
// annotations wait for a decision (paged by the server), and one task with
// every annotation side by side, who made it, and accept / reject / correct.
// A correction opens the task's editor on that annotation's value; saving
// it sends {decision: "correct", value}.
import { api, path, query } from './api.js';
import { h, replace } from './dom.js';
import { projectLabels, describeValue, valueComplete, clone, shortName } from './labels.js';
import { makeEditor } from './editors.js';

const PAGE = 20;

export async function reviewView(main, app, project, taskId) {
  const proj = await api('GET', path('projects', project));
  const schema = proj.schema || {};
  const kind = schema.kind || proj.kind;
  const labels = projectLabels(schema);
  document.title = `moat: review ${project}`;

  const queue = { tasks: [], next: null };
  const ol = h('ol', { aria: { label: 'Tasks waiting for review' } });
  const more = h('button', { type: 'button', onclick: () => loadQueue(false) }, 'More tasks');
  const countEl = h('p.small.muted');
  const detail = h('section.panel', { aria: { label: 'Annotations of the task' } });
  replace(main, h('h1', `${project}: review`),
    h('div.review', h('nav.tasklist.panel', { aria: { label: 'Review queue' } }, h('h2', 'Waiting'), countEl, ol, more), detail));

  let current = null;

  async function loadQueue(reset) {
    if (reset) {
      queue.tasks = [];
      queue.next = null;
    }
    const page = await api('GET', path('projects', project, 'review') + query({ after: reset ? null : queue.next, limit: PAGE }));
    queue.tasks.push(...page.tasks);
    queue.next = page.next;
    drawQueue();
  }
  function drawQueue() {
    replace(ol, queue.tasks.map((t) => h('li', h('button', {
      type: 'button', aria: { current: current && current.id === t.id ? 'true' : null },
      onclick: () => app.go(`#/p/${encodeURIComponent(project)}/review/${t.id}`) },
    h('span', { title: t.name || undefined }, `#${t.id} `, shortName(t.name)), h('span.snip', (t.text || '').slice(0, 120)),
    h('span.snip', `${(t.annotations || []).length} annotation(s)`)))));
    countEl.textContent = queue.tasks.length ? `${queue.tasks.length}${queue.next ? '+' : ''} task(s)` : 'Nothing waits for review.';
    more.hidden = !queue.next;
  }

  async function open(id) {
    current = await api('GET', path('projects', project, 'tasks', id));
    drawQueue();
    drawTask();
    const n = (current.annotations || []).filter((a) => a.status === 'submitted').length;
    app.status(`Task #${current.id}: ${n} annotation${n === 1 ? '' : 's'} waiting for a decision.`);
  }

  function drawTask(correcting) {
    const t = current;
    const anns = t.annotations || [];
    // spans and boxes are seen best where they are: each annotation in its own read-only editor
    const drawn = kind === 'spans' || kind === 'boxes';
    const view = drawn ? null : makeEditor(kind, { task: t, schema, labels, value: null, readOnly: true, onChange() {},
      imageUrl: path('projects', project, 'tasks', t.id, 'image') });
    const cols = anns.map((a) => {
      const corr = a.corrects ? ` (corrects #${a.corrects})` : '';
      return h('article.panel.ann', { class: a.status, aria: { label: `Annotation ${a.id} by ${a.annotator}` } },
        h('p', h('span.who', a.annotator), ' ', h('span.tag', a.status), h('span.small.muted', ` #${a.id}${corr}`)),
        a.suggestion_id ? h('p.small', { class: 'muted' }, `from suggestion #${a.suggestion_id}`) : null,
        a.reviewer ? h('p.small.muted', `reviewed by ${a.reviewer}`) : null,
        drawn ? makeEditor(kind, { task: t, schema, labels, value: a.value, readOnly: true, onChange() {},
          imageUrl: path('projects', project, 'tasks', t.id, 'image') }).el : describeValue(kind, a.value, labels, t),
        a.status === 'submitted' ? h('div.row',
          h('button', { type: 'button', aria: { label: `Accept the annotation of ${a.annotator}` }, onclick: () => decide(a, 'accept') }, 'Accept'),
          h('button', { type: 'button', aria: { label: `Reject the annotation of ${a.annotator}` }, onclick: () => decide(a, 'reject') }, 'Reject'),
          h('button', { type: 'button', aria: { label: `Correct the annotation of ${a.annotator}` }, onclick: () => drawTask(a) }, 'Correct'))
          : null);
    });
    const sugg = (t.suggestions || []).map((s) => h('article.panel.ann.suggestion', { aria: { label: `Suggestion from ${s.model}` } },
      h('p', h('span.who', s.model), ' ', h('span.tag.sugg', s.decision || 'open'),
        h('span.small.muted', ` score ${typeof s.score === 'number' ? s.score.toFixed(2) : 'none'}`)),
      describeValue(kind, s.value, labels, t)));
    let corrEl = null;
    if (correcting) {
      let value = clone(correcting.value);
      const ed = makeEditor(kind, { task: t, schema, labels, value, readOnly: false, onChange: (v) => { value = v; },
        imageUrl: path('projects', project, 'tasks', t.id, 'image') });
      const keyed = new Map(labels.filter((l) => l.key).map((l) => [l.key, l]));
      app.onKey = (ev) => {
        if (!ev.ctrlKey && !ev.metaKey && !ev.altKey && keyed.has(ev.key)) return ed.applyLabel(keyed.get(ev.key));
        return ed.key(ev);
      };
      corrEl = h('section.panel', { aria: { label: 'Correction' } },
        h('h2', `Correcting the annotation of ${correcting.annotator}`), ed.el,
        h('div.actions',
          h('button.primary', { type: 'button', onclick: async () => {
            if (!valueComplete(kind, schema.multi, value)) {
              app.status('The correction is not complete.', true);
              return;
            }
            await decide(correcting, 'correct', value);
          } }, 'Save the correction'),
          h('button', { type: 'button', onclick: () => drawTask() }, 'Cancel')));
    } else {
      app.onKey = keys;
    }
    replace(detail, h('h2', `Task #${t.id}`, t.name ? h('span.muted', { title: t.name }, ` ${shortName(t.name)}`) : null),
      correcting || !view ? null : view.el,
      corrEl,
      h('h3', 'Annotations, side by side'),
      cols.length ? h('div.side-by-side', cols) : h('p.muted', 'No annotation.'),
      sugg.length ? [h('h3', 'Suggestions'), h('div.side-by-side', sugg)] : null);
  }

  async function decide(a, decision, value) {
    try {
      const body = { decision };
      if (value !== undefined) body.value = value;
      await api('POST', path('projects', project, 'annotations', a.id, 'review'), body);
      await open(current.id);
      await loadQueue(true);
      app.status(`${decision === 'accept' ? 'Accepted' : decision === 'reject' ? 'Rejected' : 'Corrected'}: the annotation of ${a.annotator} on task #${current.id}.`);
    } catch (err) {
      app.error(err);
    }
  }

  function keys(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    if (ev.key !== 'j' && ev.key !== 'k') return false;
    const i = current ? queue.tasks.findIndex((t) => t.id === current.id) : -1;
    const j = i + (ev.key === 'j' ? 1 : -1);
    if (j >= 0 && j < queue.tasks.length) app.go(`#/p/${encodeURIComponent(project)}/review/${queue.tasks[j].id}`);
    return true;
  }
  app.keys = [['j', 'next task of the queue'], ['k', 'previous task of the queue'],
    ['label keys', 'while correcting: as on the label page']];
  app.onKey = keys;

  await loadQueue(true);
  const id = taskId || (queue.tasks[0] && queue.tasks[0].id);
  if (id) await open(id);
  else replace(detail, h('h2', 'Nothing to review'), h('p', 'No submitted annotation waits for a decision.'));
}
