#!/usr/bin/env python3
"""gen.py - deterministic Markdown and HTML documents for the ingest benchmark.

    gen.py OUTDIR TOTAL_MB

Writes about TOTAL_MB megabytes (10^6 bytes), half Markdown and half HTML, as
files of 20-400 kB under OUTDIR/md and OUTDIR/html.  The same arguments give
the same bytes on every machine (a seeded generator, no clock, no locale).
The mix is what office documentation and exported wiki pages hold: headings
at several levels, paragraphs with inline markup and links, nested lists,
tables, code blocks, block quotes, entities, and some German, Korean and Thai
text; the HTML pages also carry a head with styles and scripts, and navigation
that a reader should drop.
"""
import os
import random
import sys

WORDS = """the of and to in is that for it as was with be by on not he this are or his
from at which but have an they you were her she there been one all we their has would
when if so no will more out up into do any your what some can only other new time
could about than my them these two may first then do now such like our over also
after way many must before through back years where much should well people down
own just because good each those feel seems how high too place little world very
still nation hand old life tell write become here show house both between need mean
call develop under last right move thing general school never same another begin
while number part turn real leave might want point form off child few small since
against ask late home interest large person end open public follow during present
without again hold govern around possible head consider word program problem however
lead system set order eye plan run keep face fact group play stand increase early
course change help line report budget quarter revenue policy customer contract supply
storage network server release version module feature review meeting project team
invoice payment account schedule training safety incident audit compliance vendor""".split()
FOREIGN = ("Größe Straße Übersicht Maßnahme Änderung Prüfung Qualität "
           "한국어 회의 보고서 계약 고객 일정 "
           "ภาษาไทย รายงาน การประชุม ลูกค้า สัญญา").split()
