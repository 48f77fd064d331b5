// markdown.js - the guidelines' Markdown as DOM nodes: headings, paragraphs,
// lists, code blocks, **strong**, *emphasis*, `code`.  Every piece of text is
// a text node; links become their text followed by the address in brackets
// (never an <a>: a guideline cannot send anyone elsewhere, nor run a
// javascript: URL); raw HTML stays visible as the characters it is.
import { h } from './dom.js';

export function renderMarkdown(src) {
  const out = document.createDocumentFragment();
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) {
      i++;
      continue;
    }
    if (/^```/.test(line)) {
      const code = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i])) code.push(lines[i++]);
      i++;
      out.appendChild(h('pre', h('code', code.join('\n'))));
      continue;
    }
    const hd = /^(#{1,6})\s+(.*)$/.exec(line);
    if (hd) {
      // headings inside the guidelines panel start below the panel's own h2
      const level = Math.min(6, hd[1].length + 2);
      out.appendChild(h('h' + level, inline(hd[2])));
      i++;
      continue;
    }
    if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = h(ordered ? 'ol' : 'ul');
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
        list.appendChild(h('li', inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ''))));
        i++;
      }
      out.appendChild(list);
      continue;
    }
    const para = [];
    while (i < lines.length && !/^\s*$/.test(lines[i]) && !/^(#{1,6}\s|```|\s*([-*+]|\d+[.)])\s)/.test(lines[i])) {
      para.push(lines[i++].trim());
    }
    out.appendChild(h('p', inline(para.join(' '))));
  }
  return out;
}

// **strong**, *em* / _em_, `code`, [text](url) -> nodes
function inline(s) {
  const nodes = [];
  const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0;
  let m;
  while ((m = re.exec(s))) {
    if (m.index > last) nodes.push(s.slice(last, m.index));
    const t = m[0];
    if (m[1]) nodes.push(h('code', t.slice(1, -1)));
    else if (m[2]) nodes.push(h('strong', t.slice(2, -2)));
    else if (m[3]) nodes.push(h('em', t.slice(1, -1)));
    else {
      const lm = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t);
      nodes.push(lm[1] + ' (' + lm[2] + ')');
    }
    last = m.index + t.length;
  }
  if (last < s.length) nodes.push(s.slice(last));
  return nodes;
}
