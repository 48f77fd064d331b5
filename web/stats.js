// stats.js - the agreement page: progress, per annotator, per label and
// per pair of annotators, from GET /api/projects/{p}/stats.  A figure the
// data does not define is null there and "n/a" here, never a number.
import { api, path } from './api.js';
import { h, replace } from './dom.js';
import { projectLabels, labelByName, chip } from './labels.js';

const NAMES = {
  cohen_kappa: 'Cohen\u2019s kappa', fleiss_kappa: 'Fleiss\u2019 kappa', krippendorff_alpha: 'Krippendorff\u2019s alpha',
  span_f1: 'span F1', box_f1: 'box F1', f1: 'F1', precision: 'precision', recall: 'recall', items: 'tasks compared',
};

function fmt(v) {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${NAMES[k] || k} ${fmt(x)}`).join(', ');
  return String(v);
}

function figures(obj) {
  return Object.entries(obj || {}).filter(([, v]) => v === null || typeof v !== 'object' || !Array.isArray(v));
}

function bar(v) {
  if (typeof v !== 'number' || !(v > 0)) return null;
  const b = h('span.bar', { aria: { hidden: 'true' } });
  b.style.width = `${Math.round(Math.min(1, v) * 6)}rem`;
  return b;
}

export async function statsView(main, app, project) {
  document.title = `moat: agreement ${project}`;
  const [proj, st] = await Promise.all([api('GET', path('projects', project)), api('GET', path('projects', project, 'stats'))]);
  const labels = projectLabels(proj.schema || {});
  const ag = st.agreement || {};
  const counts = st.counts || {};
  const overall = figures(ag).filter(([k]) => !['annotators', 'per_pair', 'note'].includes(k));
  const measureKeys = [...new Set((st.labels || []).flatMap((l) => Object.keys(l.agreement || {})))];
  const pairKeys = [...new Set((ag.per_pair || []).flatMap((p) => Object.keys(p).filter((k) => !['a', 'b'].includes(k))))];

  replace(main, h('h1', `${project}: agreement`),
    h('div.grid2',
      h('section.panel', { aria: { labelledby: 'st-progress' } }, h('h2#st-progress', 'Progress'),
        h('table', h('tbody', Object.entries(counts).map(([k, v]) =>
          h('tr', h('th', { scope: 'row' }, k.replace(/_/g, ' ')), h('td.num', fmt(v))))))),
      h('section.panel', { aria: { labelledby: 'st-overall' } }, h('h2#st-overall', 'Agreement between annotators'),
        ag.note ? h('p.small.muted', ag.note) : null,
        h('p.small.muted', `Annotators: ${(ag.annotators || []).join(', ') || 'none'}. On their own submissions, before review.`),
        h('table', h('tbody', overall.map(([k, v]) =>
          h('tr', h('th', { scope: 'row' }, NAMES[k] || k), h('td.num', fmt(v)), h('td', bar(v)))))))),
    h('section.panel', { aria: { labelledby: 'st-annotators' } }, h('h2#st-annotators', 'Per annotator'),
      h('table#per-annotator', h('thead', h('tr', ['annotator', 'submitted', 'accepted', 'rejected'].map((c, i) =>
        h('th', { scope: 'col', class: i ? 'num' : '' }, c)))),
      h('tbody', (st.annotators || []).map((a) => h('tr', h('th', { scope: 'row' }, a.name),
        h('td.num', fmt(a.submitted)), h('td.num', fmt(a.accepted)), h('td.num', fmt(a.rejected))))))),
    h('section.panel', { aria: { labelledby: 'st-labels' } }, h('h2#st-labels', 'Per label'),
      h('table#per-label', h('thead', h('tr', h('th', { scope: 'col' }, 'label'), h('th.num', { scope: 'col' }, 'count'),
        measureKeys.map((k) => h('th.num', { scope: 'col' }, NAMES[k] || k)))),
      h('tbody', (st.labels || []).map((l) => h('tr', h('th', { scope: 'row' }, chip(labelByName(labels, l.name))),
        h('td.num', fmt(l.count)), measureKeys.map((k) => h('td.num', fmt((l.agreement || {})[k])))))))),
    (ag.per_pair || []).length ? h('section.panel', { aria: { labelledby: 'st-pairs' } }, h('h2#st-pairs', 'Per pair of annotators'),
      h('table', h('thead', h('tr', h('th', { scope: 'col' }, 'pair'), pairKeys.map((k) => h('th.num', { scope: 'col' }, NAMES[k] || k)))),
        h('tbody', ag.per_pair.map((p) => h('tr', h('th', { scope: 'row' }, `${p.a} \u2013 ${p.b}`),
          pairKeys.map((k) => h('td.num', fmt(p[k])))))))) : null);
  app.keys = [];
  app.status('Agreement as of now.');
}
