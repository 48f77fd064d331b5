// models.js - the admin's page for model-assisted labeling: the local models
// moat can reach (GET /api/models), the prompt template tried against a few
// tasks with a live preview (POST .../preview: the rendered prompt as you
// type; the model's answer on request), and suggestion runs started and
// followed (POST and GET .../suggest, polled while one runs).
import { api, path, query } from './api.js';
import { h, replace } from './dom.js';

const FIELDS = ['{{text}}', '{{labels}}', '{{question}}', '{{response_a}}', '{{response_b}}', '{{name}}',
  '{{width}}', '{{height}}'];
const FEW = 5;

export async function modelsView(main, app, project) {
  document.title = `moat: models for ${project}`;
  const [proj, tasks] = await Promise.all([api('GET', path('projects', project)),
    api('GET', path('projects', project, 'tasks') + query({ limit: FEW }))]);
  const schema = proj.schema || {};

  // --- models -----------------------------------------------------------------
  const modelInput = h('input#model-uri', { type: 'text', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'gguf:/path/model.gguf, store:NAME, ollama://127.0.0.1:11434/NAME' });
  const modelList = h('div.modellist', h('p.muted', 'Asking the model sources\u2026'));
  const sourcesEl = h('ul.small');
  const modelsPanel = h('section.panel', { aria: { labelledby: 'm-title' } }, h('h2#m-title', 'Models'),
    modelList, sourcesEl,
    h('div.field', h('label', { for: 'model-uri' }, 'Model for the preview and the run'), modelInput,
      h('span.small.muted', 'Pick one above, or type a URI (a GGUF file: gguf:/path/model.gguf).')));

  async function loadModels() {
    try {
      const m = await api('GET', '/api/models');
      const models = m.models || [];
      replace(modelList, models.length ? h('fieldset', h('legend', 'Local models moat can reach'),
        models.map((mo, i) => {
          const id = 'model-' + i;
          const r = h('input', { type: 'radio', name: 'model', id, value: mo.uri,
            onchange: () => { modelInput.value = mo.uri; } });
          return h('div.row', r, h('label', { for: id }, mo.name || mo.uri),
            h('span.small.muted', `${mo.source || ''} ${mo.uri}`));
        })) : h('p.muted', 'No model found in the sources below: type a model URI.'));
      replace(sourcesEl, (m.sources || []).map((s) => h('li', `${s.kind || s.source || 'source'} ${s.where || ''}: `,
        s.ok ? `${s.models} model(s)` : h('span.error-text', s.error || 'not reachable'))));
    } catch (err) {
      replace(modelList, h('p.error-text', `The models cannot be listed: ${err.message}`));
    }
  }

  // --- the template and its preview -------------------------------------------
  const tmpl = h('textarea#template.template', { spellcheck: 'false', oninput: () => livePreview() });
  tmpl.value = schema.prompt || '';
  const taskSel = h('select#preview-task', { onchange: () => livePreview() },
    (tasks.tasks || []).map((t) => h('option', { value: String(t.id) }, `#${t.id} ${t.name || ''} ${(t.snippet || '').slice(0, 40)}`)));
  const promptOut = h('pre#preview-prompt.preview', { tabindex: '0', aria: { label: 'The prompt as the model gets it' } });
  const answerOut = h('div#preview-answer', { aria: { live: 'polite' } });
  const askBtn = h('button.primary', { type: 'button', onclick: () => ask() }, 'Ask the model');
  const askAllBtn = h('button', { type: 'button', onclick: () => askAll() }, `Ask for each of these ${(tasks.tasks || []).length} tasks`);
  const tmplPanel = h('section.panel', { aria: { labelledby: 't-title' } }, h('h2#t-title', 'Prompt template'),
    h('div.field', h('label', { for: 'template' }, 'Template'), tmpl,
      h('span.small.muted', 'Fields (width and height: boxes only): ', FIELDS.join(' '), '. Empty: the plain prompt for this kind of task.')),
    h('div.field', h('label', { for: 'preview-task' }, 'Try it on'), taskSel),
    h('div.row', askBtn, askAllBtn),
    h('h3', 'The prompt'), promptOut, h('h3', 'The model\u2019s answer'), answerOut,
    h('p.small.muted', 'The preview and the suggestion runs started below use the template above; ',
      'left empty, they use the project\u2019s own (its schema\u2019s prompt).'));

  let previewTimer = null;
  let previewSeq = 0;
  function body(taskId, withModel) {
    const b = { task: Number(taskId) };
    if (tmpl.value.trim() !== '') b.template = tmpl.value;
    if (withModel) b.model = modelInput.value.trim();
    return b;
  }
  function livePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(async () => {
      if (!taskSel.value) return;
      const seq = ++previewSeq;
      try {
        const r = await api('POST', path('projects', project, 'preview'), body(taskSel.value, false));
        if (seq === previewSeq) {
          promptOut.textContent = r.prompt;
          promptOut.classList.remove('error-text');
        }
      } catch (err) {
        if (seq === previewSeq) {
          promptOut.textContent = err.message;
          promptOut.classList.add('error-text');
        }
      }
    }, 250);
  }
  function answerBlock(taskId, r) {
    const prov = r.provenance || {};
    return h('div.panel', { data: { task: taskId } },
      h('p.small.muted', `task #${taskId}`, prov.model ? ` \u2014 ${prov.model}` : '',
        typeof r.score === 'number' ? ` \u2014 score ${r.score.toFixed(2)}` : '',
        typeof prov.gen_s === 'number' ? ` \u2014 ${prov.gen_s.toFixed(2)} s` : ''),
      h('pre.preview.answer', r.answer === undefined ? '(no answer)' : r.answer));
  }
  async function ask() {
    if (!modelInput.value.trim()) {
      app.status('Pick or type a model first.', true);
      modelInput.focus();
      return;
    }
    askBtn.disabled = true;
    replace(answerOut, h('p.muted', 'Asking the model\u2026'));
    try {
      const r = await api('POST', path('projects', project, 'preview'), body(taskSel.value, true));
      promptOut.textContent = r.prompt;
      replace(answerOut, answerBlock(taskSel.value, r));
      app.status('The model answered.');
    } catch (err) {
      replace(answerOut, h('p.error-text', err.message));
    } finally {
      askBtn.disabled = false;
    }
  }
  async function askAll() {
    if (!modelInput.value.trim()) {
      app.status('Pick or type a model first.', true);
      modelInput.focus();
      return;
    }
    askAllBtn.disabled = true;
    replace(answerOut);
    for (const t of tasks.tasks || []) {
      try {
        const r = await api('POST', path('projects', project, 'preview'), body(t.id, true));
        answerOut.appendChild(answerBlock(t.id, r));
      } catch (err) {
        answerOut.appendChild(h('p.error-text', `task #${t.id}: ${err.message}`));
      }
    }
    askAllBtn.disabled = false;
  }

  // --- suggestion runs ----------------------------------------------------------
  const limitInput = h('input#run-limit', { type: 'number', min: '0', step: '1', placeholder: 'all' });
  const startBtn = h('button.primary', { type: 'button', onclick: () => startRun() }, 'Start a suggestion run');
  const runsEl = h('div#runs', { aria: { live: 'polite' } });
  const runPanel = h('section.panel', { aria: { labelledby: 'r-title' } }, h('h2#r-title', 'Suggestion runs'),
    h('p.small.muted', 'A run asks the model for every task that has no suggestion from it yet, in the background.'),
    h('div.row', h('label', { for: 'run-limit' }, 'At most'), limitInput, h('span', 'tasks'), startBtn), runsEl);

  let poll = null;
  async function loadRuns() {
    try {
      const r = await api('GET', path('projects', project, 'suggest'));
      const runs = r.runs || [];
      const row = (x) => h('tr', { data: { run: x.id, status: x.status } },
        h('td', `#${x.id}`), h('td.mono.small', x.model),
        h('td', x.status, x.error ? h('span.small.error-text', ` ${x.error}`) : null),
        h('td', h('progress', { max: String(Math.max(1, x.total || 0)), value: String(x.done || 0),
          aria: { label: `run ${x.id}: ${x.done || 0} of ${x.total || 0}` } }), ` ${x.done || 0} / ${x.total || 0}`),
        h('td.num', String(x.failed || 0)), h('td', x.started_by || ''), h('td.small', x.started_at || ''));
      const head = h('thead', h('tr', ['run', 'model', 'status', 'progress', 'failed', 'by', 'started']
        .map((c) => h('th', { scope: 'col' }, c))));
      replace(runsEl, runs.length ? h('table#runs-table', head, h('tbody', runs.map(row))) : h('p.muted', 'No run yet.'));
      const running = runs.some((x) => x.status === 'running');
      if (running && !poll) poll = app.every(1000, loadRuns);
      if (!running && poll) {
        clearInterval(poll);
        app.timers.delete(poll);
        poll = null;
      }
    } catch (err) {
      app.error(err);
    }
  }
  async function startRun() {
    const model = modelInput.value.trim();
    if (!model) {
      app.status('Pick or type a model first.', true);
      modelInput.focus();
      return;
    }
    const b = { model };
    if (limitInput.value !== '' && Number(limitInput.value) > 0) b.limit = Math.floor(Number(limitInput.value));
    if (tmpl.value.trim() !== '') b.template = tmpl.value;
    startBtn.disabled = true;
    try {
      const r = await api('POST', path('projects', project, 'suggest'), b);
      app.status(`Suggestion run #${r.run} started.`);
      await loadRuns();
    } catch (err) {
      app.error(err);
    } finally {
      startBtn.disabled = false;
    }
  }

  replace(main, h('h1', `${project}: models and suggestions`),
    h('div.grid2', h('div', modelsPanel, runPanel), tmplPanel));
  app.keys = [];
  livePreview();
  loadRuns();
  await loadModels();
}
