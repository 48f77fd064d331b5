#!/usr/bin/env python3
"""Ports the test cases of Presidio's pattern recognizers to presidio_cases.jsonl.

usage: port_presidio.py PRESIDIO_CHECKOUT > presidio_cases.jsonl

Reads presidio-analyzer/tests/test_*.py without importing them: the literal
lists of each @pytest.mark.parametrize whose rows hold a text and an expected
count (and, where given, the expected spans), and the entity the file's
`entities` fixture names.  Blocks that test a non-default configuration
(strict modes, phone leniency, validator-only tables) are skipped; see SKIP.
Offsets are Python string indices, i.e. code points, as moat reports.
"""
import ast
import json
import os
import sys

TEXT_KEYS = ("text", "iban")
POS_KEYS = ("expected_positions", "expected_position", "expected_res")
# functions testing another configuration than the default recognizer
SKIP = {
    "test_phone_recognizer.py": {"test_when_phone_with_leniency_then_succeed",
                                 "test_get_analysis_explanation_multiple_regions"},
}
SKIP_FUNC_WORDS = ("strict", "leniency", "context", "validate", "checksum", "invalidate",
                   "explanation", "textual")
ENTITY_ALIAS = {"PH_MOBILE_NUMBER": "PHONE_NUMBER", "TR_PHONE_NUMBER": "PHONE_NUMBER"}
NON_PATTERN = ("test_spacy", "test_stanza", "test_transformers", "test_gliner", "test_huggingface",
               "test_ahds", "test_azure", "test_langextract", "test_basic_langextract",
               "test_medical_ner", "test_lm_", "test_pattern_recognizer", "test_entity_recognizer")


def fixture_entity(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "entities":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Return) and isinstance(sub.value, ast.List):
                    return [ast.literal_eval(e) for e in sub.value.elts]
    return None


def module_constants(tree):
    """Module-level NAME = <expression without calls>, for rows that use them."""
    consts = {"__helpers__": set()}
    for node in tree.body:
        # helpers that compute check digits for the cases (no imports)
        if (isinstance(node, ast.FunctionDef) and not node.decorator_list and
                not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(node))):
            ns = {"__builtins__": {"int": int, "str": str, "len": len, "range": range,
                                   "sum": sum, "enumerate": enumerate, "reversed": reversed,
                                   "zip": zip, "ord": ord, "chr": chr, "map": map,
                                   "list": list}}
            try:
                exec(compile(ast.Module([node], []), "<helper>", "exec"), ns)
            except Exception:
                continue
            consts[node.name] = ns[node.name]
            consts["__helpers__"].add(node.name)
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and
                isinstance(node.targets[0], ast.Name) and
                True):
            try:
                consts[node.targets[0].id] = value(node.value, consts)
            except Exception:
                pass
    return consts


def value(node, consts):
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name) and
                                            n.func.id in consts["__helpers__"]):
            raise ValueError("not a literal")
        if isinstance(n, ast.Lambda):
            raise ValueError("not a literal")
    return eval(compile(ast.Expression(node), "<row>", "eval"), {"__builtins__": {}}, dict(consts))


def spans_of(v):
    if v is None:
        return None
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return [list(v)]
    out = []
    for s in v:
        if isinstance(s, (list, tuple)) and len(s) >= 2 and isinstance(s[0], int):
            out.append([s[0], s[1]])
    return out


def main():
    root = os.path.join(sys.argv[1], "presidio-analyzer", "tests")
    for name in sorted(os.listdir(root)):
        if not name.startswith("test_") or not name.endswith(".py") or name.startswith(NON_PATTERN):
            continue
        tree = ast.parse(open(os.path.join(root, name), encoding="utf-8").read())
        ents = fixture_entity(tree)
        consts = module_constants(tree)
        for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            if fn.name in SKIP.get(name, ()) or any(w in fn.name for w in SKIP_FUNC_WORDS):
                continue
            for dec in fn.decorator_list:
                if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"):
                    continue
                cols = ast.literal_eval(dec.args[0])
                if isinstance(cols, str):
                    cols = cols.split(",")
                cols = [c.strip() for c in cols]
                tk = next((k for k in TEXT_KEYS if k in cols), None)
                if not tk or "expected_len" not in cols:
                    continue
                for row in dec.args[1].elts:
                    try:
                        vals = value(row, consts)
                    except Exception:
                        continue
                    if not isinstance(vals, tuple) or len(vals) != len(cols):
                        continue
                    r = dict(zip(cols, vals))
                    ent = r.get("entities") or ents
                    if not ent:
                        continue
                    # PhoneRecognizer configured for one region reports these as
                    # phone numbers; its negatives hold for that region only
                    if ent[0] in ENTITY_ALIAS and not r["expected_len"]:
                        continue
                    ent = [ENTITY_ALIAS.get(e, e) for e in ent]
                    pk = next((k for k in POS_KEYS if k in cols), None)
                    spans = spans_of(r[pk]) if pk else None
                    if "expected_start" in cols and r["expected_len"]:
                        spans = [[r["expected_start"], r["expected_end"]]]
                    n = r["expected_len"]
                    if spans is not None and len(spans) != n:
                        spans = spans if len(spans) else None
                    print(json.dumps({"source": "%s::%s" % (name, fn.name), "entity": ent[0],
                                      "text": r[tk], "n": n, "spans": spans},
                                     ensure_ascii=False))


if __name__ == "__main__":
    main()
