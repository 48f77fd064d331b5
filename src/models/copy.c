/*
 * copy.c - the plumbing of the model kit: copying that hashes every byte on
 * the way (one read per byte), durable small writes and renames, and the
 * progress counter that the copying threads share.
 *
 * Not for: deciding what to copy (bundle.c, install.c, import.c) or running
 * copies in parallel (they use core/pool.h).
 */
#define _GNU_SOURCE
#include "models_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"

#include "core/banned.h"

void models_progress_init(struct models_progress *p, models_progress_fn fn, void *arg,
			  uint64_t total)
{
	pthread_mutex_init(&p->lock, NULL);
	p->done = p->last = 0;
	p->total = total;
	p->fn = fn;
	p->arg = arg;
	if (fn)
		fn(arg, 0, total);
}

void models_progress_add(struct models_progress *p, uint64_t n)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->done += n;
	if (p->fn && p->done - p->last >= (16u << 20)) {
		p->last = p->done;
		p->fn(p->arg, p->done, p->total);
	}
	pthread_mutex_unlock(&p->lock);
}

void models_progress_finish(struct models_progress *p)
{
	if (p->fn)
		p->fn(p->arg, p->done, p->total);
	pthread_mutex_destroy(&p->lock);
}

/* Reads len bytes of fd from off (UINT64_MAX: to the end) through block,
 * feeding them to h1 and h2 and writing them to out_fd (each if there);
 * *got gets the count, which is short only when the file is. */
static int pump(int fd, const char *path, uint64_t off, uint64_t len, unsigned char *block,
		struct sha256 *h1, struct sha256 *h2, int out_fd, const char *out_path,
		struct models_progress *sp, uint64_t *got, struct moat_err *e)
{
	uint64_t total = 0;
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(fd, (off_t)off, len == UINT64_MAX ? 0 : (off_t)len, POSIX_FADV_SEQUENTIAL);
#endif
	while (total < len) {
		size_t want = COPY_BLOCK;
		ssize_t n;
		if (len - total < want)
			want = (size_t)(len - total);
		n = pread(fd, block, want, (off_t)(off + total));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(errno));
		if (n == 0)
			break;
		if (h1)
			sha256_update(h1, block, (size_t)n);
		if (h2)
			sha256_update(h2, block, (size_t)n);
		if (out_fd >= 0 && fs_write_all(out_fd, block, (size_t)n) < 0)
			return err_set(e, MOAT_EIO, "cannot write '%s': %s", out_path,
				       strerror(errno));
		total += (uint64_t)n;
		models_progress_add(sp, (uint64_t)n);
	}
	*got = total;
	return 0;
}

int models_hash_fd(int fd, const char *path, uint64_t off, uint64_t len, struct sha256 *h1,
		   struct sha256 *h2, struct models_progress *sp, uint64_t *got,
		   struct moat_err *e)
{
	unsigned char *block = malloc(COPY_BLOCK);
	int rc;
	if (!block)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = pump(fd, path, off, len, block, h1, h2, -1, NULL, sp, got, e);
	free(block);
	return rc;
}

/* <dir>/.moat-tmp-<base of dst>-XXXXXX, for mkstemp; NULL when out of memory. */
static char *tmp_name(const char *dir, const char *dst)
{
	const char *base = strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst;
	char *tmp;
	if (asprintf(&tmp, "%s/" MT_TMP_PREFIX "%s-XXXXXX", dir, base) < 0)
		return NULL;
	return tmp;
}

int models_copy_to_tmp(const struct models_copy_src *src, size_t n_src, const char *dst,
		       mode_t mode, uid_t uid, gid_t gid, struct sha256 *h1,
		       char part_hex[SHA256_HEX], struct models_progress *sp, char **tmp_out,
		       struct moat_err *e)
{
	char *dir = fs_dirname(dst);
	char *tmp = dir ? tmp_name(dir, dst) : NULL;
	unsigned char *block = NULL;
	struct sha256 ph = { NULL };
	int fd = -1, sfd = -1;

	free(dir);
	*tmp_out = NULL;
	if (!tmp || !(block = malloc(COPY_BLOCK)))
		goto nomem;
	if (part_hex && sha256_init(&ph) < 0)
		goto nomem;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set(e, MOAT_EIO, "cannot create a temporary file for '%s': %s", dst,
			strerror(errno));
		goto fail;
	}
	for (size_t s = 0; s < n_src; s++) {
		uint64_t got = 0, len = src[s].len, off = src[s].off;
		sfd = open(src[s].path, O_RDONLY | O_CLOEXEC);
		if (sfd < 0) {
			err_set(e, MOAT_EIO, "cannot open '%s': %s", src[s].path, strerror(errno));
			goto fail;
		}
		if (pump(sfd, src[s].path, off, len, block, h1, part_hex ? &ph : NULL, fd, tmp, sp,
			 &got, e) < 0)
			goto fail;
		if (got < len && len != UINT64_MAX) {
			err_set(e, MOAT_ECORRUPT, "'%s' ends after %llu bytes, expected %llu",
				src[s].path, (unsigned long long)(off + got),
				(unsigned long long)(off + len));
			goto fail;
		}
		close(sfd);
		sfd = -1;
	}
	if (fchmod(fd, mode) < 0 || (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) || fsync(fd) < 0) {
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	if (part_hex) {
		unsigned char d[SHA256_LEN];
		sha256_final(&ph, d);
		hex_encode(d, SHA256_LEN, part_hex);
	}
	free(block);
	*tmp_out = tmp;
	return 0;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	if (sfd >= 0)
		close(sfd);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	sha256_release(&ph);
	free(block);
	free(tmp);
	return -1;
}

int models_write_durable(const char *tmp_dir, const char *dst, const void *data, size_t len,
			 mode_t mode, uid_t uid, gid_t gid, int64_t mtime_sec, long mtime_nsec,
			 struct moat_err *e)
{
	char *tmp = tmp_name(tmp_dir, dst);
	int fd;
	if (!tmp)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set(e, MOAT_EIO, "cannot create a temporary file in '%s': %s", tmp_dir,
			strerror(errno));
		free(tmp);
		return -1;
	}
	if (fs_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)) {
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (mtime_sec >= 0) {
		struct timespec ts[2];
		ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime_sec;
		ts[0].tv_nsec = ts[1].tv_nsec = mtime_nsec;
		if (futimens(fd, ts) < 0) {
			err_set(e, MOAT_EIO, "cannot set the time of '%s': %s", tmp, strerror(errno));
			goto fail;
		}
	}
	if (fsync(fd) < 0) {
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (models_rename_durable(tmp, dst, e) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int models_rename_durable(const char *tmp, const char *dst, struct moat_err *e)
{
	char *dir = fs_dirname(dst);  /* first: out of memory must leave tmp as it is */
	int rc;
	if (!dir)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	if (rename(tmp, dst) < 0)
		rc = err_set(e, MOAT_EIO, "cannot rename '%s' to '%s': %s", tmp, dst,
			     strerror(errno));
	else
		rc = fs_sync_dir(dir, e);
	free(dir);
	return rc;
}
