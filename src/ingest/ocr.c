/*
 * ocr.c - reading page images with Tesseract through its C API.
 *
 * One Tesseract per document (the sandboxed child that parses it), started
 * for the languages asked for; a language without its traineddata file fails
 * before anything is read, naming the Debian package that brings it.
 * Tesseract runs single-threaded: its OpenMP threads only slow it down when
 * documents already run in parallel (4x on two cores).  libgomp reads
 * OMP_THREAD_LIMIT once, when it is loaded: with Tesseract (ocrlib.h) after
 * this file set the variable, or before main() when another library (ggml)
 * brought it; so this file also sets the maximum number of active parallel
 * levels to 0, which makes every OpenMP region run on the calling thread
 * alone.
 *
 * Pages come out as paragraphs (Tesseract's own layout analysis, the same
 * page segmentation mode as the tesseract command: PSM_AUTO), lines joined
 * with hyphenation undone, each with its box and word confidences.  A page
 * skewed by more than a degree is deskewed first; a page that reads badly is
 * tried again upright after orientation detection (osd.traineddata).
 *
 * Not for: getting the page images (image.c, pdf_render.c); see ocr.h.
 */
#define _GNU_SOURCE
#include "docfmt.h"
#include "ocr.h"
#include "ocrlib.h"
#include "sandbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "../core/datadir.h"
#include "../core/banned.h"

struct ocr {
	TessBaseAPI *api;
	TessBaseAPI *osd;   /* orientation detection, started when first needed */
	int osd_tried;
	int warm;           /* ocr_warm's: never freed by ocr_free */
	char *datadir;      /* malloc'd */
	char *langs;        /* malloc'd */
};

static struct ocr *warm;  /* made by ocr_warm before the fork */

/* 1 when dir has lang's traineddata, 0 when not, -1 out of memory. */
static int has_lang(const char *dir, const char *lang)
{
	char *p;
	int r;
	if (asprintf(&p, "%s/%s.traineddata", dir, lang) < 0)
		return -1;
	r = access(p, R_OK) == 0;
	free(p);
	return r;
}

/* The directory holding the traineddata files (core/datadir.h: the
 * environment, then the copy a bundle installed beside moat, then Debian's),
 * malloc'd; NULL with e set. */
