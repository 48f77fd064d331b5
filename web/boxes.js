// boxes.js - the box editor on an image (an ingested image, or a PDF page
// as moat renders it: GET .../tasks/{id}/image).  Boxes are [x, y, w, h,
// label] in pixels of that image, whatever the zoom.
//  - mouse: drag on the image draws a box with the current label; drag a
//    box to move it; drag a corner to resize it; click picks it;
//  - keys:  a label key sets the current label (and the picked box's);
//    Tab reaches each box; arrows move the picked box (Shift: 10 px);
//    Alt+arrows resize it; Delete removes it; Insert adds one in view;
//    + and - zoom, 0 is 100 %.
import { h, replace, inkFor } from './dom.js';
import { labelByName, chip, clone } from './labels.js';

const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.75, 1, 1.25, 1.5, 2, 3, 4];

export function makeBoxesEditor(ctx) {
  let W = Number(ctx.task.width) || 0;
  let H = Number(ctx.task.height) || 0;
  let value = clone(ctx.value) || { boxes: [] };
  let suggested = false;
  let picked = -1;
  let current = ctx.labels[0] || { name: 'label', color: '#0072B2' };
  let zoom = 1;
  let fitted = false;
  let drag = null;

  const img = h('img', { src: ctx.imageUrl, alt: `The image of task ${ctx.task.id}`, draggable: 'false' });
  const canvas = h('div.canvas', { role: 'application', class: ctx.readOnly ? 'readonly' : null,
    aria: { label: 'Image: drag to draw a box, drag a box to move it, drag a corner to resize it' } }, img);
  const stage = h('div.stage', { tabindex: '0', role: 'region', aria: { label: 'Image, scrollable' } }, canvas);
  const zoomText = h('span.small', { aria: { live: 'polite' } });
  const currentEl = h('span');
  const live = h('p.small.muted', { aria: { live: 'polite' } });
  const imgErr = h('p.small.error-text', { role: 'alert' });
  const list = h('ul.spanlist', { aria: { label: 'Boxes' } });
  const bar = h('div.boxbar',
    ctx.readOnly ? null : [h('span', 'Draws: '), currentEl],
    h('button', { type: 'button', aria: { label: 'Zoom out (minus key)' }, onclick: () => setZoom(step(-1)) }, '\u2212'),
    zoomText,
    h('button', { type: 'button', aria: { label: 'Zoom in (plus key)' }, onclick: () => setZoom(step(1)) }, '+'),
    h('button', { type: 'button', aria: { label: 'Zoom 100 % (key 0)' }, onclick: () => setZoom(1) }, '100 %'),
    h('button', { type: 'button', onclick: () => fit() }, 'Fit'),
    ctx.readOnly ? null : h('button', { type: 'button', aria: { label: 'Add a box (Insert key)' }, onclick: () => addBox() }, 'Add box'));
  const el = h('div.editor.boxes', bar, imgErr, stage, live, h('h3', 'Boxes'), list);

  img.addEventListener('load', () => {
    if (!W || !H) {
      W = img.naturalWidth;
      H = img.naturalHeight;
    }
    if (!fitted) fit();
  });
  img.addEventListener('error', () => {
    imgErr.textContent = 'The image cannot be loaded from the server' + (ctx.readOnly ? '.'
      : `: boxes can still be drawn on its ${W}\u00d7${H} pixels.`);
  });

  function step(d) {
    let i = ZOOMS.findIndex((z) => z >= zoom - 1e-9);
    if (i < 0) i = ZOOMS.length - 1;
    if (d > 0 && ZOOMS[i] <= zoom + 1e-9) i++;
    if (d < 0) i--;
    return ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, i))];
  }
  function setZoom(z) {
    zoom = z;
    render();
  }
  function fit() {
    if (!W || !H) return;
    fitted = true;
    const avail = Math.max(200, (stage.clientWidth || 800) - 4);
    const availH = Math.max(200, (stage.clientHeight || window.innerHeight - 280) - 4);
    zoom = Math.min(1, avail / W, availH / H);
    render();
  }

  function clampBox(b) {
    let [x, y, w, hh, l] = b;
    w = Math.max(1, Math.min(W || w, Math.round(w)));
    hh = Math.max(1, Math.min(H || hh, Math.round(hh)));
    x = Math.max(0, Math.min((W || x + w) - w, Math.round(x)));
    y = Math.max(0, Math.min((H || y + hh) - hh, Math.round(y)));
    return [x, y, w, hh, l];
  }

  function boxes() {
    return drag && drag.live ? drag.live : value.boxes || [];
  }

  function render() {
    canvas.style.width = `${Math.round(W * zoom)}px`;
    canvas.style.height = `${Math.round(H * zoom)}px`;
    img.style.width = `${Math.round(W * zoom)}px`;
    img.style.height = `${Math.round(H * zoom)}px`;
    zoomText.textContent = `${Math.round(zoom * 100)} %`;
    replace(currentEl, chip(current));
    for (const old of canvas.querySelectorAll('.box')) old.remove();
    boxes().forEach((b, i) => {
      const l = labelByName(ctx.labels, b[4]);
      const d = h('div.box', { tabindex: '0', role: 'button',
        aria: { label: `Box ${i + 1}, ${l.name}, at ${b[0]},${b[1]}, ${b[2]} by ${b[3]}`, pressed: i === picked ? 'true' : 'false' } },
        h('span.boxtag', l.key ? `${l.key} ${l.name}` : l.name),
        ctx.readOnly ? null : ['nw', 'ne', 'sw', 'se'].map((c) => h('span.handle.' + c, { data: { corner: c } })));
      d.dataset.index = String(i);
      d.style.left = `${b[0] * zoom}px`;
      d.style.top = `${b[1] * zoom}px`;
      d.style.width = `${b[2] * zoom}px`;
      d.style.height = `${b[3] * zoom}px`;
      d.style.borderColor = l.color;
      const tag = d.firstChild;
      tag.style.background = l.color;
      tag.style.color = inkFor(l.color);
      if (i === picked) d.classList.add('picked');
      if (suggested) d.classList.add('suggested');
      d.addEventListener('focus', () => {
        if (picked !== i && !drag) {
          picked = i;
          paintPicked();
        }
      });
      canvas.appendChild(d);
    });
    if (drag && drag.draw) {
      const [x, y, w, hh] = drag.draw;
      const d = h('div.box.drawing');
      d.style.left = `${x * zoom}px`;
      d.style.top = `${y * zoom}px`;
      d.style.width = `${w * zoom}px`;
      d.style.height = `${hh * zoom}px`;
      d.style.borderColor = current.color;
      canvas.appendChild(d);
    }
    if (!drag) renderList();
  }

  function paintPicked() {
    for (const d of canvas.querySelectorAll('.box')) {
      const on = Number(d.dataset.index) === picked;
      d.classList.toggle('picked', on);
      d.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    renderList();
  }

  function renderList() {
    const bs = value.boxes || [];
    replace(list, bs.length ? bs.map((b, i) => {
      const l = labelByName(ctx.labels, b[4]);
      return h('li', { class: i === picked ? 'picked' : '' }, chip(l),
        h('span.small', `${b[0]},${b[1]} ${b[2]}\u00d7${b[3]}`),
        h('button', { type: 'button', aria: { label: `Pick box ${i + 1}, ${l.name}` }, onclick: () => focusBox(i) }, 'Pick'),
        ctx.readOnly ? null : h('button', { type: 'button', aria: { label: `Remove box ${i + 1}, ${l.name}` },
          onclick: () => remove(i) }, 'Remove'));
    }) : h('li.muted', 'No box yet.'));
  }

  function focusBox(i) {
    picked = i;
    paintPicked();
    const d = canvas.querySelector(`.box[data-index="${i}"]`);
    if (d) d.focus();
  }

  function point(ev) {
    const r = canvas.getBoundingClientRect();
    return [Math.max(0, Math.min(W, (ev.clientX - r.left) / zoom)),
            Math.max(0, Math.min(H, (ev.clientY - r.top) / zoom))];
  }

  canvas.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0 || ctx.readOnly || !W) return;
    ev.preventDefault();
    const p = point(ev);
    const handle = ev.target.closest('.handle');
    const boxEl = ev.target.closest('.box');
    canvas.setPointerCapture(ev.pointerId);
    if (boxEl && boxEl.dataset.index !== undefined) {
      const i = Number(boxEl.dataset.index);
      picked = i;
      drag = { mode: handle ? 'resize' : 'move', corner: handle && handle.dataset.corner, i, start: p,
               orig: value.boxes[i].slice(), live: clone(value.boxes), moved: false };
      boxEl.focus({ preventScroll: true });
    } else {
      drag = { mode: 'draw', start: p, draw: [p[0], p[1], 0, 0] };
    }
    render();
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const p = point(ev);
    const dx = p[0] - drag.start[0];
    const dy = p[1] - drag.start[1];
    if (Math.abs(dx) + Math.abs(dy) > 0) drag.moved = true;
    if (drag.mode === 'draw') {
      drag.draw = [Math.min(p[0], drag.start[0]), Math.min(p[1], drag.start[1]), Math.abs(dx), Math.abs(dy)];
    } else if (drag.mode === 'move') {
      const o = drag.orig;
      drag.live[drag.i] = clampBox([o[0] + dx, o[1] + dy, o[2], o[3], o[4]]);
    } else {
      const o = drag.orig;
      let x1 = o[0];
      let y1 = o[1];
      let x2 = o[0] + o[2];
      let y2 = o[1] + o[3];
      if (drag.corner.includes('w')) x1 += dx;
      else x2 += dx;
      if (drag.corner.includes('n')) y1 += dy;
      else y2 += dy;
      const nx = Math.max(0, Math.min(x1, x2));
      const ny = Math.max(0, Math.min(y1, y2));
      drag.live[drag.i] = clampBox([nx, ny, Math.min(W, Math.max(x1, x2)) - nx, Math.min(H, Math.max(y1, y2)) - ny, o[4]]);
    }
    render();
  });
  const endDrag = (ev) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (canvas.hasPointerCapture && canvas.hasPointerCapture(ev.pointerId)) canvas.releasePointerCapture(ev.pointerId);
    if (d.mode === 'draw') {
      const [x, y, w, hh] = d.draw;
      if (w >= 3 && hh >= 3) {
        value.boxes = value.boxes || [];
        value.boxes.push(clampBox([x, y, w, hh, current.name]));
        picked = value.boxes.length - 1;
        live.textContent = `Box ${picked + 1} drawn: ${current.name}.`;
        changed();
        return;
      }
      picked = -1;
    } else if (d.moved && ev.type === 'pointerup') {
      value.boxes = d.live;
      live.textContent = `Box ${d.i + 1} ${d.mode === 'move' ? 'moved' : 'resized'}.`;
      changed();
      return;
    }
    render();
  };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);

  function changed() {
    suggested = false;
    render();
    ctx.onChange(clone(value));
  }

  function remove(i) {
    if (ctx.readOnly || i < 0) return false;
    value.boxes.splice(i, 1);
    picked = -1;
    live.textContent = 'Box removed.';
    changed();
    return true;
  }

  function addBox() {
    if (ctx.readOnly || !W || !H) return false;
    const w = Math.max(4, Math.round(Math.min(W, (stage.clientWidth || W * zoom) / zoom) / 4));
    const hh = Math.max(4, Math.round(Math.min(H, (stage.clientHeight || H * zoom) / zoom) / 4));
    const x = stage.scrollLeft / zoom + w / 2;
    const y = stage.scrollTop / zoom + hh / 2;
    value.boxes = value.boxes || [];
    value.boxes.push(clampBox([x, y, w, hh, current.name]));
    picked = value.boxes.length - 1;
    changed();
    focusBox(picked);
    return true;
  }

  function key(ev) {
    const k = ev.key;
    if (k === '+' || k === '=') {
      setZoom(step(1));
      return true;
    }
    if (k === '-' || k === '_') {
      setZoom(step(-1));
      return true;
    }
    if (k === '0') {
      setZoom(1);
      return true;
    }
    if (k === 'Insert') return addBox();
    if (ctx.readOnly || picked < 0 || !value.boxes || !value.boxes[picked]) return false;
    if (k === 'Delete' || k === 'Backspace') return remove(picked);
    const dirs = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (dirs[k]) {
      const s = ev.shiftKey ? 10 : 1;
      const [dx, dy] = dirs[k];
      const b = value.boxes[picked];
      value.boxes[picked] = ev.altKey ? clampBox([b[0], b[1], b[2] + dx * s, b[3] + dy * s, b[4]])
        : clampBox([b[0] + dx * s, b[1] + dy * s, b[2], b[3], b[4]]);
      changed();
      focusBox(picked);
      return true;
    }
    if (k === 'Escape') {
      picked = -1;
      paintPicked();
      return true;
    }
    return false;
  }

  function applyLabel(l) {
    current = l;
    if (!ctx.readOnly && picked >= 0 && value.boxes && value.boxes[picked]) {
      value.boxes[picked][4] = l.name;
      live.textContent = `Box ${picked + 1} is now ${l.name}.`;
      changed();
      focusBox(picked);
    } else {
      live.textContent = `New boxes: ${l.name}.`;
      render();
    }
    return true;
  }

  render();
  return {
    el,
    setValue(v, sugg) {
      value = clone(v) || { boxes: [] };
      if (!Array.isArray(value.boxes)) value.boxes = [];
      suggested = !!sugg;
      picked = -1;
      render();
    },
    applyLabel,
    key,
    focus() { (canvas.querySelector('.box') || stage).focus(); },
    zoom: () => zoom,
  };
}
