/*
 * xml.h - XML parsed the one safe way: without the network, without DTDs (a
 * document that declares one is refused, so no entity can be declared,
 * expanded or fetched), with libxml2's default limits (not the "huge"
 * option's), and with its messages kept off the terminal.  Ingest's XML
 * parts (ingest/docutil.c) and the VOC importer (export/annot_voc.c) parse
 * through it and say what failed in their own words.
 *
 * Not for: walking the tree (libxml2's own API).  Uses libxml2.
 */
#ifndef MOAT_XML_H
#define MOAT_XML_H

#include <stddef.h>

#include <libxml/parser.h>

enum xml_fail { XML_OK = 0, XML_NOMEM, XML_TOO_LARGE, XML_DTD, XML_MALFORMED };

struct xml_why {
	enum xml_fail fail;
	int line;            /* XML_MALFORMED: where libxml2 stopped, 0 when it does not say */
	char msg[512];       /* XML_MALFORMED: the first line of its message, "" when none */
};

/* Parses data[0..len) with libxml2's options plus XML_PARSE_NONET,
 * XML_PARSE_NOERROR and XML_PARSE_NOWARNING.  The document (the caller
 * frees it with xmlFreeDoc()), or NULL with why filled: out of memory, over
 * 2 GiB, a DTD, or not well formed. */
xmlDocPtr xml_read_safe(const char *data, size_t len, int options, struct xml_why *why)
	__attribute__((warn_unused_result));

#endif
