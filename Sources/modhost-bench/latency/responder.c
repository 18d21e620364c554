/*
 * responder.c: the bare C baseline of `modhost-bench latency`. Reads JSON-RPC lines on stdin,
 * finds "id" in each and writes a canned answer with that id: no parsing beyond that, one
 * write(2) per read chunk. What a round trip costs with no work in it.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

static char in[1 << 16];
static char out[1 << 18];

int main(void) {
    size_t have = 0;
    for (;;) {
        ssize_t n = read(0, in + have, sizeof in - have);
        if (n <= 0) return 0;
        have += (size_t)n;
        size_t used = 0, written = 0;
        char *newline;
        while ((newline = memchr(in + used, '\n', have - used)) != NULL) {
            *newline = 0;
            const char *id = strstr(in + used, "\"id\":");
            const char *value = id ? id + 5 : "null";
            size_t length = id ? strcspn(value, ",}") : 4;
            if (written + length + 64 > sizeof out) break;
            memcpy(out + written, "{\"jsonrpc\":\"2.0\",\"id\":", 22);
            written += 22;
            memcpy(out + written, value, length);
            written += length;
            memcpy(out + written, ",\"result\":\"pong\"}\n", 18);
            written += 18;
            used = (size_t)(newline - in) + 1;
        }
        for (size_t off = 0; off < written;) {
            ssize_t w = write(1, out + off, written - off);
            if (w <= 0) return 1;
            off += (size_t)w;
        }
        memmove(in, in + used, have - used);
        have -= used;
        if (have == sizeof in) have = 0; /* a line longer than the buffer: dropped */
    }
}