MD_ENTITIES = ["&amp;", "&copy;", "&eacute;", "&#8212;", "&nbsp;", "&lt;tag&gt;"]
HTML_ENTITIES = ["&amp;", "&copy;", "&eacute;", "&#8212;", "&nbsp;", "&lt;tag&gt;",
                 "&euro;", "&hellip;", "&quot;", "&#x4E2D;"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def word(self):
        r = self.r.random()
        if r < 0.03:
            return self.r.choice(FOREIGN)
        return self.r.choice(WORDS)

    def words(self, lo, hi):
        return [self.word() for _ in range(self.r.randint(lo, hi))]

    def sentence(self, inline):
        w = self.words(6, 22)
        w[0] = w[0].capitalize()
        for i in range(len(w)):
            x = self.r.random()
            if x < 0.03:
                w[i] = inline("em", w[i])
            elif x < 0.05:
                w[i] = inline("strong", w[i])
            elif x < 0.07:
                w[i] = inline("a", w[i])
            elif x < 0.075:
                w[i] = inline("code", w[i])
            elif x < 0.085:
                w[i] = w[i] + " " + inline("entity", None)
        end = self.r.choice([".", ".", ".", ".", "?", "!"])
        return " ".join(w) + end

    def paragraph(self, inline, lo=2, hi=8):
        return " ".join(self.sentence(inline) for _ in range(self.r.randint(lo, hi)))

    def cells(self, n):
        return [" ".join(self.words(1, 3)) for _ in range(n)]


def md_inline(g):
    def f(kind, w):
        if kind == "em":
            return "*%s*" % w
        if kind == "strong":
            return "**%s**" % w
        if kind == "a":
            return "[%s](https://intranet.example/%s)" % (w, g.r.randint(1, 99999))
        if kind == "code":
            return "`%s()`" % w
        return g.r.choice(MD_ENTITIES)
    return f


def html_inline(g):
    def f(kind, w):
        if kind == "em":
            return "<em>%s</em>" % w
        if kind == "strong":
            return "<strong>%s</strong>" % w
        if kind == "a":
            return '<a href="/wiki/%s">%s</a>' % (g.r.randint(1, 99999), w)
        if kind == "code":
            return "<code>%s()</code>" % w
        return g.r.choice(HTML_ENTITIES)
    return f


def markdown_doc(g, target):
    inl = md_inline(g)
    out = ["# " + " ".join(g.words(2, 6)).title(), ""]
    size = 0
    while size < target:
        k = g.r.random()
        if k < 0.08:
            block = "#" * g.r.randint(2, 4) + " " + " ".join(g.words(2, 7)).capitalize()
        elif k < 0.55:
            block = g.paragraph(inl)
        elif k < 0.70:
            items = []
            ordered = g.r.random() < 0.4
            for i in range(g.r.randint(2, 8)):
                mark = "%d." % (i + 1) if ordered else "-"
                items.append("%s %s" % (mark, g.sentence(inl)))
                if g.r.random() < 0.25:
                    for _ in range(g.r.randint(1, 3)):
                        items.append("    - " + g.sentence(inl))
            block = "\n".join(items)
        elif k < 0.80:
            ncol = g.r.randint(2, 6)
            rows = ["| " + " | ".join(g.cells(ncol)) + " |",
                    "|" + "|".join("---" for _ in range(ncol)) + "|"]
            for _ in range(g.r.randint(2, 15)):
                rows.append("| " + " | ".join(g.cells(ncol)) + " |")
            block = "\n".join(rows)
        elif k < 0.88:
            lang = g.r.choice(["python", "c", "sh", "json", ""])
            lines = ["    " * g.r.randint(0, 2) + "%s = %s(%d)" % (g.word(), g.word(), g.r.randint(0, 999))
                     for _ in range(g.r.randint(2, 12))]
            block = "```%s\n%s\n```" % (lang, "\n".join(lines))
        elif k < 0.95:
            block = "\n".join("> " + g.sentence(inl) for _ in range(g.r.randint(1, 4)))
        else:
            block = "%s  \n%s" % (g.sentence(inl), g.sentence(inl))
        out.append(block)
        out.append("")
        size += len(block.encode()) + 2
    return "\n".join(out)


HTML_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%s</title>
<style>body { font-family: sans-serif; } .nav { float: left; } table { border-collapse: collapse; }</style>
<script>window.dataLayer = window.dataLayer || []; function track(e) { dataLayer.push(e); }</script>
</head>
<body>
<nav class="nav"><ul><li><a href="/">Home</a></li><li><a href="/docs">Documents</a></li><li><a href="/help">Help</a></li></ul></nav>
<div id="content"><main>
"""
HTML_TAIL = """</main></div>
<footer><p>Internal use only &copy; 2024 Example Corp.</p></footer>
<script>track({page: document.title});</script>
</body>
</html>
"""


def html_doc(g, target):
    inl = html_inline(g)
    title = " ".join(g.words(2, 6)).title()
    out = [HTML_HEAD % title, "<h1>%s</h1>" % title]
    size = 0
    section_open = False
    while size < target:
        k = g.r.random()
        if k < 0.08:
            if section_open:
                out.append("</section>")
            out.append("<section>")
            section_open = True
            lvl = g.r.randint(2, 4)
            block = "<h%d>%s</h%d>" % (lvl, " ".join(g.words(2, 7)).capitalize(), lvl)
        elif k < 0.55:
            block = "<p>%s</p>" % g.paragraph(inl)
        elif k < 0.70:
            tag = "ol" if g.r.random() < 0.4 else "ul"
            items = []
            for _ in range(g.r.randint(2, 8)):
                item = "<li>" + g.sentence(inl)
                if g.r.random() < 0.25:
                    item += "\n  <ul>" + "".join("<li>%s</li>" % g.sentence(inl)
                                               for _ in range(g.r.randint(1, 3))) + "</ul>"
                items.append(item + "</li>")
            block = "<%s>\n%s\n</%s>" % (tag, "\n".join(items), tag)
        elif k < 0.80:
            ncol = g.r.randint(2, 6)
            rows = ["<tr>" + "".join("<th>%s</th>" % c for c in g.cells(ncol)) + "</tr>"]
            for _ in range(g.r.randint(2, 15)):
                rows.append("<tr>" + "".join("<td>%s</td>" % c for c in g.cells(ncol)) + "</tr>")
            cap = "<caption>%s</caption>" % " ".join(g.words(2, 5)) if g.r.random() < 0.3 else ""
            block = "<table>%s\n<tbody>\n%s\n</tbody></table>" % (cap, "\n".join(rows))
        elif k < 0.88:
            lines = ["    " * g.r.randint(0, 2) + "%s = %s(%d) &amp;&amp; x &lt; y" % (g.word(), g.word(), g.r.randint(0, 999))
                     for _ in range(g.r.randint(2, 12))]
            block = "<pre><code>%s</code></pre>" % "\n".join(lines)
        elif k < 0.95:
            block = "<blockquote>%s</blockquote>" % "".join(
                "<p>%s</p>" % g.sentence(inl) for _ in range(g.r.randint(1, 3)))
        else:
            block = '<div class="note">%s<br>%s</div>' % (g.sentence(inl), g.sentence(inl))
        out.append(block)
        size += len(block.encode()) + 1
    if section_open:
        out.append("</section>")
    out.append(HTML_TAIL)
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen.py OUTDIR TOTAL_MB")
    outdir, total = sys.argv[1], int(float(sys.argv[2]) * 1e6)
    sizes = random.Random(7)
    for kind, make in (("md", markdown_doc), ("html", html_doc)):
        d = os.path.join(outdir, kind)
        os.makedirs(d, exist_ok=True)
        written, i = 0, 0
        while written < total // 2:
            g = Gen(hash_seed(kind, i))
            target = sizes.randint(20_000, 400_000)
            data = make(g, target).encode()
            with open(os.path.join(d, "doc%05d.%s" % (i, kind)), "wb") as f:
                f.write(data)
            written += len(data)
            i += 1


def hash_seed(kind, i):
    # A stable seed per file (Python's hash() of a str is salted per process).
    return (1 if kind == "md" else 2) * 1_000_003 + i


if __name__ == "__main__":
    main()
