#!/usr/bin/env python3
"""mkpdf.py - writes the small PDFs the document ingest tests read, with nothing but
Python's standard library: base-14 fonts for Latin text, an embedded TrueType font
(Identity-H, with a ToUnicode map) for Hebrew, ruling lines, /Rotate, and a JPEG
drawn as a scanned page.

  mkpdf.py OUTDIR [JPEG]      writes twocol.pdf, struct.pdf, rtl.pdf, rotated.pdf,
                              and scans.pdf when a JPEG is given

Each file is built to check one thing; see tests/cli/ingest_docs.sh for what.
Text is placed by top-left coordinates (y grows downward) on US Letter pages.
"""
import os
import struct
import sys
import zlib

W, H = 612, 792


class Font:
    """A TrueType font for Identity-H text: glyph ids, widths, ToUnicode."""

    def __init__(self, path):
        self.data = open(path, "rb").read()
        n = struct.unpack(">H", self.data[4:6])[0]
        self.tables = {}
        for i in range(n):
            tag, _, off, ln = struct.unpack(">4sIII", self.data[12 + 16 * i:28 + 16 * i])
            self.tables[tag.decode("latin-1")] = (off, ln)
        head = self.tables["head"][0]
        self.upm = struct.unpack(">H", self.data[head + 18:head + 20])[0]
        hhea = self.tables["hhea"][0]
        self.nhm = struct.unpack(">H", self.data[hhea + 34:hhea + 36])[0]
        self.cmap = self._cmap()
        self.used = {}

    def _cmap(self):
        off = self.tables["cmap"][0]
        n = struct.unpack(">H", self.data[off + 2:off + 4])[0]
        for i in range(n):
            pid, eid, sub = struct.unpack(">HHI", self.data[off + 4 + 8 * i:off + 12 + 8 * i])
            if pid == 3 and eid == 1:
                return self._format4(off + sub)
        raise SystemExit("no Unicode cmap")

    def _format4(self, o):
        d = self.data
        segx2 = struct.unpack(">H", d[o + 6:o + 8])[0]
        ends = o + 14
        starts = ends + segx2 + 2
        deltas = starts + segx2
        ranges = deltas + segx2
        m = {}
        for s in range(segx2 // 2):
            end = struct.unpack(">H", d[ends + 2 * s:ends + 2 * s + 2])[0]
            start = struct.unpack(">H", d[starts + 2 * s:starts + 2 * s + 2])[0]
            delta = struct.unpack(">h", d[deltas + 2 * s:deltas + 2 * s + 2])[0]
            ro = struct.unpack(">H", d[ranges + 2 * s:ranges + 2 * s + 2])[0]
            for c in range(start, min(end, 0xFFFE) + 1):
                if ro == 0:
                    g = (c + delta) & 0xFFFF
                else:
                    a = ranges + 2 * s + ro + 2 * (c - start)
                    g = struct.unpack(">H", d[a:a + 2])[0]
                    if g:
                        g = (g + delta) & 0xFFFF
                if g:
                    m[c] = g
        return m

    def width(self, gid):
        hm = self.tables["hmtx"][0]
        i = min(gid, self.nhm - 1)
        return struct.unpack(">H", self.data[hm + 4 * i:hm + 4 * i + 2])[0] * 1000 // self.upm

    def encode(self, text):
        out = ""
        for ch in text:
            g = self.cmap.get(ord(ch), 0)
            self.used[g] = ch
            out += "%04X" % g
        return "<" + out + ">"


class Page:
    def __init__(self, rotate=0):
        self.ops = []
        self.rotate = rotate
        self.image = None

    def text(self, x, y, size, s, font="F1"):
        s = s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        self.ops.append("BT /%s %g Tf %g %g Td (%s) Tj ET" % (font, size, x, H - y, s))

    def utext(self, x, y, size, font, visual):
        """Text in the embedded font, glyphs left to right as given (visual order)."""
        self.ops.append("BT /F3 %g Tf %g %g Td %s Tj ET" % (size, x, H - y, font.encode(visual)))

    def hline(self, x0, x1, y, w=0.6):
        self.ops.append("%g w %g %g m %g %g l S" % (w, x0, H - y, x1, H - y))

    def vline(self, x, y0, y1, w=0.6):
        self.ops.append("%g w %g %g m %g %g l S" % (w, x, H - y0, x, H - y1))


def jpeg_size(data):
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        ln = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h, data[i + 9]
        i += 2 + ln
    raise SystemExit("not a JPEG")


def write(path, pages, ufont=None):
    objs = []

    def add(body):
        objs.append(body)
        return len(objs)

    catalog = add(None)
    pages_id = add(None)
    f1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    f2 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    f3 = None
    kids = []
    page_ids = []
    for p in pages:
        content = "\n".join(p.ops).encode("latin-1")
        xobj = ""
        if p.image:
            data, w, h, comps = p.image
            cs = "/DeviceGray" if comps == 1 else "/DeviceRGB"
            im = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                     b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
                     % (w, h, cs.encode(), len(data)) + data + b"\nendstream")
            xobj = " /XObject << /Im1 %d 0 R >>" % im
        c = zlib.compress(content)
        cid = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(c) + c + b"\nendstream")
        page_ids.append((cid, xobj, p.rotate))
    if ufont and ufont.used:
        ff = zlib.compress(ufont.data)
        ffid = add(b"<< /Length %d /Length1 %d /Filter /FlateDecode >>\nstream\n"
                   % (len(ff), len(ufont.data)) + ff + b"\nendstream")
        desc = add(b"<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 1232]"
                   b" /ItalicAngle 0 /Ascent 928 /Descent -236 /CapHeight 700 /StemV 80 /FontFile2 %d 0 R >>" % ffid)
        widths = " ".join("%d [%d]" % (g, ufont.width(g)) for g in sorted(ufont.used))
        cidf = add(("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans /CIDSystemInfo"
                    " << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R"
                    " /CIDToGIDMap /Identity /W [%s] >>" % (desc, widths)).encode())
        lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
                 "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                 "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
                 "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange",
                 "%d beginbfchar" % len(ufont.used)]
        for g, ch in sorted(ufont.used.items()):
            lines.append("<%04X> <%04X>" % (g, ord(ch)))
        lines += ["endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        cm = "\n".join(lines).encode()
        tu = add(b"<< /Length %d >>\nstream\n" % len(cm) + cm + b"\nendstream")
        f3 = add(("<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H"
                  " /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cidf, tu)).encode())
    fonts = "/F1 %d 0 R /F2 %d 0 R" % (f1, f2) + (" /F3 %d 0 R" % f3 if f3 else "")
    for cid, xobj, rot in page_ids:
        kids.append(add(("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Rotate %d"
                         " /Resources << /Font << %s >>%s >> /Contents %d 0 R >>"
                         % (pages_id, W, H, rot, fonts, xobj, cid)).encode()))
    objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    objs[pages_id - 1] = ("<< /Type /Pages /Kids [%s] /Count %d >>"
                          % (" ".join("%d 0 R" % k for k in kids), len(kids))).encode()
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, catalog, xref)
    with open(path, "wb") as f:
        f.write(out)


def twocol(out):
    """Two pages: a title across the page, two columns whose lines are drawn
    interleaved (left, right, left...) so only layout analysis gets the order
    right, a running header and a page number footer on each page."""
    pages = []
    for n in (1, 2):
        p = Page()
        p.text(72, 40, 9, "Journal of Layout Tests, Volume 7")
        if n == 1:
            p.text(150, 90, 20, "A Study of Two Column Reading", "F2")
        y = 140
        for i in range(1, 25):
            p.text(72, y, 10, "Left column sentence number %d of page %d here." % (i, n))
            p.text(324, y, 10, "Right column sentence number %d of page %d here." % (i, n))
            y += 13
        p.text(300, 760, 9, str(n))
        pages.append(p)
    write(os.path.join(out, "twocol.pdf"), pages)


def structured(out):
    """Headings of three sizes, a hyphenated paragraph, a bulleted list, a ruled
    table with its caption, an unruled aligned table, a figure caption."""
    p = Page()
    p.text(72, 72, 24, "Quarterly Report", "F2")
    p.text(72, 110, 16, "1 Introduction", "F2")
    body = ["This paragraph explains the purpose of the report and gives an exam-",
            "ple of a word broken across two lines, which must come out whole.",
            "It ends here."]
    y = 130
    for line in body:
        p.text(72, y, 10, line)
        y += 12
    p.text(72, y + 14, 13, "1.1 Background", "F2")
    y += 34
    p.text(72, y, 10, "The background section has one paragraph of text that is plain.")
    y += 24
    for item in ("first bullet item of the list", "second bullet item of the list"):
        p.text(80, y, 10, "\x95 " + item)  # WinAnsi 0x95 is the bullet
        y += 14
    y += 16
    p.text(72, y, 10, "Table 1: Results of the ruled test")
    y += 10
    rows = [["Name", "Score", "Rank"], ["Alpha", "91", "1"], ["Beta", "85", "2"]]
    xs = [72, 200, 300, 400]
    top = y
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            p.text(xs[c] + 6, y + 14, 10, cell, "F2" if r == 0 else "F1")
        y += 20
    for k in range(len(rows) + 1):
        p.hline(xs[0], xs[-1], top + 20 * k)
    for x in xs:
        p.vline(x, top, top + 20 * len(rows))
    y += 30
    p.text(72, y, 10, "Measured values without rules follow.")
    y += 20
    plain = [["City", "Population", "Area"], ["Springfield", "30720", "115"],
             ["Shelbyville", "27400", "98"], ["Capital City", "120500", "330"]]
    for row in plain:
        for c, cell in enumerate(row):
            p.text([72, 220, 360][c], y, 10, cell)
        y += 14
    y += 20
    p.text(72, y, 10, "Figure 1: A figure caption under nothing")
    write(os.path.join(out, "struct.pdf"), [p])


def rtl(out):
    """Hebrew drawn in visual order (glyphs left to right, as typesetters draw
    it), alone and mixed with Latin and digits."""
    font = Font("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    p = Page()
    p.utext(72, 100, 14, font, "שלום עולם"[::-1])
    # logical "שנת 2024 טובה": digits keep their order inside the reversed line
    p.utext(72, 140, 14, font, "טובה"[::-1] + " 2024 " + "שנת"[::-1])
    p.text(72, 180, 12, "Plain English line.")
    write(os.path.join(out, "rtl.pdf"), [p], font)


def rotated(out):
    """A page with /Rotate 90 whose text reads upright once rotated."""
    p = Page(rotate=90)
    # draw text turned so that after a 90 degree clockwise display rotation it is upright
    p.ops.append("BT /F1 14 Tf 0 1 -1 0 300 200 Tm (Rotated page text reads upright) Tj ET")
    write(os.path.join(out, "rotated.pdf"), [p])


def scans(out, jpeg):
    """Two scanned pages (read by OCR in parallel with -j 2): the first stored
    sideways, the image drawn turned a quarter and the page's /Rotate 90 turning it
    back for display; the second upright."""
    data = open(jpeg, "rb").read()
    w, h, comps = jpeg_size(data)
    p = Page(rotate=90)
    # fit the image, turned, inside the page
    s = min(W / h, H / w)
    p.ops.append("q 0 %g %g 0 %g 0 cm /Im1 Do Q" % (w * s, -h * s, h * s))
    p.image = (data, w, h, comps)
    q = Page()
    s = min(W / w, H / h)
    q.ops.append("q %g 0 0 %g 0 %g cm /Im1 Do Q" % (w * s, h * s, H - h * s))
    q.image = (data, w, h, comps)
    write(os.path.join(out, "scans.pdf"), [p, q])


def main(argv):
    if not argv:
        sys.stderr.write(__doc__)
        return 2
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    twocol(out)
    structured(out)
    rtl(out)
    rotated(out)
    if len(argv) > 1:
        scans(out, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
