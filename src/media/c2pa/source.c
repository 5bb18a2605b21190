/* Reading the input by offset: a file through pread (never mapped or slurped whole), or a buffer. */
#include "c2pa_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

lc_status c2pa_src_open(c2pa_src *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->name = path;
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) return lc_error(LC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(s->fd);
        s->fd = -1;
        return lc_error(LC_ERR_IO, "%s: not a regular file%s%s", path, e ? ": " : "", e ? strerror(e) : "");
    }
    s->size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return LC_OK;
}

void c2pa_src_memory(c2pa_src *s, const void *data, size_t len, const char *name) {
    memset(s, 0, sizeof *s);
    s->name = name ? name : "(memory)";
    s->fd = -1;
    s->mem = data;
    s->size = len;
}

void c2pa_src_close(c2pa_src *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

lc_status c2pa_src_read(const c2pa_src *s, uint64_t off, void *buf, size_t n, const char *what) {
    if (off > s->size || n > s->size - off)
        return lc_error(LC_ERR_FORMAT, "%s: truncated file: %s at byte %llu needs %zu bytes, the file has %llu",
                        s->name, what, (unsigned long long)off, n, (unsigned long long)s->size);
    if (s->fd < 0) {
        if (n) memcpy(buf, s->mem + off, n);
        return LC_OK;
    }
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = pread(s->fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return lc_error(LC_ERR_IO, "%s: read error at byte %llu: %s", s->name, (unsigned long long)off,
                            strerror(errno));
        }
        if (r == 0)
            return lc_error(LC_ERR_FORMAT, "%s: truncated file: %s at byte %llu (the file shrank while read)",
                            s->name, what, (unsigned long long)off);
        p += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return LC_OK;
}
