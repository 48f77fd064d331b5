/*
 * xml.c - the one safe way to parse XML (see xml.h).
 */
#include "xml.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlmemory.h>

#include "banned.h"

static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	xmlParserCtxtPtr c = ctx;
	(void)name;
	(void)ext;
	(void)sys;
	*(int *)c->_private = 1;
	xmlStopParser(c);
}

/* libxml2 does not always say that it ran out of memory (a failed
 * allocation can surface as "extra content at the end of the document", or
 * as a document short of its end that it calls well formed), so its
 * allocations are counted: a parse during which one failed ran out of
 * memory, whatever libxml2 says.  The wrappers call libc's own functions
 * (libxml2's defaults; the parenthesised names pass by banned.h's mapping to
 * core/alloc.h, whose injected failures are for moat's own allocations), so
 * they may be installed at any time. */
static atomic_ulong failed_allocs;

static void *xm_malloc(size_t n)
{
	void *p = (malloc)(n);
	if (!p)
		atomic_fetch_add(&failed_allocs, 1);
	return p;
}

static void *xm_realloc(void *q, size_t n)
{
	void *p = (realloc)(q, n);
	if (!p && n)
		atomic_fetch_add(&failed_allocs, 1);
	return p;
}

static char *xm_strdup(const char *s)
{
	char *p = (strdup)(s);
	if (!p)
		atomic_fetch_add(&failed_allocs, 1);
	return p;
}

static void xm_free(void *p)
{
	free(p);
}

static void count_failures(void)
{
	xmlMemSetup(xm_free, xm_malloc, xm_realloc, xm_strdup);
}

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

xmlDocPtr xml_read_safe(const char *data, size_t len, int options, struct xml_why *why)
{
	xmlParserCtxtPtr c;
	xmlDocPtr doc;
	int dtd = 0;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	unsigned long failed_before;
	memset(why, 0, sizeof(*why));
	pthread_once(&once, count_failures);
	failed_before = atomic_load(&failed_allocs);
	if (len > (size_t)INT32_MAX) {
		why->fail = XML_TOO_LARGE;
		return NULL;
	}
	xmlSetGenericErrorFunc(NULL, quiet);
	if (!(c = xmlNewParserCtxt())) {
		why->fail = XML_NOMEM;
		return NULL;
	}
	c->sax->internalSubset = refuse_dtd;
	c->_private = &dtd;
	doc = xmlCtxtReadMemory(c, data, (int)len, NULL, NULL,
				options | XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (dtd || !doc || !c->wellFormed || c->errNo == XML_ERR_NO_MEMORY ||
	    atomic_load(&failed_allocs) != failed_before) {
		const xmlError *x = xmlCtxtGetLastError(c);
		/* a parse that ran out of memory (a process limit reached, as a
		 * sandboxed parser's --max-memory) is not malformed XML */
		why->fail = dtd ? XML_DTD
			  : (x && x->code == XML_ERR_NO_MEMORY) || c->errNo == XML_ERR_NO_MEMORY ||
			    atomic_load(&failed_allocs) != failed_before ? XML_NOMEM
			  : XML_MALFORMED;
		if (!dtd && x) {
			size_t n = x->message ? strcspn(x->message, "\n") : 0;
			why->line = x->line > 0 ? x->line : 0;
			if (n >= sizeof(why->msg))
				n = sizeof(why->msg) - 1;
			memcpy(why->msg, x->message ? x->message : "", n);
			why->msg[n] = '\0';
		}
		if (doc)
			xmlFreeDoc(doc);
		xmlFreeParserCtxt(c);
		return NULL;
	}
	xmlFreeParserCtxt(c);
	return doc;
}
