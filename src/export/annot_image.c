/*
 * annot_image.c - the size of an image, read from its file header without
 * decoding a pixel: YOLO's normalised boxes need it, and so do VOC files
 * that leave <size> out.  JPEG (the frame header, turned by its EXIF
 * orientation as annotation tools show the photo), PNG (IHDR), GIF, BMP,
 * WebP (VP8, VP8L, VP8X) and TIFF (the first directory).
 *
 * Not for: decoding, or checking that the rest of the file is sound (ingest
 * reads images; here a damaged file past its header still has a size).
 * Reads at most a few kilobytes per header, at offsets the file gives,
 * through pread; uses only libc.
 */
#define _GNU_SOURCE
#include "annot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/banned.h"

/* A source of bytes at offsets: a file, or memory (an EXIF block). */
struct src {
	int fd;
	const unsigned char *mem;
	uint64_t base, len;
};

static int rd(const struct src *s, uint64_t off, void *dst, size_t n)
{
	if (off > s->len || n > s->len - off)
		return -1;
	if (s->mem) {
		memcpy(dst, s->mem + s->base + off, n);
		return 0;
	}
	while (n) {
		ssize_t k = pread(s->fd, dst, n, (off_t)(s->base + off));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		dst = (unsigned char *)dst + k, n -= (size_t)k, off += (uint64_t)k;
	}
	return 0;
}

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned le16(const unsigned char *p) { return (unsigned)p[1] << 8 | p[0]; }
static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The first directory of a TIFF structure (a TIFF file, or the EXIF block of
 * a JPEG): width, height (0 when absent) and orientation (1 when absent). */
static int tiff_ifd0(const struct src *s, uint32_t *w, uint32_t *h, unsigned *orient)
{
	unsigned char hd[8], ent[12];
	int le;
	uint32_t ifd;
	unsigned n;
	*w = *h = 0;
	*orient = 1;
	if (rd(s, 0, hd, 8) < 0)
		return -1;
	if (!memcmp(hd, "II*\0", 4))
		le = 1;
	else if (!memcmp(hd, "MM\0*", 4))
		le = 0;
	else
		return -1;
	ifd = le ? le32(hd + 4) : be32(hd + 4);
	if (rd(s, ifd, hd, 2) < 0)
		return -1;
	n = le ? le16(hd) : be16(hd);
	for (unsigned i = 0; i < n && i < 1000; i++) {
		unsigned tag, type;
		uint32_t val;
		if (rd(s, (uint64_t)ifd + 2 + 12 * (uint64_t)i, ent, 12) < 0)
			return -1;
		tag = le ? le16(ent) : be16(ent);
		type = le ? le16(ent + 2) : be16(ent + 2);
		if (type == 3)
			val = le ? le16(ent + 8) : be16(ent + 8);
		else if (type == 4)
			val = le ? le32(ent + 8) : be32(ent + 8);
		else
			continue;
		if (tag == 256)
			*w = val;
		else if (tag == 257)
			*h = val;
		else if (tag == 274)
			*orient = val;
	}
	return 0;
}

/* JPEG: walk the markers to the first frame header (SOFn); an APP1 "Exif"
 * segment before it gives the orientation. */
static int jpeg_size(const struct src *s, uint32_t *w, uint32_t *h, unsigned *orient)
{
	uint64_t pos = 2;
	*orient = 1;
	for (int guard = 0; guard < 100000; guard++) {
		unsigned char m[4], sof[5];
		unsigned marker, len;
		if (rd(s, pos, m, 2) < 0 || m[0] != 0xff)
			return -1;
		marker = m[1];
		if (marker == 0xff) {           /* fill byte */
			pos++;
			continue;
		}
		if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
			pos += 2;
			continue;
		}
		if (marker == 0xd9 || marker == 0xda)
			return -1;              /* no frame header before the data */
		if (rd(s, pos + 2, m + 2, 2) < 0)
			return -1;
		len = be16(m + 2);
		if (len < 2)
			return -1;
		if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
		    marker != 0xcc) {
			if (len < 7 || rd(s, pos + 4, sof, 5) < 0)
				return -1;
			*h = be16(sof + 1);
			*w = be16(sof + 3);
			return 0;
		}
		if (marker == 0xe1 && len >= 16) {
			unsigned char id[6];
			if (rd(s, pos + 4, id, 6) == 0 && !memcmp(id, "Exif\0\0", 6)) {
				struct src ex = { s->fd, s->mem, s->base + pos + 10, len - 8 };
				uint32_t ew, eh;
				unsigned o;
				if (tiff_ifd0(&ex, &ew, &eh, &o) == 0)
					*orient = o;
			}
		}
		pos += 2 + (uint64_t)len;
	}
	return -1;
}

