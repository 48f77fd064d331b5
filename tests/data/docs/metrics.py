#!/usr/bin/env python3
"""metrics.py - text metrics for the document ingest tests (tests/cli/ingest_docs*.sh).

  metrics.py text MOAT DOCREF [--body]   the document's text from `moat show --json`
                                         (--body: without header, footer, page_break)
  metrics.py f1 GT PRED                  word-level F1 (bag of words, case-folded)
  metrics.py cer GT PRED                 character error rate, whitespace collapsed
  metrics.py json MOAT DOCREF            the raw `moat show --json` of a document

Words are runs of Unicode letters and digits (so Markdown marks, table pipes and
punctuation in a ground truth do not count).  F1 is 2PR/(P+R) over the multisets of
words.  CER is the Levenshtein distance between the two texts, each with runs of
whitespace made one space, divided by the length of the ground truth.
"""
import collections
import json
import re
import subprocess
import sys


def show(moat, ref):
    out = subprocess.run([moat, "show", ref, "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def doc_text(moat, ref, body):
    d = show(moat, ref)
    skip = {"header", "footer", "page_break"} if body else set()
    return "\n\n".join(e["text"] for e in d["elements"] if e["type"] not in skip)


def words(s):
    return re.findall(r"\w+", s.lower())


def f1(gt, pred):
    g, p = collections.Counter(words(gt)), collections.Counter(words(pred))
    common = sum((g & p).values())
    if not common:
        return 0.0
    prec, rec = common / sum(p.values()), common / sum(g.values())
    return 2 * prec * rec / (prec + rec)


def cer(gt, pred):
    a = " ".join(gt.split())
    b = " ".join(pred.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[len(b)] / max(1, len(a))


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def main(argv):
    if len(argv) >= 3 and argv[0] == "text":
        sys.stdout.write(doc_text(argv[1], argv[2], "--body" in argv[3:]))
    elif len(argv) == 3 and argv[0] == "json":
        json.dump(show(argv[1], argv[2]), sys.stdout, ensure_ascii=False)
    elif len(argv) == 3 and argv[0] == "f1":
        print("%.4f" % f1(read(argv[1]), read(argv[2])))
    elif len(argv) == 3 and argv[0] == "cer":
        print("%.4f" % cer(read(argv[1]), read(argv[2])))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
