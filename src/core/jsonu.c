/* jsonu.c - JSON strings that survive bytes that are not UTF-8. */
#include "jsonu.h"
#include "buf.h"
#include "utf8.h"

#include <string.h>

#include "banned.h"

json_t *jsonu_stringn(const char *s, size_t len)
{
	struct buf b;
	json_t *j;
	if (!s)
		return json_null();
	if (utf8_is_valid(s, len))
		return json_stringn(s, len);
	buf_init(&b, 0);
	utf8_sanitize(&b, s, len);
	j = buf_failed(&b) ? NULL : json_stringn(b.data ? b.data : "", b.len);
	buf_release(&b);
	return j;
}

json_t *jsonu_string(const char *s)
{
	return s ? jsonu_stringn(s, strlen(s)) : json_null();
}
