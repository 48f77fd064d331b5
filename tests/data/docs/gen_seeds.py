#!/usr/bin/env python3
"""gen_seeds.py - writes the seed corpora of tests/fuzz/fuzz_ooxml.c and
tests/fuzz/fuzz_email.c: small, valid Office packages and e-mails that reach
every branch of the readers (styles, numbering, tables with merged cells,
headers, notes, shared strings, dates, slides with notes; MIME nesting,
encodings, charsets, attachments), plus a few broken ones.  Run it from the
repository root; it overwrites the files it writes and nothing else.
"""
import io
import os
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
OOXML = os.path.join(ROOT, "tests", "fuzz", "corpus", "fuzz_ooxml")
EMAIL = os.path.join(ROOT, "tests", "fuzz", "corpus", "fuzz_email")
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
W = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
P = ('xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
     'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"')
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def ct(part, kind):
    return ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/%s" ContentType="application/vnd.openxmlformats-officedocument.%s+xml"/></Types>'
            % (part, kind))


def rels(*items):
    return ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join('<Relationship Id="%s" Type="%s%s" Target="%s"/>' % (i, RT, t, tg) for i, t, tg in items)
            + "</Relationships>")


def package(name, parts):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts:
            z.writestr(n, data)
    with open(os.path.join(OOXML, name), "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


def docx():
    doc = ('<w:document %s><w:body>'
           '<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Title</w:t></w:r></w:p>'
           '<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Head</w:t></w:r></w:p>'
           '<w:p><w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr></w:pPr>'
           '<w:r><w:t>item</w:t><w:tab/><w:br/><w:sym w:char="F0B7"/></w:r>'
           '<w:ins><w:r><w:t>new</w:t></w:r></w:ins><w:del><w:r><w:delText>old</w:delText></w:r></w:del>'
           '<w:hyperlink r:id="x"><w:r><w:t>link</w:t></w:r></w:hyperlink></w:p>'
           '<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/><w:vMerge w:val="restart"/></w:tcPr>'
           '<w:p><w:r><w:t>a</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>nested</w:t></w:r></w:p>'
           '</w:tc></w:tr></w:tbl></w:tc></w:tr><w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>'
           '<w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
           '<w:sdt><w:sdtContent><w:p><w:r><w:t>in sdt</w:t></w:r></w:p></w:sdtContent></w:sdt>'
           '<w:p><w:r><w:drawing><w:txbxContent><w:p><w:r><w:t>text box</w:t></w:r></w:p></w:txbxContent>'
           '</w:drawing></w:r></w:p>'
           '<w:sectPr><w:headerReference w:type="first" r:id="h"/><w:footerReference w:type="default" r:id="f"/>'
           '</w:sectPr></w:body></w:document>') % W
    styles = ('<w:styles %s><w:style w:styleId="Title"><w:name w:val="Title"/></w:style>'
              '<w:style w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Title"/></w:style>'
              '<w:style w:styleId="L"><w:name w:val="List Bullet"/><w:pPr><w:numPr><w:numId w:val="1"/>'
              '</w:numPr></w:pPr></w:style></w:styles>') % W
    numbering = ('<w:numbering %s><w:abstractNum w:abstractNumId="4"><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/>'
                 '</w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="4"/></w:num></w:numbering>') % W
    package("sample.docx", [
        ("[Content_Types].xml", ct("word/document.xml", "wordprocessingml.document.main")),
        ("_rels/.rels", rels(("r1", "officeDocument", "word/document.xml"))),
        ("word/document.xml", doc),
        ("word/_rels/document.xml.rels", rels(("s", "styles", "styles.xml"), ("n", "numbering", "numbering.xml"),
                                              ("h", "header", "header1.xml"), ("f", "footer", "../word/footer1.xml"),
                                              ("fn", "footnotes", "footnotes.xml"), ("c", "comments", "comments.xml"))),
        ("word/styles.xml", styles), ("word/numbering.xml", numbering),
        ("word/header1.xml", '<w:hdr %s><w:p><w:r><w:t>Header</w:t></w:r></w:p></w:hdr>' % W),
        ("word/footer1.xml", '<w:ftr %s><w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:ftr>' % W),
        ("word/footnotes.xml", '<w:footnotes %s><w:footnote w:id="1"><w:p><w:r><w:t>note</w:t></w:r></w:p></w:footnote></w:footnotes>' % W),
        ("word/comments.xml", '<w:comments %s><w:comment w:id="1" w:author="A"><w:p><w:r><w:t>c</w:t></w:r></w:p></w:comment></w:comments>' % W),
        ("docProps/core.xml", '<cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:title>T</dc:title><dc:creator>C</dc:creator></cp:coreProperties>'),
    ])
    # one broken: a DTD, and a package cut short
    data = package("dtd.docx", [
        ("[Content_Types].xml", ct("word/document.xml", "wordprocessingml.document.main")),
        ("word/document.xml", '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><w:document %s>&a;</w:document>' % W)])
    with open(os.path.join(OOXML, "cut.docx"), "wb") as f:
        f.write(data[:len(data) * 2 // 3])


def xlsx():
    package("sample.xlsx", [
        ("[Content_Types].xml", ct("xl/workbook.xml", "spreadsheetml.sheet.main")),
        ("_rels/.rels", rels(("r1", "officeDocument", "xl/workbook.xml"))),
        ("xl/workbook.xml", '<workbook %s xmlns:r="%s"><workbookPr date1904="1"/><sheets>'
                            '<sheet name="One" sheetId="1" r:id="a"/><sheet name="Two" state="hidden" sheetId="2" r:id="b"/>'
                            '</sheets></workbook>' % (S, RT[:-14])),
        ("xl/_rels/workbook.xml.rels", rels(("a", "worksheet", "worksheets/sheet1.xml"),
                                            ("b", "worksheet", "/xl/worksheets/sheet2.xml"),
                                            ("s", "sharedStrings", "sharedStrings.xml"), ("t", "styles", "styles.xml"))),
        ("xl/sharedStrings.xml", '<sst %s><si><t>name</t></si><si><r><t>ri</t></r><r><t>ch</t></r><rPh><t>x</t></rPh></si></sst>' % S),
        ("xl/styles.xml", '<styleSheet %s><numFmts><numFmt numFmtId="200" formatCode="yyyy-mm-dd h:mm"/></numFmts>'
                          '<cellXfs><xf numFmtId="0"/><xf numFmtId="200"/><xf numFmtId="46"/></cellXfs></styleSheet>' % S),
        ("xl/worksheets/sheet1.xml", '<worksheet %s><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
                                     '<c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>99</v></c></row>'
                                     '<row r="2"><c r="A2" s="1"><v>45000.5</v></c><c r="B2" s="2"><v>1.25</v></c>'
                                     '<c r="C2" t="e"><v>#DIV/0!</v></c><c r="D2" t="str"><v>f</v></c></row>'
                                     '<row r="9"><c r="XFD9" t="b"><v>0</v></c><c r="A9"><v>1e300</v></c></row>'
                                     '</sheetData></worksheet>' % S),
        ("xl/worksheets/sheet2.xml", '<worksheet %s><sheetData><row><c r="ZZ"><v>x</v></c></row></sheetData></worksheet>' % S),
    ])


def pptx():
    def sp(ph, y, body):
        return ('<p:sp><p:nvSpPr><p:cNvPr id="2" name="x"/><p:cNvSpPr/><p:nvPr>%s</p:nvPr></p:nvSpPr>'
                '<p:spPr><a:xfrm><a:off x="10" y="%d"/></a:xfrm></p:spPr><p:txBody>%s</p:txBody></p:sp>' % (ph, y, body))
    slide = ('<p:sld %s><p:cSld><p:spTree>' % P
             + sp('<p:ph idx="1"/>', 500, '<a:p><a:pPr lvl="2"><a:buAutoNum type="arabicPeriod"/></a:pPr>'
                  '<a:r><a:t>one</a:t></a:r><a:br/><a:r><a:t>two</a:t></a:r></a:p><a:p><a:pPr><a:buNone/></a:pPr>'
                  '<a:fld><a:t>7</a:t></a:fld></a:p>')
             + sp('<p:ph type="ctrTitle"/>', 10, '<a:p><a:r><a:t>Title</a:t></a:r></a:p>')
             + '<p:grpSp>' + sp('<p:ph type="subTitle"/>', 50, '<a:p><a:r><a:t>sub</a:t></a:r></a:p>') + '</p:grpSp>'
             + '<p:graphicFrame><p:nvGraphicFramePr/><p:xfrm><a:off x="1" y="900"/></p:xfrm><a:graphic><a:graphicData>'
               '<a:tbl><a:tr><a:tc gridSpan="2"><a:txBody><a:p><a:r><a:t>h</a:t></a:r></a:p></a:txBody></a:tc>'
               '<a:tc hMerge="1"/></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>'
             + '</p:spTree></p:cSld></p:sld>')
    notes = '<p:notes %s><p:cSld><p:spTree>%s</p:spTree></p:cSld></p:notes>' % (
        P, sp('<p:ph type="body" idx="1"/>', 0, '<a:p><a:r><a:t>say this</a:t></a:r></a:p>'))
    package("sample.pptx", [
        ("[Content_Types].xml", ct("ppt/presentation.xml", "presentationml.presentation.main")),
        ("_rels/.rels", rels(("r1", "officeDocument", "ppt/presentation.xml"))),
        ("ppt/presentation.xml", '<p:presentation %s><p:sldIdLst><p:sldId id="256" r:id="s1"/>'
                                 '<p:sldId id="257" r:id="s1"/><p:sldId id="258" r:id="nope"/></p:sldIdLst></p:presentation>' % P),
        ("ppt/_rels/presentation.xml.rels", rels(("s1", "slide", "slides/slide1.xml"))),
        ("ppt/slides/slide1.xml", slide),
        ("ppt/slides/_rels/slide1.xml.rels", rels(("n", "notesSlide", "../notesSlides/notesSlide1.xml"))),
        ("ppt/notesSlides/notesSlide1.xml", notes),
    ])


def emails():
    mails = {
        "plain.eml": "From: a@example.org\nTo: b@example.org\nSubject: hi\n\nHello.\n\n- one\n- two\n",
        "alternative.eml": (
            "From: =?UTF-8?B?w4lsaWU=?= <e@example.org>\r\nSubject: =?iso-8859-1?q?caf=E9?= =?utf-8?q?_ok?=\r\n"
            "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            "<p>caf=E9 =\r\nau lait</p>\r\n--b1\r\nContent-Type: text/plain; charset=\"koi8-r\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n8NLJ18XU\r\n--b1--\r\n"),
        "mixed.eml": (
            "From: x@example.org\nSubject: files\nContent-Type: multipart/mixed; boundary=OUT\n\n"
            "--OUT\nContent-Type: text/plain\n\nbody\n--OUT\nContent-Type: text/csv; name=\"t.csv\"\n"
            "Content-Disposition: attachment; filename*=utf-8''%C3%A9t%C3%A9.csv\n\na,b\n1,2\n"
            "--OUT\nContent-Type: message/rfc822\n\nFrom: in@example.org\nSubject: inner\n"
            "Content-Type: multipart/mixed; boundary=IN\n\n--IN\nContent-Type: text/plain\n\ninner body\n--IN--\n"
            "--OUT\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC\n--OUT--\n"),
        "noboundary.eml": "From: x@example.org\nContent-Type: multipart/mixed\n\nnothing\n",
        "unclosed.eml": "From: x@example.org\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\ncut",
        "headers-only.eml": "From: x@example.org\nSubject: folded\n line\n\tagain\nX-Empty:\n",
    }
    deep = "From: a@example.org\nSubject: deep\n"
    for i in range(20):
        deep += "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i)
    mails["deep.eml"] = deep + "Content-Type: text/plain\n\nbottom\n"
    for n, m in mails.items():
        with open(os.path.join(EMAIL, n), "w", encoding="utf-8", newline="") as f:
            f.write(m)


if __name__ == "__main__":
    os.makedirs(OOXML, exist_ok=True)
    os.makedirs(EMAIL, exist_ok=True)
    docx()
    xlsx()
    pptx()
    emails()
