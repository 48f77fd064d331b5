/*
 * xml.c - the one safe way to parse XML (see xml.h).
 */
#include "xml.h"

#include <stdint.h>
#include <string.h>

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
	memset(why, 0, sizeof(*why));
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
	if (dtd || !doc || !c->wellFormed) {
		const xmlError *x = xmlCtxtGetLastError(c);
		why->fail = dtd ? XML_DTD : XML_MALFORMED;
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