static int webp_size(const struct src *s, uint32_t *w, uint32_t *h)
{
	unsigned char b[30];
	if (rd(s, 0, b, 30) < 0)
		return -1;
	if (!memcmp(b + 12, "VP8 ", 4)) {
		if (b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a)
			return -1;
		*w = le16(b + 26) & 0x3fff;
		*h = le16(b + 28) & 0x3fff;
		return 0;
	}
	if (!memcmp(b + 12, "VP8L", 4)) {
		uint32_t bits;
		if (b[20] != 0x2f)
			return -1;
		bits = le32(b + 21);
		*w = (bits & 0x3fff) + 1;
		*h = ((bits >> 14) & 0x3fff) + 1;
		return 0;
	}
	if (!memcmp(b + 12, "VP8X", 4)) {
		*w = ((uint32_t)b[24] | (uint32_t)b[25] << 8 | (uint32_t)b[26] << 16) + 1;
		*h = ((uint32_t)b[27] | (uint32_t)b[28] << 8 | (uint32_t)b[29] << 16) + 1;
		return 0;
	}
	return -1;
}

static int size_of(const struct src *s, uint32_t *w, uint32_t *h, const char **kind)
{
	unsigned char b[26];
	unsigned orient = 1;
	size_t n = s->len < sizeof(b) ? (size_t)s->len : sizeof(b);
	*w = *h = 0;
	memset(b, 0, sizeof(b));
	if (n < 8 || rd(s, 0, b, n) < 0)
		return -1;
	if (b[0] == 0xff && b[1] == 0xd8) {
		*kind = "JPEG";
		if (jpeg_size(s, w, h, &orient) < 0)
			return -1;
	} else if (!memcmp(b, "\x89PNG\r\n\x1a\n", 8)) {
		*kind = "PNG";
		if (n < 24 || memcmp(b + 12, "IHDR", 4))
			return -1;
		*w = be32(b + 16);
		*h = be32(b + 20);
	} else if (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)) {
		*kind = "GIF";
		if (n < 10)
			return -1;
		*w = le16(b + 6);
		*h = le16(b + 8);
	} else if (b[0] == 'B' && b[1] == 'M') {
		uint32_t dib, hh;
		*kind = "BMP";
		if (n < 26)
			return -1;
		dib = le32(b + 14);
		if (dib == 12) {
			*w = le16(b + 18);
			*h = le16(b + 20);
		} else {
			*w = le32(b + 18);
			hh = le32(b + 22);
			/* a negative height means rows top-down */
			*h = hh & 0x80000000u ? (uint32_t)(-(int64_t)(int32_t)hh) : hh;
		}
	} else if (!memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) {
		*kind = "WebP";
		if (webp_size(s, w, h) < 0)
			return -1;
	} else if (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4)) {
		*kind = "TIFF";
		if (tiff_ifd0(s, w, h, &orient) < 0)
			return -1;
	} else {
		*kind = NULL;
		return -1;
	}
	if (orient >= 5 && orient <= 8) {  /* turned by 90 degrees for display */
		uint32_t t = *w;
		*w = *h;
		*h = t;
	}
	return 0;
}

int annot_image_size(const char *path, int *w, int *h, struct moat_err *e)
{
	struct stat st;
	struct src s = { -1, NULL, 0, 0 };
	const char *kind = NULL;
	uint32_t iw = 0, ih = 0;
	int rc;
	*w = *h = 0;
	s.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0)
		return err_set(e, MOAT_EIO, "cannot open the image '%s': %s", path, strerror(errno));
	if (fstat(s.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(s.fd);
		return err_set(e, MOAT_EIO, "cannot read the image '%s': not a regular file", path);
	}
	s.len = (uint64_t)st.st_size;
	rc = size_of(&s, &iw, &ih, &kind);
	close(s.fd);
	if (rc < 0 && !kind)
		return err_set(e, MOAT_EUNSUPPORTED, "'%s': not an image whose size moat can read "
			       "(JPEG, PNG, GIF, BMP, WebP, TIFF)", path);
	if (rc < 0)
		return err_set(e, MOAT_EPARSE, "'%s': damaged %s header (no size in it)", path, kind);
	if (!annot_size_ok(iw) || !annot_size_ok(ih))
		return err_set(e, MOAT_ELIMIT, "'%s': %s of %ux%u pixels (sides must be 1 to %d)",
			       path, kind, (unsigned)iw, (unsigned)ih, ANNOT_MAX_IMAGE_SIDE);
	*w = (int)iw;
	*h = (int)ih;
	return 0;
}
