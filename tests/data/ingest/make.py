#!/usr/bin/python3
"""Writes the small Office files the ingest tests read (tests/unit/test_ingest_office.c):

  charts.xlsx   openpyxl: a bar chart on sheet "Sales" and a pie chart on sheet
                "Charts" whose references point back at "Sales" (openpyxl keeps no
                cached values, so the reader must follow the references)
  charts.pptx   written by hand from ECMA-376: slide 1 has a title, a bar chart
                with cached values and a text box under it; slide 2 a SmartArt
                diagram (data part) whose nodes are listed out of order in ptLst
  charts.docx   written by hand: a line chart inline in a paragraph, between two
                paragraphs
  hdrftr.docx   python-docx: different first-page and even-page headers and
                footers (w:titlePg, w:evenAndOddHeaders), and a second section
                with its own default header
  hdrftr-hidden.docx  python-docx: first-page and even-page headers that are not
                shown (no w:titlePg, no w:evenAndOddHeaders), and a second
                section that shows the first one's first-page header

Run with Debian's python3 (python3-openpyxl, python3-docx): /usr/bin/python3 make.py
The files are committed; the tests do not need these tools.
"""
import datetime
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS_DGM = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def write_zip(name, parts):
    # fixed dates so that the files only change when their content does
    with zipfile.ZipFile(os.path.join(HERE, name), "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts:
            info = zipfile.ZipInfo(part, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def rels(items):
    body = "".join('<Relationship Id="%s" Type="%s%s" Target="%s"/>' % i for i in items)
    return XML + '<Relationships xmlns="%s">%s</Relationships>' % (PKG_RELS, body)


def rich(text):
    return ('<c:tx><c:rich><a:bodyPr/><a:p><a:r><a:t>%s</a:t></a:r></a:p></c:rich></c:tx>'
            % text)


def str_cache(ref, values):
    pts = "".join('<c:pt idx="%d"><c:v>%s</c:v></c:pt>' % (i, v) for i, v in enumerate(values))
    return ('<c:strRef><c:f>%s</c:f><c:strCache><c:ptCount val="%d"/>%s</c:strCache></c:strRef>'
            % (ref, len(values), pts))


def num_cache(ref, values):
    pts = "".join('<c:pt idx="%d"><c:v>%s</c:v></c:pt>' % (i, v) for i, v in enumerate(values))
    return ('<c:numRef><c:f>%s</c:f><c:numCache><c:formatCode>General</c:formatCode>'
            '<c:ptCount val="%d"/>%s</c:numCache></c:numRef>' % (ref, len(values), pts))


def chart_xml(kind, title, cat_title, val_title, cats, series):
    """A chart part as Office writes one: cached categories, names and values."""
    sers = ""
    for i, (name, vals) in enumerate(series):
        col = "BCDEFG"[i]
        sers += ('<c:ser><c:idx val="%d"/><c:order val="%d"/><c:tx>%s</c:tx>'
                 '<c:cat>%s</c:cat><c:val>%s</c:val></c:ser>'
                 % (i, i, str_cache("Sheet1!$%s$1" % col, [name]),
                    str_cache("Sheet1!$A$2:$A$%d" % (len(cats) + 1), cats),
                    num_cache("Sheet1!$%s$2:$%s$%d" % (col, col, len(cats) + 1), vals)))
    extra = '<c:barDir val="col"/><c:grouping val="clustered"/>' if kind == "bar" else \
        '<c:grouping val="standard"/>'
    axes = ('<c:catAx><c:axId val="1"/><c:scaling/><c:delete val="0"/><c:axPos val="b"/>'
            '<c:title>%s</c:title><c:crossAx val="2"/></c:catAx>'
            '<c:valAx><c:axId val="2"/><c:scaling/><c:delete val="0"/><c:axPos val="l"/>'
            '<c:title>%s</c:title><c:crossAx val="1"/></c:valAx>' % (rich(cat_title),
                                                                        rich(val_title)))
    return (XML + '<c:chartSpace xmlns:c="%s" xmlns:a="%s" xmlns:r="%s"><c:chart>'
            '<c:title>%s</c:title><c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>'
            '<c:%sChart>%s%s<c:axId val="1"/><c:axId val="2"/></c:%sChart>%s</c:plotArea>'
            '<c:plotVisOnly val="1"/></c:chart></c:chartSpace>'
            % (NS_C, NS_A, NS_R, rich(title), kind, extra, sers, kind, axes))


def graphic_frame(fid, name, y, uri, inner):
    return ('<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="%d" name="%s"/>'
            '<p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr>'
            '<p:xfrm><a:off x="500000" y="%d"/><a:ext cx="6000000" cy="3000000"/></p:xfrm>'
            '<a:graphic><a:graphicData uri="%s">%s</a:graphicData></a:graphic></p:graphicFrame>'
            % (fid, name, y, uri, inner))


def text_shape(fid, y, text, ph=None):
    nvpr = '<p:nvPr><p:ph type="%s"/></p:nvPr>' % ph if ph else '<p:nvPr/>'
    return ('<p:sp><p:nvSpPr><p:cNvPr id="%d" name="Shape %d"/><p:cNvSpPr txBox="1"/>%s</p:nvSpPr>'
            '<p:spPr><a:xfrm><a:off x="500000" y="%d"/><a:ext cx="6000000" cy="500000"/></a:xfrm>'
            '</p:spPr><p:txBody><a:bodyPr/><a:p><a:r><a:t>%s</a:t></a:r></a:p></p:txBody></p:sp>'
            % (fid, fid, nvpr, y, text))


def slide(shapes):
    return (XML + '<p:sld xmlns:p="%s" xmlns:a="%s" xmlns:r="%s"><p:cSld><p:spTree>'
            '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
            '<p:grpSpPr/>%s</p:spTree></p:cSld></p:sld>' % (NS_P, NS_A, NS_R, "".join(shapes)))


def smartart_data():
    """Research (with a child), Build, Ship: ptLst lists Ship before Build; the
    connections' srcOrd give the order."""
    def node(mid, text):
        return ('<dgm:pt modelId="%s"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/>'
                '<a:p><a:r><a:t>%s</a:t></a:r></a:p></dgm:t></dgm:pt>' % (mid, text))

    def trans(mid, kind):
        return ('<dgm:pt modelId="%s" type="%s"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/>'
                '<a:p><a:endParaRPr/></a:p></dgm:t></dgm:pt>' % (mid, kind))
    pts = ('<dgm:pt modelId="{0}" type="doc"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/>'
           '<a:p><a:endParaRPr/></a:p></dgm:t></dgm:pt>'.format("{D0}")
           + node("{N1}", "Research the market") + node("{N3}", "Ship to customers")
           + node("{N2}", "Build the prototype") + node("{N11}", "Interview fifty users")
           + trans("{T1}", "parTrans") + trans("{T2}", "sibTrans")
           + '<dgm:pt modelId="{P1}" type="pres"><dgm:prSet presName="x"/><dgm:spPr/></dgm:pt>')
    cx = "".join('<dgm:cxn modelId="{C%d}" srcId="%s" destId="%s" srcOrd="%d" destOrd="0"/>'
                 % (i, s, d, o) for i, (s, d, o) in enumerate(
                     [("{D0}", "{N1}", 0), ("{D0}", "{N2}", 1), ("{D0}", "{N3}", 2),
                      ("{N1}", "{N11}", 0)]))
    cx += '<dgm:cxn modelId="{C9}" type="presOf" srcId="{N1}" destId="{P1}" srcOrd="0" destOrd="0"/>'
    return (XML + '<dgm:dataModel xmlns:dgm="%s" xmlns:a="%s"><dgm:ptLst>%s</dgm:ptLst>'
            '<dgm:cxnLst>%s</dgm:cxnLst><dgm:bg/><dgm:whole/></dgm:dataModel>'
            % (NS_DGM, NS_A, pts, cx))


def make_pptx():
    chart = chart_xml("bar", "Revenue by region", "Region", "Dollars",
                      ["North", "South", "East"], [("Revenue", [120, 95, 143]),
                                                   ("Cost", [80, 60, 99.5])])
    s1 = slide([text_shape(2, 100000, "Quarterly results", "title"),
                text_shape(3, 5200000, "Source: the finance team"),
                graphic_frame(4, "Chart 1", 1200000, NS_C,
                              '<c:chart xmlns:c="%s" r:id="rId2"/>' % NS_C)])
    s2 = slide([text_shape(2, 100000, "Next steps", "title"),
                graphic_frame(3, "Diagram 1", 1200000, NS_DGM,
                              '<dgm:relIds xmlns:dgm="%s" r:dm="rId3" r:lo="rId4" r:qs="rId5" '
                              'r:cs="rId6"/>' % NS_DGM)])
    ct = (XML + '<Types xmlns="%s"><Default Extension="rels" ContentType="application/'
          'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
          'ContentType="application/xml"/>'
          '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.'
          'openxmlformats-officedocument.presentationml.presentation.main+xml"/>'
          '<Override PartName="/ppt/slides/slide1.xml" ContentType="application/vnd.'
          'openxmlformats-officedocument.presentationml.slide+xml"/>'
          '<Override PartName="/ppt/slides/slide2.xml" ContentType="application/vnd.'
          'openxmlformats-officedocument.presentationml.slide+xml"/>'
          '<Override PartName="/ppt/charts/chart1.xml" ContentType="application/vnd.'
          'openxmlformats-officedocument.drawingml.chart+xml"/>'
          '<Override PartName="/ppt/diagrams/data1.xml" ContentType="application/vnd.'
          'openxmlformats-officedocument.drawingml.diagramData+xml"/></Types>' % CT)
    pres = (XML + '<p:presentation xmlns:p="%s" xmlns:r="%s"><p:sldIdLst>'
            '<p:sldId id="256" r:id="rId1"/><p:sldId id="257" r:id="rId2"/></p:sldIdLst>'
            '</p:presentation>' % (NS_P, NS_R))
    write_zip("charts.pptx", [
        ("[Content_Types].xml", ct),
        ("_rels/.rels", rels([("rId1", RT, "officeDocument", "ppt/presentation.xml")])),
        ("ppt/presentation.xml", pres),
        ("ppt/_rels/presentation.xml.rels", rels([("rId1", RT, "slide", "slides/slide1.xml"),
                                                  ("rId2", RT, "slide", "slides/slide2.xml")])),
        ("ppt/slides/slide1.xml", s1),
        ("ppt/slides/_rels/slide1.xml.rels", rels([("rId2", RT, "chart",
                                                    "../charts/chart1.xml")])),
        ("ppt/slides/slide2.xml", s2),
        ("ppt/slides/_rels/slide2.xml.rels", rels([("rId3", RT, "diagramData",
                                                    "../diagrams/data1.xml")])),
        ("ppt/charts/chart1.xml", chart),
        ("ppt/diagrams/data1.xml", smartart_data()),
    ])


def make_docx_chart():
    chart = chart_xml("line", "Monthly visitors", "Month", "Visitors",
                      ["January", "February", "March"], [("2025", [1200, 1350.5, 1500]),
                                                         ("2026", [1400, 1610, 1720])])
    drawing = ('<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/'
               'drawingml/2006/wordprocessingDrawing"><wp:extent cx="5486400" cy="3200400"/>'
               '<wp:docPr id="1" name="Chart 1"/><a:graphic xmlns:a="%s"><a:graphicData '
               'uri="%s"><c:chart xmlns:c="%s" r:id="rId5"/></a:graphicData></a:graphic>'
               '</wp:inline></w:drawing></w:r>' % (NS_A, NS_C, NS_C))
    body = ('<w:p><w:r><w:t>Visitors grew every month.</w:t></w:r></w:p>'
            '<w:p>%s</w:p><w:p><w:r><w:t>March was the best month so far.</w:t></w:r></w:p>'
            '<w:sectPr/>' % drawing)
    doc = XML + '<w:document xmlns:w="%s" xmlns:r="%s"><w:body>%s</w:body></w:document>' % (
        NS_W, NS_R, body)
    ct = (XML + '<Types xmlns="%s"><Default Extension="rels" ContentType="application/'
          'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
          'ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.'
          'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
          '<Override PartName="/word/charts/chart1.xml" ContentType="application/vnd.'
          'openxmlformats-officedocument.drawingml.chart+xml"/></Types>' % CT)
    write_zip("charts.docx", [
        ("[Content_Types].xml", ct),
        ("_rels/.rels", rels([("rId1", RT, "officeDocument", "word/document.xml")])),
        ("word/document.xml", doc),
        ("word/_rels/document.xml.rels", rels([("rId5", RT, "chart", "charts/chart1.xml")])),
        ("word/charts/chart1.xml", chart),
    ])


def make_xlsx():
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, PieChart, Reference
    wb = Workbook()
    ws = wb.active
    ws.title = "Sales"
    for row in [("Region", "Revenue", "Cost"), ("North", 120, 80), ("South", 95, 60),
                ("East", 143, 99.5)]:
        ws.append(row)
    bar = BarChart()
    bar.title = "Revenue by region"
    bar.x_axis.title = "Region"
    bar.y_axis.title = "Dollars"
    bar.add_data(Reference(ws, min_col=2, min_row=1, max_col=3, max_row=4), titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=4))
    ws.add_chart(bar, "E2")
    cs = wb.create_sheet("Charts")
    cs["A1"] = "Cost share by region"
    pie = PieChart()
    pie.title = "Cost share"
    pie.add_data(Reference(ws, min_col=3, min_row=1, max_row=4), titles_from_data=True)
    pie.set_categories(Reference(ws, min_col=1, min_row=2, max_row=4))
    cs.add_chart(pie, "B3")
    wb.save(os.path.join(HERE, "charts.xlsx"))


def make_hdrftr():
    from docx import Document
    from docx.enum.text import WD_BREAK
    doc = Document()
    doc.settings.odd_and_even_pages_header_footer = True
    sec = doc.sections[0]
    sec.different_first_page_header_footer = True
    sec.header.paragraphs[0].text = "Odd page header"
    sec.first_page_header.paragraphs[0].text = "Cover page header"
    sec.even_page_header.paragraphs[0].text = "Even page header"
    sec.footer.paragraphs[0].text = "Odd page footer"
    sec.first_page_footer.paragraphs[0].text = "Cover page footer"
    sec.even_page_footer.paragraphs[0].text = "Even page footer"
    p = doc.add_paragraph("Body of page one.")
    p.add_run().add_break(WD_BREAK.PAGE)
    p = doc.add_paragraph("Body of page two.")
    p.add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("Body of page three.")
    s2 = doc.add_section()
    s2.different_first_page_header_footer = False
    s2.header.is_linked_to_previous = False
    s2.header.paragraphs[0].text = "Appendix header"
    doc.add_paragraph("Body of the appendix.")
    when = datetime.datetime(2024, 1, 1)
    doc.core_properties.created = doc.core_properties.modified = when
    doc.save(os.path.join(HERE, "hdrftr.docx"))


def make_hdrftr_hidden():
    """Header parts a section names but does not show: a first-page header
    without w:titlePg and an even-page one without w:evenAndOddHeaders; the
    second section turns w:titlePg on without naming a first-page header of
    its own, so it shows the first section's."""
    from docx import Document
    doc = Document()
    sec = doc.sections[0]
    sec.header.paragraphs[0].text = "Plain header"
    sec.first_page_header.paragraphs[0].text = "Inherited first header"
    sec.even_page_header.paragraphs[0].text = "Hidden even header"
    sec.footer.paragraphs[0].text = "Plain footer"
    sec.different_first_page_header_footer = False
    doc.add_paragraph("Section one.")
    s2 = doc.add_section()
    s2.different_first_page_header_footer = True
    doc.add_paragraph("Section two.")
    when = datetime.datetime(2024, 1, 1)
    doc.core_properties.created = doc.core_properties.modified = when
    doc.save(os.path.join(HERE, "hdrftr-hidden.docx"))


if __name__ == "__main__":
    make_pptx()
    make_docx_chart()
    make_xlsx()
    make_hdrftr()
    make_hdrftr_hidden()
