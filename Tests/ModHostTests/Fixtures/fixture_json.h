/*
 * fixture_json.h: the little JSON the newer fixtures read and write (services.c,
 * concurrent.c, future.c). Input is NUL-terminated and well formed (the host checked it);
 * nothing here decodes escapes. All functions are static inline, so a fixture that uses
 * only some of them builds warning-free.
 */
#ifndef FIXTURE_JSON_H
#define FIXTURE_JSON_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable, NUL-terminated output buffer. */
typedef struct fx_buf { char *p; size_t len, cap; } fx_buf;

static inline void fx_put(fx_buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        if (!(b->p = realloc(b->p, b->cap))) abort(); /* a test fixture: no recovery */
    }
    memcpy(b->p + b->len, s, n);
    b->p[b->len += n] = '\0';
}

static inline void fx_puts(fx_buf *b, const char *s) { fx_put(b, s, strlen(s)); }

static inline void fx_put_int(fx_buf *b, long long v) {
    char s[32];
    fx_put(b, s, (size_t)snprintf(s, sizeof s, "%lld", v));
}

static inline const char *fx_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* The end of the JSON value at p, or NULL. */
static inline const char *fx_skip(const char *p) {
    int depth = 0;
    do {
        p = fx_ws(p);
        if (*p == '"') {
            for (p++; *p != '"'; p++)
                if (!*p || (*p == '\\' && !*++p)) return NULL;
            p++;
        } else if (*p == '[' || *p == '{') depth++, p++;
        else if (*p == ']' || *p == '}') { if (depth-- == 0) return NULL; p++; }
        else if (*p == ',' || *p == ':') { if (depth == 0) return NULL; p++; }
        else if (!*p) return NULL;
        else while (*p && !strchr(" \t\r\n,:[]{}\"", *p)) p++;
    } while (depth > 0);
    return p;
}

/* The value of member `key` of the object at p, or NULL. */
static inline const char *fx_field(const char *p, const char *key) {
    size_t n = strlen(key);
    if (!p || *(p = fx_ws(p)) != '{') return NULL;
    for (p++;;) {
        const char *k = fx_ws(p), *end = fx_skip(k);
        if (*k != '"' || !end || *(p = fx_ws(end)) != ':') return NULL;
        p = fx_ws(p + 1);
        if ((size_t)(end - k - 2) == n && memcmp(k + 1, key, n) == 0) return p;
        if (!(p = fx_skip(p)) || *(p = fx_ws(p)) != ',') return NULL;
        p++;
    }
}

/* The raw bytes between the quotes of the JSON string at p. */
static inline int fx_string(const char *p, const char **s, size_t *n) {
    const char *end;
    if (!p || *(p = fx_ws(p)) != '"' || !(end = fx_skip(p))) return 0;
    *s = p + 1;
    *n = (size_t)(end - p - 2);
    return 1;
}

/* The integer at p (a JSON number without fraction or exponent). */
static inline int fx_int(const char *p, long long *out) {
    char *end;
    if (!p) return 0;
    p = fx_ws(p);
    if (*p != '-' && (*p < '0' || *p > '9')) return 0;
    errno = 0;
    *out = strtoll(p, &end, 10);
    return !errno && *end != '.' && *end != 'e' && *end != 'E';
}

/* Params that must be [i1, ..., in]: n integers. */
static inline int fx_ints(const char *p, long long *out, int n) {
    if (*(p = fx_ws(p)) != '[') return 0;
    for (int i = 0; i < n; i++) {
        const char *end;
        p = fx_ws(p + 1);
        if (!fx_int(p, &out[i]) || !(end = fx_skip(p)) || *(p = fx_ws(end)) != (i + 1 < n ? ',' : ']')) return 0;
    }
    return *fx_ws(p + 1) == '\0';
}

#endif
