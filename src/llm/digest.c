/*
 * digest.c - the SHA-256 of a model file for provenance, hashed once per
 * version of the file: the result is remembered in <cache>/digests (cache =
 * $MOAT_CACHE, else $XDG_CACHE_HOME/moat, else ~/.cache/moat) keyed by device,
 * inode, size and modification time, so opening a 40 GB model the second time
 * costs nothing.  An Ollama blob is named by its digest already and is never
 * hashed here (models fsck checks those names).
 */
#include "digest.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/datadir.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/hash.h"

#include "../core/banned.h"

/* "sha256:" and the 64 hex digits at hex; NULL with e set. */
static char *ret_digest(const char *hex, struct moat_err *e)
{
	char *d;
	if (asprintf(&d, "sha256:%.64s", hex) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	return d;
}

/* Remembers a file's digest: a line "<key><hex> <path>" appended to the
 * cache.  Failing to remember only costs hashing again next time. */
static void remember(const char *cf, const char *key, const char *hex, const char *path)
{
	char *dir = fs_dirname(cf), *line = NULL;
	int n = -1, fd;
	if (dir && fs_mkdirs(dir, 0755, NULL) == 0 && (n = asprintf(&line, "%s%s %s\n", key, hex, path)) < 0)
		line = NULL;  /* what asprintf leaves there is undefined */
	if (line) {
		fd = open(cf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0) {
			(void)fs_write_all(fd, line, (size_t)n);
			close(fd);
		}
	}
	free(line);
	free(dir);
}

char *llm_file_digest(const char *path, struct moat_err *e)
{
	struct stat st;
	const char *base = strrchr(path, '/');
	char key[160], hex[65];
	char *cf;
	struct buf b = BUF_INIT;
	unsigned char raw[SHA256_LEN];

	base = base ? base + 1 : path;
	if (!strncmp(base, "sha256-", 7) && strlen(base) == 71) {
		size_t k = 7;
		while (k < 71 && strchr("0123456789abcdef", base[k]))
			k++;
		if (k == 71)
			return ret_digest(base + 7, e);
	}
	if (stat(path, &st) < 0) {
		err_set(e, MOAT_EIO, "cannot open '%s'", path);
		return NULL;
	}
	if (xsnprintf(key, sizeof(key), "%ju %ju %jd %jd.%09ld ", (uintmax_t)st.st_dev,
		      (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
		      (long)st.st_mtim.tv_nsec) < 0)
		key[0] = '\0';  /* cannot happen (five numbers): then no cache */
	cf = key[0] ? datadir_cache("digests") : NULL;
	if (cf && fs_read_file(cf, &b, 16u << 20, NULL) == 0) {
		size_t kl = strlen(key);
		const char *p = buf_str(&b);
		while (p && *p) {
			const char *nl = strchr(p, '\n');
			if (!strncmp(p, key, kl) && (nl ? (size_t)(nl - p) : strlen(p)) >= kl + 64) {
				memcpy(hex, p + kl, 64);
				hex[64] = '\0';
				buf_release(&b);
				free(cf);
				return ret_digest(hex, e);
			}
			p = nl ? nl + 1 : NULL;
		}
	}
	buf_release(&b);
	if (sha256_file(path, raw, NULL, e) < 0) {
		free(cf);
		return NULL;
	}
	hex_encode(raw, SHA256_LEN, hex);
	if (cf)
		remember(cf, key, hex, path);
	free(cf);
	return ret_digest(hex, e);
}