static char *find_datadir(struct moat_err *e)
{
	struct datafile f = DATAFILE_INIT;
	char *dir;
	if (datadir_tessdata(&f) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	dir = f.path;  /* always a path, Debian's default at least */
	f.path = NULL;
	datafile_release(&f);
	return dir;
}

/* Debian names a language pack after the language, '_' as '-', lowercase. */
static void debian_package(const char *lang, struct buf *out)
{
	buf_adds(out, "tesseract-ocr-");
	for (size_t i = 0; lang[i]; i++) {
		char c = lang[i];
		buf_addch(out, c == '_' ? '-' : (c >= 'A' && c <= 'Z' ? (char)(c + 32) : c));
	}
}

int ocr_load(struct moat_err *e)
{
	setenv("OMP_THREAD_LIMIT", "1", 1);  /* before libgomp is loaded */
	if (ocrlib_load(OCRLIB_TESSERACT, e) < 0)
		return -1;
	if (ocrlib->omp_set_max_active_levels)
		ocrlib->omp_set_max_active_levels(0);
	return 0;
}

/* Tesseract's messages go to debug_file, or to stderr when it is "".  In a
 * zygote or a sandbox's child stderr is /dev/null already, and the child may
 * not open a file for writing, not even /dev/null: "" there.  Elsewhere
 * (--no-sandbox, tests) "/dev/null" keeps the terminal quiet. */
static void quiet(TessBaseAPI *api)
{
	struct stat st;
	int null_stderr = fstat(2, &st) == 0 && S_ISCHR(st.st_mode) &&
			  major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
	ocrlib->TessBaseAPISetVariable(api, "debug_file", null_stderr || sandbox_in_child() ? "" : "/dev/null");
}

/* Every language named must have its pack. */
static int check_langs(const char *langs, const char *datadir, struct moat_err *e)
{
	char one[64];
	size_t n = 0;
	for (const char *p = langs;; p++) {
		if (*p == '+' || *p == '\0') {
			one[n] = '\0';
			if (!n)
				return err_set(e, MOAT_EUSAGE, "bad OCR language list '%s' (for example "
					       "eng+deu)", langs);
			switch (has_lang(datadir, one)) {
			case 1:
				break;
			case 0: {
				struct buf pkg = BUF_INIT;
				debian_package(one, &pkg);
				if (buf_failed(&pkg))
					err_set(e, MOAT_ENOMEM, "out of memory");
				else
					err_set(e, MOAT_ENOTFOUND, "OCR language '%s' is not installed (no "
						"%s/%s.traineddata; install the Debian package %s)", one,
						datadir, one, buf_str(&pkg));
				buf_release(&pkg);
				return -1;
			}
			default:
				return err_set(e, MOAT_ENOMEM, "out of memory");
			}
			n = 0;
			if (!*p)
				break;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-') || n + 1 >= sizeof(one))
			return err_set(e, MOAT_EUSAGE, "bad OCR language list '%s' (for example eng+deu)",
				       langs);
		one[n++] = *p;
	}
	return 0;
}

int ingest_check_ocr(const struct ingest_opts *o, struct moat_err *e)
{
	char *dir;
	int rc;
	if (o->ocr == INGEST_OCR_NEVER)
		return 0;
	if (!(dir = find_datadir(e)))
		return -1;
	rc = check_langs(docfmt_ocr_lang(o), dir, e);
	free(dir);
	return rc;
}

static struct ocr *ocr_start(const struct ingest_opts *o, struct moat_err *e)
{
	const char *langs = docfmt_ocr_lang(o);
	struct ocr *ocr;
	if (ocr_load(e) < 0)
		return NULL;
	ocrlib->setMsgSeverity(L_SEVERITY_NONE);
	ocr = calloc(1, sizeof(*ocr));
	if (!ocr) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (!(ocr->datadir = find_datadir(e)) || check_langs(langs, ocr->datadir, e) < 0) {
		ocr_free(ocr);
		return NULL;
	}
	if (!(ocr->langs = strdup(langs))) {
		ocr_free(ocr);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	ocr->api = ocrlib->TessBaseAPICreate();
	if (!ocr->api) {
		ocr_free(ocr);
		err_set(e, MOAT_ENOMEM, "out of memory (cannot start Tesseract)");
		return NULL;
	}
	quiet(ocr->api);
	if (ocrlib->TessBaseAPIInit3(ocr->api, ocr->datadir, langs) != 0) {
		ocrlib->TessBaseAPIDelete(ocr->api);
		ocr->api = NULL;
		err_set(e, MOAT_EIO, "cannot start Tesseract for '%s' (damaged traineddata in %s?)",
			langs, ocr->datadir);
		ocr_free(ocr);
		return NULL;
	}
	quiet(ocr->api);
	ocrlib->TessBaseAPISetPageSegMode(ocr->api, PSM_AUTO);
	return ocr;
}

struct ocr *ocr_new(const struct ingest_opts *o, struct moat_err *e)
{
	if (warm && !strcmp(warm->langs, docfmt_ocr_lang(o)))
		return warm;
	return ocr_start(o, e);
}

void ocr_warm(const struct ingest_opts *o)
{
	struct moat_err e = MOAT_ERR_INIT;
	if (warm && !strcmp(warm->langs, docfmt_ocr_lang(o)))
		return;
	if (warm) {
		warm->warm = 0;
		ocr_free(warm);
	}
	warm = ocr_start(o, &e);
	if (warm)
		warm->warm = 1;
}

void ocr_free(struct ocr *ocr)
{
	if (!ocr || ocr->warm)
		return;
	if (ocr->api) {
		ocrlib->TessBaseAPIEnd(ocr->api);
		ocrlib->TessBaseAPIDelete(ocr->api);
	}
	if (ocr->osd) {
		ocrlib->TessBaseAPIEnd(ocr->osd);
		ocrlib->TessBaseAPIDelete(ocr->osd);
	}
	free(ocr->datadir);
	free(ocr->langs);
	free(ocr);
}

/* One read of a page: paragraphs as elements of a scratch document (no
 * limits: its doc_add fails only for lack of memory). */
struct reading {
	struct doc d;
	size_t words;
	double conf_sum;
};

static json_t *box(int x0, int y0, int x1, int y1, double scale)
{
	if (scale == 1.0)
		return json_pack("[i,i,i,i]", x0, y0, x1, y1);
	return json_pack("[f,f,f,f]", roundf((float)(x0 * scale) * 4) / 4,
			 roundf((float)(y0 * scale) * 4) / 4, roundf((float)(x1 * scale) * 4) / 4,
			 roundf((float)(y1 * scale) * 4) / 4);
}

static int flush_para(struct reading *r, struct buf *para, struct buf *line, json_t **confs,
		      int type, const int bb[4], int page, double scale)
{
	int rc = 0;
	if (line->len) {
		para_add_line(para, buf_str(line), line->len);
		buf_reset(line);
	}
	if (buf_failed(para) || buf_failed(line)) {
		rc = -1;
	} else if (para->len && *confs) {
		double sum = 0;
		size_t i;
		json_t *v;
		json_array_foreach(*confs, i, v)
			sum += (double)json_integer_value(v);
		json_t *m = json_pack("{s:o, s:i, s:O, s:b}", "bbox", box(bb[0], bb[1], bb[2], bb[3], scale),
				      "confidence",
				      (int)lround(sum / (double)(json_array_size(*confs) ? json_array_size(*confs) : 1)),
				      "word_confidences", *confs, "ocr", 1);
		/* Tesseract's captions are worth keeping; its "headings" are too
		 * often a line of code or a page number to type them so */
		enum element_type t = type == PT_CAPTION_TEXT ? EL_CAPTION : EL_PARAGRAPH;
		if (!m || (type == PT_HEADING_TEXT &&
			   json_object_set_new(m, "block", json_string("heading")) < 0)) {
			json_decref(m);
			rc = -1;
		} else {
			rc = doc_add_page(&r->d, t, 0, page, buf_str(para), para->len, m);
		}
	}
	buf_reset(para);
	json_decref(*confs);
	*confs = NULL;
	return rc < 0 ? -1 : 0;
}

static int read_page(struct ocr *ocr, struct Pix *pix, int dpi, int page, double scale,
		     struct reading *r, struct moat_err *e)
{
	TessResultIterator *it;
	TessPageIterator *pi;
	struct buf para = BUF_INIT, line = BUF_INIT;
	json_t *confs = NULL;
	int bb[4] = { 0, 0, 0, 0 }, type = PT_FLOWING_TEXT, rc = 0;
	ocrlib->TessBaseAPISetImage2(ocr->api, pix);
	if (dpi > 0)
		ocrlib->TessBaseAPISetSourceResolution(ocr->api, dpi);
	if (ocrlib->TessBaseAPIRecognize(ocr->api, NULL) != 0) {
		ocrlib->TessBaseAPIClear(ocr->api);
		return err_set(e, MOAT_EPARSE, "OCR failed on page %d", page);
	}
	it = ocrlib->TessBaseAPIGetIterator(ocr->api);
	if (!it) {
		ocrlib->TessBaseAPIClear(ocr->api);
		return 0;  /* nothing on the page */
	}
	pi = ocrlib->TessResultIteratorGetPageIterator(it);
	do {
		char *w;
		float c;
		if (ocrlib->TessPageIteratorIsAtBeginningOf(pi, RIL_PARA)) {
			if (flush_para(r, &para, &line, &confs, type, bb, page, scale) < 0) {
				rc = -1;
				break;
			}
			if (!ocrlib->TessPageIteratorBoundingBox(pi, RIL_PARA, &bb[0], &bb[1], &bb[2], &bb[3]))
				memset(bb, 0, sizeof(bb));
			type = ocrlib->TessPageIteratorBlockType(pi);
		}
		if (ocrlib->TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE) && line.len) {
			para_add_line(&para, buf_str(&line), line.len);
			buf_reset(&line);
		}
		w = ocrlib->TessResultIteratorGetUTF8Text(it, RIL_WORD);
		c = ocrlib->TessResultIteratorConfidence(it, RIL_WORD);
		if (w && *w) {
			if (line.len)
				buf_addch(&line, ' ');
			buf_adds(&line, w);
			if (!confs)
				confs = json_array();
			if (json_array_append_new(confs, json_integer(lroundf(c))) < 0) {
				ocrlib->TessDeleteText(w);
				rc = -1;
				break;
			}
			r->words++;
			r->conf_sum += c;
		}
		ocrlib->TessDeleteText(w);
	} while (ocrlib->TessPageIteratorNext(pi, RIL_WORD));
	if (rc == 0 && flush_para(r, &para, &line, &confs, type, bb, page, scale) < 0)
		rc = -1;
	json_decref(confs);
	buf_release(&para);
	buf_release(&line);
	ocrlib->TessResultIteratorDelete(it);
	ocrlib->TessBaseAPIClear(ocr->api);
	if (rc < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	return rc;
}

/* Degrees (0, 90, 180, 270) the page is turned clockwise, or -1 when unknown. */
static int orientation(struct ocr *ocr, struct Pix *pix)
{
	int deg = 0;
	float conf = 0, sconf = 0;
	const char *script = NULL;
	if (!ocr->osd_tried) {
		ocr->osd_tried = 1;
		if (has_lang(ocr->datadir, "osd") > 0) {
			ocr->osd = ocrlib->TessBaseAPICreate();
			quiet(ocr->osd);
			if (ocr->osd && ocrlib->TessBaseAPIInit3(ocr->osd, ocr->datadir, "osd") != 0) {
				ocrlib->TessBaseAPIDelete(ocr->osd);
				ocr->osd = NULL;
			}
			if (ocr->osd) {
				quiet(ocr->osd);
				ocrlib->TessBaseAPISetPageSegMode(ocr->osd, PSM_OSD_ONLY);
			}
		}
	}
	if (!ocr->osd)
		return -1;
	ocrlib->TessBaseAPISetImage2(ocr->osd, pix);
	if (!ocrlib->TessBaseAPIDetectOrientationScript(ocr->osd, &deg, &conf, &script, &sconf) || conf < 1.5f)
		deg = -1;
	ocrlib->TessBaseAPIClear(ocr->osd);
	return deg;
}

int ocr_page(struct ocr *ocr, struct Pix *pix, int page, int dpi, double scale, struct doc *d,
	     size_t *words, struct moat_err *e)
{
	struct reading r;
	struct doc_limits lim = { 0, 0 };
	struct Pix *use = ocrlib->pixClone(pix), *tmp;
	float angle = 0, conf = 0;
	int rot = 0, rc;
	*words = 0;
	if (ocrlib->pixGetColormap(use)) {
		tmp = ocrlib->pixRemoveColormap(use, REMOVE_CMAP_BASED_ON_SRC);
		ocrlib->pixDestroy(&use);
		use = tmp;
		if (!use)
			return err_set(e, MOAT_ENOMEM, "out of memory");
	}
	memset(&r, 0, sizeof(r));
	rc = doc_init(&r.d, lim) < 0 ? err_set(e, MOAT_ENOMEM, "out of memory")
				     : read_page(ocr, use, dpi, page, scale, &r, e);
	/* a skew of a degree or more: the page is read again turned straight,
	 * and the reading with the more confident words is kept.  Tesseract
	 * copes with a small skew itself, and then the straight page's
	 * reading, the tesseract command's, is the better one; past two or
	 * three degrees it loses whole lines, and the turned page wins. */
	{
		struct Pix *bin = ocrlib->pixConvertTo1(use, 130), *straight = NULL;
		float skew = 0;
		if (rc == 0 && bin && ocrlib->pixFindSkew(bin, &skew, &conf) == 0 && conf >= 3.0f &&
		    fabsf(skew) >= 1.0f && fabsf(skew) <= 15.0f) {
			/* a 1-bit page turned by sampling gets jagged strokes;
			 * turned as grey by area mapping its edges stay smooth,
			 * and Tesseract thresholds it itself */
			struct Pix *grey = ocrlib->pixGetDepth(use) == 1 ? ocrlib->pixConvertTo8(use, 0)
									  : ocrlib->pixClone(use);
			straight = grey ? ocrlib->pixRotate(grey, (float)(M_PI / 180.0) * skew,
							    L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0)
					: NULL;
			ocrlib->pixDestroy(&grey);
		}
		if (straight) {
			struct reading r2;
			struct moat_err e2 = MOAT_ERR_INIT;
			int rc2;
			memset(&r2, 0, sizeof(r2));
			rc2 = doc_init(&r2.d, lim) < 0 ? err_set(&e2, MOAT_ENOMEM, "out of memory")
						       : read_page(ocr, straight, dpi, page, scale, &r2, &e2);
			if (rc2 == 0 && r2.conf_sum > r.conf_sum) {
				doc_release(&r.d);
				r = r2;
				ocrlib->pixDestroy(&use);
				use = straight;
				straight = NULL;
				angle = skew;
			} else {
				doc_release(&r2.d);
				if (rc2 < 0 && e2.code == MOAT_ENOMEM)
					rc = err_set(e, MOAT_ENOMEM, "%s", e2.msg);
			}
			ocrlib->pixDestroy(&straight);
		}
		ocrlib->pixDestroy(&bin);
	}
	/* a page that reads badly may be on its side or upside down */
	if (rc == 0 && (r.words < 5 || r.conf_sum / (double)r.words < 60.0)) {
		int deg = orientation(ocr, use);
		if (deg > 0) {
			struct Pix *up = ocrlib->pixRotateOrth(use, (360 - deg) / 90);
			struct reading r2;
			struct moat_err e2 = MOAT_ERR_INIT;
			int rc2 = -1;
			memset(&r2, 0, sizeof(r2));
			if (doc_init(&r2.d, lim) < 0)
				rc2 = err_set(&e2, MOAT_ENOMEM, "out of memory");
			else if (up)
				rc2 = read_page(ocr, up, dpi, page, scale, &r2, &e2);
			if (rc2 == 0 && r2.conf_sum > r.conf_sum) {
				doc_release(&r.d);
				r = r2;
				rot = deg;
			} else {
				doc_release(&r2.d);
				if (rc2 < 0 && e2.code == MOAT_ENOMEM) {
					/* not a worse reading: no reading at all */
					rc = err_set(e, MOAT_ENOMEM, "%s", e2.msg);
				}
			}
			ocrlib->pixDestroy(&up);
		}
	}
	ocrlib->pixDestroy(&use);
	if (rc == 0) {
		for (size_t i = 0; i < r.d.n_el; i++) {
			const struct element *el = &r.d.el[i];
			json_t *m = json_incref(el->meta);
			if ((rot && json_object_set_new(m, "rotation", json_integer(rot)) < 0) ||
			    (angle != 0 && json_object_set_new(m, "deskew_degrees",
							       json_real(roundf(angle * 4) / 4)) < 0)) {
				json_decref(m);
				rc = err_set(e, MOAT_ENOMEM, "out of memory");
				break;
			}
			if (doc_add_page(d, el->type, el->level, el->page, doc_el_text(&r.d, el),
					 el->byte_len, m) < 0) {
				rc = d->over_limit ? 0 : err_set(e, MOAT_ENOMEM, "out of memory");
				break;
			}
		}
		*words = r.words;
	}
	doc_release(&r.d);
	return rc;
}
