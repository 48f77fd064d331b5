#!/usr/bin/env python3
"""Writes bench/chunk's input: a document of about SIZE bytes (default 4 MB)
made the way moat's text reader sees one (blocks between blank lines, "# "
headings), from a fixed seed: sections with a heading and paragraphs of
English-like sentences, some long paragraphs, list items, and now and then
accented words, a line of Chinese, Arabic or an emoji sequence.

With --mixed: blocks of words of many scripts, emoji sequences, long words,
URLs and base64, sometimes with no space between them (for edges.c).

Usage: gen.py OUT [SIZE] [--mixed]"""
import random
import sys

WORDS = """the of and to in a is that for it as was with be by on not he this are or his
from at which but have an they you were their one all we can her has there been if more when
will would who so no she other its may these what them than some him time into only do could
new about two any such our made first now like then also most over after years well should
where through state people way even because many work same those great being must through
data model system records policy review report archive training document section value file
process result company public account contract shipment invoice analysis period network
dataset annotation quality language machine source service customer water energy health
market government program research control development support question history student
""".split()
ACCENTED = ["café", "naïve", "façade", "Zürich", "São Paulo", "Ångström", "déjà vu", "Dvořák",
            "Kraków", "fiancée", "jalapeño", "Øresund"]
OTHER = ["数据集的质量取决于清洗。模型需要干净的文本。", "مرحبا بالعالم، هذا نص عربي للاختبار.",
         "Привет, это русский текст для проверки.", "👩‍👩‍👧‍👦 family 🇩🇪 flag e\u0301te\u0301",
         "Ελληνικά κείμενα για δοκιμή."]


def sentence(r):
    n = r.randint(4, 28)
    w = [r.choice(WORDS) for _ in range(n)]
    if r.random() < 0.15:
        w[r.randrange(n)] = r.choice(ACCENTED)
    if r.random() < 0.1:
        w[r.randrange(n)] = str(r.randint(1, 99999))
    if n > 8 and r.random() < 0.3:
        w[r.randrange(1, n - 1)] += ","
    s = " ".join(w)
    return s[0].upper() + s[1:] + r.choice(".....?!")


def paragraph(r):
    k = r.choice([1, 2, 3, 4, 5, 6, 8, 12, 20, 40])
    p = " ".join(sentence(r) for _ in range(k))
    if r.random() < 0.05:
        p += " " + r.choice(OTHER)
    return p


MIXED = ["the", "of", "data", "Zürich", "naïve", "Pneumonoultramicroscopicsilicovolcanoconiosis",
         "e\u0301te\u0301", "👩‍👩‍👧‍👦", "🇩🇪", "👍🏽", "مرحبا", "بالعالم", "שָׁלוֹם", "数据集的质量", "「引用」",
         "Привет", "U.S.", "3.14", "tab\there", "ｆｕｌｌ", "ज़्यादा",
         "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZGF0YQ==", "http://example.com/a/b?c=d&e=f",
         "数据集的质量取决于清洗模型需要干净的文本数据集的质量取决于清洗"]


def mixed(out, size):
    r = random.Random(3)
    blocks, total = [], 0
    while total < size:
        sep = " " if r.random() < 0.8 else ""
        b = ("# " if r.random() < 0.1 else "") + sep.join(r.choice(MIXED) for _ in range(r.randint(1, 40)))
        b += r.choice([".", "", "。", "!"])
        blocks.append(b)
        total += len(b.encode()) + 2
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(blocks))


def main():
    args = [a for a in sys.argv[1:] if a != "--mixed"]
    out = args[0]
    size = int(args[1]) if len(args) > 1 else 4 << 20
    if "--mixed" in sys.argv:
        mixed(out, size)
        return
    r = random.Random(12)
    blocks, total, sec = [], 0, 0
    while total < size:
        sec += 1
        b = ["# %d %s %s" % (sec, r.choice(WORDS).capitalize(), r.choice(WORDS))]
        for _ in range(r.randint(1, 9)):
            if r.random() < 0.15:
                b.extend("- " + sentence(r) for _ in range(r.randint(2, 6)))
            else:
                b.append(paragraph(r))
        blocks.extend(b)
        total += sum(len(x.encode()) + 2 for x in b)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(blocks))


main()
