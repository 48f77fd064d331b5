/* fs.c - atomic writes, capped reads, directories. */
#define _GNU_SOURCE
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

int fs_read_file(const char *path, struct buf *out, size_t max, struct moat_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, MOAT_EIO, "cannot open '%s': %s", path, strerror(errno));
	return fs_read_fd(fd, path, out, max, e);
}

int fs_read_fd(int fd, const char *path, struct buf *out, size_t max, struct moat_err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int saved = errno;
		close(fd);
		return err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(saved));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(e, MOAT_EIO, "cannot read '%s': is a directory", path);
	}
	if (max && (uint64_t)st.st_size > max) {
		close(fd);
		return err_set(e, MOAT_ELIMIT, "'%s' is %lld bytes, over the limit of %zu",
			       path, (long long)st.st_size, max);
	}
	/* room for exactly its size: a large file is held once, not up to twice
	 * (buf_grow doubles); one that grows meanwhile grows the buffer */
	if (st.st_size > 0 && buf_reserve(out, out->len + (size_t)st.st_size) < 0) {
		close(fd);
		return err_set(e, out->failed, "cannot read '%s': %s", path,
			       moat_strerror(out->failed));
	}
	for (int exact = st.st_size > 0;;) {
		ssize_t n;
		size_t room = out->alloc ? out->alloc - out->len - 1 : 0;
		if (exact && room == 0) {
			/* full: is there more? */
			char probe[65536];
			n = read(fd, probe, sizeof(probe));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				int saved = errno;
				close(fd);
				return err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(saved));
			}
			if (n == 0)
				break;
			exact = 0;  /* it grew: grow with it */
			buf_add(out, probe, (size_t)n);
			if (buf_failed(out) || (max && out->len > max)) {
				close(fd);
				if (out->failed == MOAT_ELIMIT || (max && out->len > max))
					return err_set(e, MOAT_ELIMIT, "'%s' is over the limit of %zu bytes",
						       path, max);
				return err_set(e, MOAT_ENOMEM, "cannot read '%s': out of memory", path);
			}
			continue;
		}
		if (!exact && room < 4096 && buf_grow(out, 65536) < 0) {
			close(fd);
			if (out->failed == MOAT_ELIMIT || (max && out->len >= max))
				return err_set(e, MOAT_ELIMIT, "'%s' is over the limit of %zu bytes",
					       path, max);
			return err_set(e, MOAT_ENOMEM, "cannot read '%s': out of memory", path);
		}
		n = read(fd, out->data + out->len, out->alloc - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			return err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(saved));
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (max && out->len > max) {
			close(fd);
			return err_set(e, MOAT_ELIMIT, "'%s' is over the limit of %zu bytes", path, max);
		}
	}
	close(fd);
	return 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

char *fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int fs_sync_dir(const char *dir, struct moat_err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, err_errno_code(errno, MOAT_EIO), "cannot open directory '%s': %s", dir, strerror(errno));
	if (fsync(fd) < 0 && errno != EINVAL) {
		int saved = errno;
		close(fd);
		return err_set(e, err_errno_code(saved, MOAT_EIO), "cannot sync directory '%s': %s", dir, strerror(saved));
	}
	close(fd);
	return 0;
}

static int write_atomic(const char *path, const char *tmp_dir, const void *data, size_t len,
			mode_t mode, int sync, struct moat_err *e);

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct moat_err *e)
{
	return write_atomic(path, NULL, data, len, mode, 1, e);
}

int fs_write_atomic_in(const char *path, const char *tmp_dir, const void *data, size_t len,
		       mode_t mode, struct moat_err *e)
{
	return write_atomic(path, tmp_dir, data, len, mode, 1, e);
}

int fs_write_atomic_in_nosync(const char *path, const char *tmp_dir, const void *data, size_t len,
			      mode_t mode, struct moat_err *e)
{
	return write_atomic(path, tmp_dir, data, len, mode, 0, e);
}

int fs_sync_fs(const char *path, struct moat_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, err_errno_code(errno, MOAT_EIO), "cannot open '%s': %s", path, strerror(errno));
	if (syncfs(fd) < 0) {
		int saved = errno;
		close(fd);
		return err_set(e, err_errno_code(saved, MOAT_EIO), "cannot sync '%s' to disk: %s", path, strerror(saved));
	}
	close(fd);
	return 0;
}

static int write_atomic(const char *path, const char *tmp_dir, const void *data, size_t len,
			mode_t mode, int sync, struct moat_err *e)
{
	char *tmp, *dir;
	int fd, rc = -1;
	if ((tmp_dir ? asprintf(&tmp, "%s/tmp-XXXXXX", tmp_dir)
		     : asprintf(&tmp, "%s.tmp-XXXXXX", path)) < 0)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set(e, err_errno_code(errno, MOAT_EIO), "cannot create a temporary file for '%s': %s", path,
			strerror(errno));
		free(tmp);
		return -1;
	}
	if (fs_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 || (sync && fsync(fd) < 0)) {
		err_set(e, err_errno_code(errno, MOAT_EIO), "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		err_set(e, err_errno_code(errno, MOAT_EIO), "cannot put '%s' in place: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	if (!sync)
		return 0;
	dir = fs_dirname(path);
	rc = dir ? fs_sync_dir(dir, e) : 0;
	free(dir);
	return rc;
}

/* The one mkdir -p: creates each missing directory of path in turn. */
static int mkdirs(const char *path, mode_t mode, uid_t uid, gid_t gid, int durable,
		  struct moat_err *e)
{
	char *p = strdup(path);
	size_t i = 0;
	if (!p)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	do {
		char c;
		if (p[i])
			i++;  /* past the '/' (or a leading character) */
		while (p[i] && p[i] != '/')
			i++;
		c = p[i];
		p[i] = '\0';
		if (mkdir(p, mode) == 0) {
			if (uid != (uid_t)-1 && chown(p, uid, gid) < 0) {
				err_set(e, MOAT_EIO, "cannot give '%s' to its owner: %s", p,
					strerror(errno));
				free(p);
				return -1;
			}
			if (durable) {
				char *up = fs_dirname(p);
				if (up)
					fs_sync_dir(up, NULL);
				free(up);
			}
		} else if (errno != EEXIST) {
			err_set(e, err_errno_code(errno, MOAT_EIO), "cannot create directory '%s': %s", p, strerror(errno));
			free(p);
			return -1;
		}
		p[i] = c;
	} while (p[i]);
	free(p);
	if (!fs_is_dir(path))
		return err_set(e, MOAT_EIO, "'%s' exists and is not a directory", path);
	return 0;
}

int fs_mkdirs(const char *path, mode_t mode, struct moat_err *e)
{
	return mkdirs(path, mode, (uid_t)-1, (gid_t)-1, 0, e);
}

int fs_mkdirs_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, struct moat_err *e)
{
	return mkdirs(path, mode, uid, gid, 1, e);
}

char *fs_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *r = malloc(la + lb + 2);
	if (!r)
		return NULL;
	memcpy(r, a, la);
	if (la && a[la - 1] != '/')
		r[la++] = '/';
	memcpy(r + la, b, lb + 1);
	return r;
}

int fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
