#!/usr/bin/env python3
"""bench_export.py - the export benchmark's Python side: the same records as
bench_export.c (same generator, same order of draws), written the way a
Python pipeline writes them, with the standard library's json.

  bench_export.py jsonl N DIR     one json.dumps per record, a line each
  bench_export.py coco N DIR      COCO instances: json.dump of the whole dict
                                  (compact, the C encoder; --indent 2 for
                                  moat's layout, Python's pure-Python encoder)

The records are made before the clock starts; the write is timed, as in
bench_export.c, and ends with the file flushed and fsynced (moat fsyncs too).
Prints one JSON line like bench_export.c (rates per CPU second: time.process_time).
"""
import json
import os
import sys
import time

MASK = (1 << 64) - 1
state = 42


def nxt():
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) & MASK
    return state >> 33


WORDS = ["the", "claim", "was", "filed", "by", "Zoë", "Müller", "in", "São", "Paulo", "on",
         "Monday", "café", "naïve", "東京", "report", "\"urgent\"", "payment", "of", "€1,200",
         "and", "policy", "number", "reviewed", "Ørsted", "قطر", "🙂", "delayed", "because",
         "storm", "damage", "roof"]
LABELS = ["claim", "complaint", "inquiry", "fraud"]
SPAN_LABELS = ["PER", "LOC", "ORG", "MONEY"]


def gen_records(n):
    out = []
    for r in range(n):
        nw = 8 + nxt() % 33
        wi = [nxt() % 32 for _ in range(nw)]
        nl_at = nxt() % 7
        parts, cpos, cp = [], [], 0
        for j in range(nw):
            if j:
                parts.append("\n" if (r % 5 == 0 and j == nl_at) else " ")
                cp += 1
            cpos.append(cp)
            parts.append(WORDS[wi[j]])
            cp += len(WORDS[wi[j]])
        text = "".join(parts) + "."
        label = LABELS[nxt() % 4]
        spans = []
        for _ in range(1 + nxt() % 3):
            k = nxt() % nw
            spans.append([cpos[k], cpos[k] + len(WORDS[wi[k]]), SPAN_LABELS[nxt() % 4]])
        page = 1 + nxt() % 40
        source = nxt() % 1000
        out.append({"id": "doc-%d#%d" % (r // 8, r % 8), "text": text,
                    "metadata": {"element": "paragraph", "page": page,
                                 "source": "docs/file-%d.pdf" % source},
                    "labels": [label], "spans": spans})
    return out


def gen_coco(n):
    images, anns = [], []
    cats = [{"id": c + 1, "name": "category-%02d" % c, "supercategory": ""} for c in range(80)]
    boxes = 0
    for i in range((n + 4) // 5):
        images.append({"id": i + 1, "file_name": "images/img_%07d.jpg" % i,
                       "width": 640, "height": 480})
        for _ in range(5):
            if boxes >= n:
                break
            x = nxt() % 600
            y = nxt() % 440
            w = 1 + nxt() % (640 - x)
            h = 1 + nxt() % (480 - y)
            c = nxt() % 80
            boxes += 1
            anns.append({"id": boxes, "image_id": i + 1, "category_id": c + 1,
                         "segmentation": [], "area": w * h, "bbox": [x, y, w, h],
                         "iscrowd": 0})
    return {"info": {"description": "exported by python"}, "licenses": [],
            "images": images, "annotations": anns, "categories": cats}, len(images)


def main():
    mode, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    indent = 2 if "--indent" in sys.argv else None
    if mode == "jsonl":
        recs = gen_records(n)
        path = os.path.join(d, "train.jsonl")
        t0, c0 = time.perf_counter(), time.process_time()
        with open(path, "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        t1, c1 = time.perf_counter(), time.process_time()
        extra = {}
    else:
        coco, images = gen_coco(n)
        os.makedirs(os.path.join(d, "annotations"), exist_ok=True)
        path = os.path.join(d, "annotations", "instances_train.json")
        t0, c0 = time.perf_counter(), time.process_time()
        with open(path, "w", encoding="utf-8") as f:
            json.dump(coco, f, indent=indent)
            f.flush()
            os.fsync(f.fileno())
        t1, c1 = time.perf_counter(), time.process_time()
        extra = {"images": images}
    size = os.path.getsize(path)
    res = {"tool": "python", "format": mode + (" (indent 2)" if indent else ""), "records": n}
    res.update(extra)
    res.update({"bytes": size, "seconds": round(t1 - t0, 4), "cpu_seconds": round(c1 - c0, 4),
                "records_per_s": round(n / (c1 - c0)), "mb_per_s": round(size / 1e6 / (c1 - c0), 1)})
    print(json.dumps(res))


if __name__ == "__main__":
    main()
