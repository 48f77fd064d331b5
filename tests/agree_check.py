#!/usr/bin/env python3
"""agree_check.py AGREE_DUMP - label/agree's figures against scikit-learn and
NLTK on random cases (fixed seed), to 1e-9.

Coding cases (items x coders, categories, missing codes) give per coder pair
Cohen's kappa (sklearn's cohen_kappa_score and NLTK's kappa_pairwise, both
on the items the pair coded), Fleiss' kappa (NLTK's multi_kappa on the items
every coder coded; with no missing code also NLTK's kappa(), the mean of the
pairwise kappas) and Krippendorff's alpha (NLTK's alpha on all the triples
given).  Classification cases give sklearn's accuracy_score and
f1_score(average='macro', zero_division=0).  Where NLTK raises (a division
by zero) the figure must be what agree.h documents instead.

scikit-learn and NLTK come from Debian (python3-sklearn, python3-nltk,
installed by scripts/bootstrap): when the python3 running this lacks them
(a pyenv or venv first on PATH) the script runs itself again with
/usr/bin/python3; when that lacks them too it fails, loudly, whether or not
CI is set.  The first mismatch fails the test with its case printed.
"""
import math
import os
import random
import subprocess
import sys
import warnings

try:
    import numpy as np
    from nltk.metrics.agreement import AnnotationTask
    from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score
except ImportError as e:
    if sys.executable != "/usr/bin/python3" and os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit(f"agree_check: FAILED: cannot import scikit-learn and NLTK ({e}); "
             "install python3-sklearn and python3-nltk (scripts/bootstrap does)")

TOL = 1e-9
SEED = 16
N_CODES = 400
N_CLASS = 200


def coding_case(rng):
    n_items = rng.randint(1, 30)
    n_coders = rng.randint(2, 5)
    n_cats = rng.choice([1, 2, 2, 3, 4, 6])
    p_missing = rng.choice([0.0, 0.0, 0.1, 0.3, 0.6, 0.95])
    # skewed category frequencies make single-category and near-degenerate
    # cases common enough to be tried
    weights = [rng.random() ** 2 + 0.01 for _ in range(n_cats)]
    cats = rng.sample(range(0, 40), n_cats)
    return [[-1 if rng.random() < p_missing else rng.choices(cats, weights)[0]
             for _ in range(n_coders)] for _ in range(n_items)]


def class_case(rng):
    n = rng.randint(1, 40)
    n_labels = rng.randint(1, 6)
    p_missing = rng.choice([0.0, 0.0, 0.2])
    p_right = rng.random()
    truth = [rng.randrange(n_labels) for _ in range(n)]
    pred = [-1 if rng.random() < p_missing else t if rng.random() < p_right
            else rng.randrange(n_labels) for t in truth]
    return n_labels, truth, pred


def nltk_or_nan(f):
    try:
        return float(f())
    except (ZeroDivisionError, ValueError):
        return math.nan


def expected_codes(rows):
    """[(name, expected, reference)] for one coding case."""
    n_coders = len(rows[0])
    out = []
    for a in range(n_coders):
        for b in range(a + 1, n_coders):
            both = [r for r in rows if r[a] >= 0 and r[b] >= 0]
            if not both:
                out.append((f"cohen {a} {b}", math.nan, "no item coded by both"))
                continue
            ya, yb = [r[a] for r in both], [r[b] for r in both]
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                sk = float(cohen_kappa_score(ya, yb))
            out.append((f"cohen {a} {b}", sk, "sklearn cohen_kappa_score"))
            t = AnnotationTask([(c, i, r[c]) for i, r in enumerate(both) for c in (a, b)])
            out.append((f"cohen {a} {b}", nltk_or_nan(lambda: t.kappa_pairwise(a, b)),
                        "nltk kappa_pairwise"))
    complete = [r for r in rows if all(x >= 0 for x in r)]
    if complete:
        t = AnnotationTask([(c, i, r[c]) for i, r in enumerate(complete)
                            for c in range(n_coders)])
        out.append(("fleiss", nltk_or_nan(t.multi_kappa), "nltk multi_kappa"))
        if len(complete) == len(rows):
            out.append(("mean cohen", nltk_or_nan(t.kappa), "nltk kappa"))
    else:
        out.append(("fleiss", math.nan, "no item coded by all"))
    triples = [(c, i, x) for i, r in enumerate(rows) for c, x in enumerate(r) if x >= 0]
    pairable = [x for r in rows if sum(v >= 0 for v in r) >= 2 for x in r if x >= 0]
    ref = nltk_or_nan(lambda: AnnotationTask(triples).alpha())
    if not pairable:
        out.append(("alpha", math.nan, "agree.h: no item coded twice"))
    elif math.isnan(ref):
        # NLTK divides by zero: the pairable codes are one category
        assert len(set(pairable)) == 1, rows
        out.append(("alpha", 1.0, "agree.h: pairable codes of one category"))
    else:
        out.append(("alpha", ref, "nltk alpha"))
    return out


def expected_class(n_labels, truth, pred):
    labels = sorted((set(truth) | set(pred)) - {-1})
    out = [("accuracy", float(accuracy_score(truth, pred)), "sklearn accuracy_score"),
           ("macro_f1", float(f1_score(truth, pred, labels=labels, average="macro",
                                       zero_division=0)), "sklearn f1_score(labels=...)")]
    if -1 not in pred:
        out.append(("macro_f1", float(f1_score(truth, pred, average="macro", zero_division=0)),
                    "sklearn f1_score"))
    return out


def same(x, y):
    return (math.isnan(x) and math.isnan(y)) or abs(x - y) <= TOL


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: agree_check.py AGREE_DUMP")
    rng = random.Random(SEED)
    cases, text = [], []
    for _ in range(N_CODES):
        rows = coding_case(rng)
        cases.append(("codes", rows))
        text.append(f"codes {len(rows)} {len(rows[0])}\n"
                    + "".join(" ".join(map(str, r)) + "\n" for r in rows))
    for _ in range(N_CLASS):
        n_labels, truth, pred = class_case(rng)
        cases.append(("class", (n_labels, truth, pred)))
        text.append(f"class {len(truth)} {n_labels}\n" + " ".join(map(str, truth)) + "\n"
                    + " ".join(map(str, pred)) + "\n")
    run = subprocess.run([sys.argv[1]], input="".join(text), capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"agree_check: FAILED: {sys.argv[1]} exited {run.returncode}: {run.stderr}")
    got = [{} for _ in cases]
    k = -1
    for line in run.stdout.splitlines():
        f = line.split()
        if f[0] == "case":
            k = int(f[1])
        else:
            got[k][" ".join(f[:-1])] = float(f[-1])
    n_figures = 0
    counts = {}
    for k, (kind, data) in enumerate(cases):
        want = expected_codes(data) if kind == "codes" else expected_class(*data)
        if kind == "codes":
            pairs = [v for name, v in got[k].items() if name.startswith("cohen ")]
            got[k]["mean cohen"] = math.fsum(pairs) / len(pairs)
        for name, value, source in want:
            mine = got[k].get(name)
            if mine is None or not same(mine, value):
                sys.exit(f"agree_check: FAILED: case {k} ({kind}): {name}: moat {mine!r}, "
                         f"{source} {value!r}\ncase: {data!r}")
            n_figures += 1
            counts[source] = counts.get(source, 0) + 1
    print(f"agree_check: {len(cases)} cases ({N_CODES} coding, {N_CLASS} classification), "
          f"{n_figures} figures agree to {TOL:g}:")
    for source, n in sorted(counts.items()):
        print(f"  {n:5d}  {source}")


if __name__ == "__main__":
    main()
