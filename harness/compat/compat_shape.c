/*
 * compat_shape.c - is a JSON document a -dump-vmstate dump?
 *
 * Checked once, up front, so the comparison can read the dump without a
 * test at every step, and so a malformed file is named by one JSON path
 * ("at $.pl011.Description.Fields[3]: 'size' is not an integer") instead of
 * surfacing as a strange grade.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"

/* Deeper nesting than any real description (QEMU's deepest is under 10);
 * the bound keeps a hostile file from recursing without limit. */
#define MAX_DEPTH 64

typedef struct Shape {
    char *err;
    size_t errn;
} Shape;

static bool bad(Shape *s, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(Shape *s, const char *path, const char *fmt, ...)
{
    int k = snprintf(s->err, s->errn, "at %s: ", path);
    if (k >= 0 && (size_t)k < s->errn) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err + k, s->errn - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return false;
}

typedef enum Want { W_STRING, W_INTEGER, W_BOOLEAN, W_OBJECT, W_ARRAY } Want;

static bool is(const json_t *v, Want w)
{
    switch (w) {
    case W_STRING: return json_is_string(v);
    case W_INTEGER: return json_is_integer(v);
    case W_BOOLEAN: return json_is_boolean(v);
    case W_OBJECT: return json_is_object(v);
    case W_ARRAY: return json_is_array(v);
    }
    return false;
}

static const char *const want_name[] = { "a string", "an integer", "a boolean", "an object",
                                          "an array" };

/* Member `key` of object o: must exist (unless optional) and be of kind w. */
static bool member(Shape *s, const char *path, const json_t *o, const char *key, Want w,
                   bool optional)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return optional || bad(s, path, "'%s' is missing", key);
    if (!is(v, w))
        return bad(s, path, "'%s' is not %s", key, want_name[w]);
    if (w == W_INTEGER && json_integer_value(v) < 0)
        return bad(s, path, "'%s' is negative", key);
    return true;
}

static bool desc_ok(Shape *s, const char *path, const json_t *d, int depth);

/* A child's JSON path (cut short if absurdly long: it is only for the message). */
static void child(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void child(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

static bool field_ok(Shape *s, const char *path, const json_t *f, int depth)
{
    if (!json_is_object(f))
        return bad(s, path, "a field is not an object");
    if (!member(s, path, f, "field", W_STRING, false) ||
        !member(s, path, f, "version_id", W_INTEGER, false) ||
        !member(s, path, f, "field_exists", W_BOOLEAN, false) ||
        !member(s, path, f, "size", W_INTEGER, false) ||
        !member(s, path, f, "num", W_INTEGER, true) ||
        !member(s, path, f, "info", W_STRING, true) ||
        !member(s, path, f, "Description", W_OBJECT, true))
        return false;
    const json_t *d = json_object_get(f, "Description");
    if (!d)
        return true;
    char sub[1024];
    child(sub, sizeof sub, "%s.Description", path);
    return desc_ok(s, sub, d, depth + 1);
}

static bool desc_ok(Shape *s, const char *path, const json_t *d, int depth)
{
    if (depth > MAX_DEPTH)
        return bad(s, path, "descriptions nested deeper than %d", MAX_DEPTH);
    if (!json_is_object(d))
        return bad(s, path, "a description is not an object");
    if (!member(s, path, d, "name", W_STRING, false) ||
        !member(s, path, d, "version_id", W_INTEGER, false) ||
        !member(s, path, d, "minimum_version_id", W_INTEGER, false) ||
        !member(s, path, d, "Fields", W_ARRAY, true) ||
        !member(s, path, d, "Subsections", W_ARRAY, true))
        return false;
    if (json_array_size(json_object_get(d, "Fields")) > COMPAT_MAX_FIELDS)
        return bad(s, path, "more than %d fields", COMPAT_MAX_FIELDS);
    char sub[1024];
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(d, "Fields"), i, v) {
        child(sub, sizeof sub, "%s.Fields[%zu]", path, i);
        if (!field_ok(s, sub, v, depth))
            return false;
    }
    json_array_foreach(json_object_get(d, "Subsections"), i, v) {
        child(sub, sizeof sub, "%s.Subsections[%zu]", path, i);
        if (!desc_ok(s, sub, v, depth + 1))
            return false;
    }
    return true;
}

static bool section_ok(Shape *s, const char *key, const json_t *v)
{
    char path[512];
    child(path, sizeof path, "$.%s", key);
    if (!json_is_object(v))
        return bad(s, path, "a section is not an object");
    if (!strcmp(key, "vmschkmachine"))
        return member(s, path, v, "Name", W_STRING, false);
    if (!member(s, path, v, "version_id", W_INTEGER, false) ||
        !member(s, path, v, "minimum_version_id", W_INTEGER, false) ||
        !member(s, path, v, "Description", W_OBJECT, false))
        return false;
    char sub[1024];
    child(sub, sizeof sub, "%s.Description", path);
    return desc_ok(s, sub, json_object_get(v, "Description"), 0);
}

bool compat_validate(const json_t *dump, char *err, size_t errn)
{
    Shape s = { err, errn };
    if (!json_is_object(dump))
        return bad(&s, "$", "the dump is not a JSON object");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)dump, key, v)
        if (!section_ok(&s, key, v))
            return false;
    return true;
}

const char *compat_machine(const json_t *dump)
{
    return json_string_value(json_object_get(json_object_get(dump, "vmschkmachine"), "Name"));
}
