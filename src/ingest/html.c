#include "ingest.h"
int ingest_html(const unsigned char *data, size_t len, const struct ingest_opts *o,
		struct doc *d, struct moat_err *e)
{
	return ingest_text(data, len, o, d, e);
}
