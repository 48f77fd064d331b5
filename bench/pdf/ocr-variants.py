#!/usr/bin/python3
"""bench/pdf/ocr-variants.py CORPUS OUTDIR: scans made from the corpus's two TIFF
pages (phototest.tif, eurotext.tif) and its JPEG page the way scans come in
practice, each with its ground truth copied beside it, for bench/pdf/ocr-f1.sh:
no resolution in the TIFF, a wrong one (72 dpi), grey instead of 1-bit, G4
compression, a page scanned 1 to 4 degrees askew (grey, and thresholded to
1-bit), a page at half resolution.  Needs Debian's python3-pil.
"""
import os
import shutil
import sys

from PIL import Image

corpus, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def save(im, name, src, **kw):
    im.save(os.path.join(out, name), **kw)
    shutil.copy(os.path.join(corpus, src + ".gt.txt"), os.path.join(out, name + ".gt.txt"))


def bw(im):
    return im.point(lambda v: 255 if v > 128 else 0).convert("1")


p = Image.open(os.path.join(corpus, "phototest.tif"))
e = Image.open(os.path.join(corpus, "eurotext.tif"))
j = Image.open(os.path.join(corpus, "layout-parser-paper-with-table.jpg"))
save(p, "photo-nodpi.tif", "phototest.tif")
save(p.convert("L"), "photo-grey.tif", "phototest.tif", dpi=(200, 200))
save(p.convert("L").resize((320, 240), Image.LANCZOS), "photo-half.tif", "phototest.tif",
     dpi=(100, 100))
save(e, "euro-nodpi.tif", "eurotext.tif")
save(e, "euro-g4.tif", "eurotext.tif", compression="group4", dpi=(300, 300))
save(e, "euro-72dpi.tif", "eurotext.tif", dpi=(72, 72))
save(j, "layout-72dpi.jpg", "layout-parser-paper-with-table.jpg", dpi=(72, 72))
for a in (1.0, 1.5, 2.5, -4.0):
    for im, name, src, dpi in ((p, "photo", "phototest.tif", 200), (e, "euro", "eurotext.tif", 300)):
        turned = im.convert("L").rotate(a, resample=Image.BICUBIC, fillcolor=255, expand=True)
        save(turned, "%s-skew%+.1f-grey.tif" % (name, a), src, dpi=(dpi, dpi))
        save(bw(turned), "%s-skew%+.1f-1bit.tif" % (name, a), src, dpi=(dpi, dpi),
             compression="group4")
