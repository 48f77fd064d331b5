/*
 * fs.h - file helpers with moat's crash-safety rules: no partial file is ever
 * visible under its final name.  Writers go to a temporary name in the same
 * directory, fsync, rename, then fsync the directory.
 */
#ifndef MOAT_FS_H
#define MOAT_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* Reads a whole file into out (appending).  Fails with MOAT_ELIMIT, naming the
 * file, when it is larger than max bytes (0: no limit). */
int fs_read_file(const char *path, struct buf *out, size_t max, struct moat_err *e)
	__attribute__((warn_unused_result));
/* The same from an open descriptor (path only names it in messages); fd is
 * closed, whatever happens. */
int fs_read_fd(int fd, const char *path, struct buf *out, size_t max, struct moat_err *e)
	__attribute__((warn_unused_result));

/* Writes data to path atomically (temp name, fsync, rename, fsync of dir). */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct moat_err *e) __attribute__((warn_unused_result));

/* The same, with the temporary file in tmp_dir (same file system), so that
 * what a crash leaves behind is all in one place to sweep. */
int fs_write_atomic_in(const char *path, const char *tmp_dir, const void *data, size_t len,
		       mode_t mode, struct moat_err *e) __attribute__((warn_unused_result));

/* The same without any fsync: durable only after a later fs_sync_fs() on the
 * same file system.  For many small files written in a batch. */
int fs_write_atomic_in_nosync(const char *path, const char *tmp_dir, const void *data, size_t len,
			      mode_t mode, struct moat_err *e) __attribute__((warn_unused_result));

/* syncfs(2) on the file system holding path: everything written there so far
 * is on disk when it returns. */
int fs_sync_fs(const char *path, struct moat_err *e);

/* mkdir -p; existing directories are fine.  The directories it creates get
 * mode and are not fsynced (ingest syncs its file system once per batch). */
int fs_mkdirs(const char *path, mode_t mode, struct moat_err *e)
	__attribute__((warn_unused_result));

/* mkdir -p for a tree that another user's program reads (an Ollama store
 * served by the `ollama` user): each directory it creates gets mode, is given
 * to uid/gid (uid (uid_t)-1: left as created), and is made durable (the
 * directory above it is fsynced), so that a file renamed into it survives a
 * crash.  Existing directories are left as they are. */
int fs_mkdirs_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, struct moat_err *e)
	__attribute__((warn_unused_result));

/* fsyncs a directory so a rename inside it is durable. */
int fs_sync_dir(const char *dir, struct moat_err *e);

/* Writes all of data to fd, retrying short writes and EINTR. */
int fs_write_all(int fd, const void *data, size_t len);

/* Joins a and b with one '/' into a new string (malloc'd) */
char *fs_join(const char *a, const char *b);

/* Returns 1 if path exists (any type, not following a final symlink). */
int fs_exists(const char *path);
int fs_is_dir(const char *path);

/* The directory part of path (malloc'd): "a/b/c" -> "a/b", "c" -> "." */
char *fs_dirname(const char *path);

#endif
