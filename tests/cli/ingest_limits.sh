#!/bin/bash
# ingest_limits.sh - a valid workbook too large for --max-memory fails with a
# reason that names the limit and the option (issue 14.6), never "malformed
# XML", and never a workbook silently short of its cells (libxml2 can return a
# document cut short when an allocation fails: its allocations are counted).
# The same file ingests whole under the default limit.  Sanitizer builds take
# no memory limit (AddressSanitizer reserves terabytes up front): there the
# limited run is not asserted, and the test says so.
. "$(dirname "$0")/lib.sh"
W="$T/ws"
"$MOAT" init "$W" >/dev/null || { bad "init"; finish; exit 1; }
python3 - "$T/big.xlsx" <<'PY'
import sys, zipfile
rows = 60000
sheet = ['<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
for r in range(1, rows + 1):
    sheet.append('<row r="%d">' % r + "".join('<c r="%s%d"><v>%d</v></c>' % (c, r, r * 7 + i)
                                               for i, c in enumerate("ABCDE")) + "</row>")
sheet.append("</sheetData></worksheet>")
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="%s/officeDocument" Target="xl/workbook.xml"/></Relationships>' % R)
z.writestr("xl/workbook.xml", '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="%s"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>' % R)
z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/></Relationships>' % R)
z.writestr("xl/worksheets/sheet1.xml", "".join(sheet))
z.close()
PY
if ldd "$MOAT" 2>/dev/null | grep -q libasan; then
	echo "note: a sanitizer build takes no memory limit: the limited run is not asserted here"
else
	for lim in 150M 300M; do
		"$MOAT" -w "$W" ingest "$T/big.xlsx" --max-memory "$lim" --json >"$T/out" 2>"$T/err"
		why=$(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["failures"]; print(f[0]["error"] if f else "(ingested)")' "$T/out")
		expect_eq "memory limit reached (${lim%M} MiB, see --max-memory)" "$why" "a workbook over --max-memory $lim"
	done
fi
expect_rc 0 "$MOAT" -w "$W" ingest "$T/big.xlsx"
expect_eq 300000 "$(sqlite3 "$W/moat.db" "SELECT sum(length(text) - length(replace(text, ' | ', '')))/3 + count(*) * 60000 FROM elements WHERE type = 'table'")" \
	"every cell of the workbook is in the table (60000 rows of 5)"
finish
