/*
 * revive.core._drv_scan: the compiled reader of .drv terms.
 *
 * Loading a 50,000-node closure reads about 150 MB of Derive(...) terms;
 * in pure Python (revive/core/drv_scan.py) each 3 kB file costs about
 * 50 microseconds, seven times the cost of reading it. This module reads
 * the UTF-8 bytes of a file in one left-to-right pass and builds exactly
 * the tuples drv_scan.scan_fields builds, in about 10 microseconds
 * including the Derivation object (see make_derivation below).
 *
 * It is strict and complete: it accepts exactly the texts the careful
 * parser of revive.core.aterm accepts (the grammar of guix-derivations.md
 * section 2.1, no whitespace, a backslash escapes the next character with
 * \n \r \t meaning newline, carriage return, tab) and returns None for
 * anything else, including bytes that are not UTF-8, so that the careful
 * parser can say where the error is. It never reads outside the buffer:
 * every access is checked against its end.
 *
 * Interning follows the Python scanner: names, input paths, sources,
 * system, builder, arguments and environment keys are interned (a closure
 * repeats them hundreds of thousands of times: 84% of the arguments of a
 * distro-shaped closure are repeats); tuples of output names such as
 * ("out",) are shared through a small table.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Tuples of output names, shared by every input edge; bounded so that a
 * hostile closure cannot grow it without limit. */
#define NAME_TUPLES_MAX 1024
static PyObject *name_tuples = NULL;
/* ("out",), the names of nearly every input edge. */
static PyObject *out_only_names = NULL;

typedef struct {
    const char *p;   /* next byte to read */
    const char *end; /* one past the last byte */
    char *scratch;   /* room for the longest string with its escapes resolved */
    PyObject *edges; /* the caller's table of shared input edges, or NULL */
} Scanner;

/* 0 if a function called name was given wanted arguments, else -1 with a TypeError. */
static int
arity(const char *name, Py_ssize_t nargs, Py_ssize_t wanted)
{
    if (nargs == wanted) {
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, wanted, nargs);
    return -1;
}

/* Failure modes: a syntax error (or bytes that are not UTF-8) returns NULL
 * with no exception set; a real error (memory) returns NULL with one set. */

static int
expect(Scanner *s, char c)
{
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

static PyObject *
decode(const char *start, Py_ssize_t size, int intern)
{
    PyObject *value = PyUnicode_DecodeUTF8(start, size, NULL);
    if (value == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear(); /* not UTF-8: the careful parser reports it */
        }
        return NULL;
    }
    if (intern) {
        PyUnicode_InternInPlace(&value);
    }
    return value;
}

/* A string literal at s->p, quotes included; its value as a str. */
static PyObject *
read_string(Scanner *s, int intern)
{
    if (s->p >= s->end || *s->p != '"') {
        return NULL;
    }
    const char *start = s->p + 1;
    const char *quote = memchr(start, '"', (size_t)(s->end - start));
    if (quote == NULL) {
        return NULL;
    }
    const char *backslash = memchr(start, '\\', (size_t)(quote - start));
    if (backslash == NULL) {
        s->p = quote + 1;
        return decode(start, quote - start, intern);
    }
    /* Escapes: copy the value into the scratch buffer, resolving them. */
    char *out = s->scratch;
    size_t plain = (size_t)(backslash - start);
    memcpy(out, start, plain);
    out += plain;
    const char *q = backslash;
    const char *end = s->end;
    unsigned char non_ascii = 0;
    for (const char *b = start; b < backslash; b++) {
        non_ascii |= (unsigned char)*b & 0x80;
    }
    for (;;) {
        if (q >= end) {
            return NULL; /* unterminated */
        }
        char c = *q;
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            if (q + 1 >= end) {
                return NULL; /* backslash at the end of the text */
            }
            c = q[1];
            *out++ = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
            q += 2;
        }
        else {
            *out++ = c;
            q++;
        }
        non_ascii |= (unsigned char)c & 0x80;
    }
    s->p = q + 1;
    if (non_ascii) {
        /* The text must be UTF-8 as written, before its escapes are
         * resolved: a backslash inside a multi-byte sequence ("\xc3\\\x9f")
         * makes the file invalid even though the value would decode. */
        PyObject *raw = decode(start, q - start, 0);
        if (raw == NULL) {
            return NULL;
        }
        Py_DECREF(raw);
    }
    return decode(s->scratch, out - s->scratch, intern);
}

/* Reads one list item at s->p; arg is the reader's own parameter. */
typedef PyObject *(*ItemReader)(Scanner *s, const void *arg);

/* Items are gathered on the stack (most lists are short) and moved into a
 * tuple of the right size at the end: no list, no copy. */
#define STACK_ITEMS 64

/* "[" [ item { "," item } ] "]" as a tuple. */
static PyObject *
read_list(Scanner *s, ItemReader read_item, const void *arg)
{
    if (!expect(s, '[')) {
        return NULL;
    }
    PyObject *stack[STACK_ITEMS];
    PyObject **items = stack;
    Py_ssize_t size = 0;
    Py_ssize_t capacity = STACK_ITEMS;
    PyObject *result = NULL;
    if (!expect(s, ']')) {
        do {
            PyObject *item = read_item(s, arg);
            if (item == NULL) {
                goto done;
            }
            if (size == capacity) {
                PyObject **grown = PyMem_Malloc(2 * (size_t)capacity * sizeof(PyObject *));
                if (grown == NULL) {
                    Py_DECREF(item);
                    PyErr_NoMemory();
                    goto done;
                }
                memcpy(grown, items, (size_t)size * sizeof(PyObject *));
                if (items != stack) {
                    PyMem_Free(items);
                }
                items = grown;
                capacity *= 2;
            }
            items[size++] = item;
        } while (expect(s, ','));
        if (!expect(s, ']')) {
            goto done;
        }
    }
    result = PyTuple_New(size);
    if (result != NULL) {
        for (Py_ssize_t i = 0; i < size; i++) {
            PyTuple_SET_ITEM(result, i, items[i]);
        }
        size = 0; /* the tuple owns them now */
    }
done:
    for (Py_ssize_t i = 0; i < size; i++) {
        Py_DECREF(items[i]);
    }
    if (items != stack) {
        PyMem_Free(items);
    }
    return result;
}

static const int INTERNED = 1;

static PyObject *
string_item(Scanner *s, const void *intern)
{
    return read_string(s, *(const int *)intern);
}

/* A tuple of strings: its size and which of its strings are interned. */
typedef struct {
    Py_ssize_t size;
    int intern[4];
} TupleShape;

/* "(" string { "," string } ")" with exactly shape->size strings. */
static PyObject *
tuple_item(Scanner *s, const void *arg)
{
    const TupleShape *shape = arg;
    if (!expect(s, '(')) {
        return NULL;
    }
    PyObject *tuple = PyTuple_New(shape->size);
    if (tuple == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < shape->size; i++) {
        if (i > 0 && !expect(s, ',')) {
            goto fail;
        }
        PyObject *item = read_string(s, shape->intern[i]);
        if (item == NULL) {
            goto fail;
        }
        PyTuple_SET_ITEM(tuple, i, item);
    }
    if (!expect(s, ')')) {
        goto fail;
    }
    return tuple;
fail:
    Py_DECREF(tuple);
    return NULL;
}

/* The shared tuple equal to names (stolen). */
static PyObject *
shared_names(PyObject *names)
{
    PyObject *known = PyDict_GetItemWithError(name_tuples, names);
    if (known != NULL) {
        Py_INCREF(known);
        Py_DECREF(names);
        return known;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(names);
        return NULL;
    }
    if (PyDict_GET_SIZE(name_tuples) < NAME_TUPLES_MAX &&
        PyDict_SetItem(name_tuples, names, names) < 0) {
        Py_DECREF(names);
        return NULL;
    }
    return names;
}

/* "(" path "," "[" names "]" ")" as (path, names). */
static PyObject *
input_item(Scanner *s, const void *Py_UNUSED(arg))
{
    static const char out_only[] = "[\"out\"]";
    const Py_ssize_t out_only_size = (Py_ssize_t)(sizeof out_only - 1);
    if (!expect(s, '(')) {
        return NULL;
    }
    PyObject *path = read_string(s, 1);
    if (path == NULL) {
        return NULL;
    }
    PyObject *names = NULL;
    if (!expect(s, ',')) {
        goto fail;
    }
    if (s->end - s->p >= out_only_size && memcmp(s->p, out_only, (size_t)out_only_size) == 0) {
        /* Nearly every input uses just "out": no string, no tuple to make. */
        s->p += out_only_size;
        if (!expect(s, ')')) {
            goto fail;
        }
        if (s->edges != NULL) {
            /* Keyed by the (interned, hashed) path alone: no tuple is made
             * for an edge seen before. */
            PyObject *known = PyDict_GetItemWithError(s->edges, path);
            if (known != NULL) {
                Py_INCREF(known);
                Py_DECREF(path);
                return known;
            }
            if (PyErr_Occurred()) {
                goto fail;
            }
        }
        names = out_only_names;
        Py_INCREF(names);
    }
    else {
        names = read_list(s, string_item, &INTERNED);
        if (names == NULL || (names = shared_names(names)) == NULL) {
            goto fail;
        }
        if (!expect(s, ')')) {
            goto fail;
        }
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        goto fail;
    }
    PyTuple_SET_ITEM(pair, 0, path);
    PyTuple_SET_ITEM(pair, 1, names);
    if (s->edges != NULL) {
        PyObject *key = names == out_only_names ? path : pair;
        PyObject *shared = PyDict_SetDefault(s->edges, key, pair);
        if (shared == NULL) {
            Py_DECREF(pair);
            return NULL;
        }
        Py_INCREF(shared);
        Py_DECREF(pair);
        return shared;
    }
    return pair;
fail:
    Py_DECREF(path);
    Py_XDECREF(names);
    return NULL;
}

static const TupleShape OUTPUT = {4, {1, 0, 0, 0}};
static const TupleShape ENV_VAR = {2, {1, 0, 0, 0}};

static PyObject *
scan(Scanner *s)
{
    static const char prefix[] = "Derive(";
    const Py_ssize_t prefix_size = (Py_ssize_t)(sizeof prefix - 1);
    if (s->end - s->p < prefix_size || memcmp(s->p, prefix, (size_t)prefix_size) != 0) {
        return NULL;
    }
    s->p += prefix_size;
    PyObject *fields[7] = {NULL};
    PyObject *result = NULL;
    if ((fields[0] = read_list(s, tuple_item, &OUTPUT)) == NULL || !expect(s, ',') ||
        (fields[1] = read_list(s, input_item, NULL)) == NULL || !expect(s, ',') ||
        (fields[2] = read_list(s, string_item, &INTERNED)) == NULL || !expect(s, ',') ||
        (fields[3] = read_string(s, 1)) == NULL || !expect(s, ',') ||
        (fields[4] = read_string(s, 1)) == NULL || !expect(s, ',') ||
        (fields[5] = read_list(s, string_item, &INTERNED)) == NULL || !expect(s, ',') ||
        (fields[6] = read_list(s, tuple_item, &ENV_VAR)) == NULL || !expect(s, ')') ||
        s->p != s->end) {
        goto done;
    }
    result = PyTuple_New(7);
    if (result == NULL) {
        goto done;
    }
    for (int i = 0; i < 7; i++) {
        PyTuple_SET_ITEM(result, i, fields[i]);
        fields[i] = NULL;
    }
done:
    for (int i = 0; i < 7; i++) {
        Py_XDECREF(fields[i]);
    }
    return result;
}

PyDoc_STRVAR(scan_fields_doc,
"scan_fields(data: bytes, edges: dict | None = None, /) -> Fields | None\n\n"
"The fields of the Derive(...) term in the UTF-8 bytes data, as\n"
"revive.core.drv_scan.scan_fields gives them, or None when data is not a\n"
"valid term (the careful parser then locates the error). Equal input edges\n"
"of every term read with the same edges table are the same tuple.");

static PyObject *
scan_fields(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "scan_fields() takes 1 or 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *arg = args[0];
    PyObject *edges = nargs == 2 && args[1] != Py_None ? args[1] : NULL;
    if (edges != NULL && !PyDict_CheckExact(edges)) {
        PyErr_Format(PyExc_TypeError, "scan_fields() edges must be a dict, not %.100s",
                     Py_TYPE(edges)->tp_name);
        return NULL;
    }
    if (!PyBytes_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "scan_fields() needs bytes, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(arg);
    Scanner s;
    s.p = PyBytes_AS_STRING(arg);
    s.end = s.p + size;
    s.edges = edges;
    s.scratch = PyMem_Malloc((size_t)size + 1);
    if (s.scratch == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = scan(&s);
    PyMem_Free(s.scratch);
    if (result == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return result;
}

/* --- building Derivation objects ---------------------------------------------
 *
 * revive.core.derivation.Derivation and Output are frozen dataclasses with
 * slots; their __init__ sets every field through object.__setattr__. A
 * closure re-opened from the cache builds 50,000 derivations, so this builds
 * them the way Derivation.from_fields does in Python: a bare instance, then
 * each slot set through its member descriptor. The classes and descriptors
 * are passed in by the caller: nothing about them is hard-wired here but
 * the order of the fields. */

#define DERIVATION_SLOTS 9 /* name, outputs, the 6 other fields, _env_index */
#define OUTPUT_SLOTS 4

typedef struct {
    PyTypeObject *derivation;
    PyObject *derivation_slots;
    PyTypeObject *output;
    PyObject *output_slots;
} Classes;

static int
check_slots(PyObject *slots, Py_ssize_t size)
{
    if (!PyTuple_CheckExact(slots) || PyTuple_GET_SIZE(slots) != size) {
        PyErr_Format(PyExc_TypeError, "expected a tuple of %zd slot descriptors", size);
        return -1;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        if (Py_TYPE(PyTuple_GET_ITEM(slots, i))->tp_descr_set == NULL) {
            PyErr_SetString(PyExc_TypeError, "a slot descriptor cannot set values");
            return -1;
        }
    }
    return 0;
}

/* The four class arguments, checked. */
static int
read_classes(PyObject *const *args, Classes *classes)
{
    if (!PyType_Check(args[0]) || !PyType_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "expected the Derivation and Output classes");
        return -1;
    }
    if (check_slots(args[1], DERIVATION_SLOTS) < 0 || check_slots(args[3], OUTPUT_SLOTS) < 0) {
        return -1;
    }
    classes->derivation = (PyTypeObject *)args[0];
    classes->derivation_slots = args[1];
    classes->output = (PyTypeObject *)args[2];
    classes->output_slots = args[3];
    return 0;
}

static PyObject *
new_instance(PyTypeObject *type, PyObject *slots, PyObject *const *values)
{
    PyObject *instance = type->tp_alloc(type, 0);
    if (instance == NULL) {
        return NULL;
    }
    Py_ssize_t size = PyTuple_GET_SIZE(slots);
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *slot = PyTuple_GET_ITEM(slots, i);
        if (Py_TYPE(slot)->tp_descr_set(slot, instance, values[i]) < 0) {
            Py_DECREF(instance);
            return NULL;
        }
    }
    return instance;
}

static PyObject *
build(const Classes *classes, PyObject *name, PyObject *fields)
{
    if (!PyTuple_CheckExact(fields) || PyTuple_GET_SIZE(fields) != 7 ||
        !PyTuple_CheckExact(PyTuple_GET_ITEM(fields, 0))) {
        PyErr_SetString(PyExc_TypeError, "fields must be a 7-tuple starting with the outputs");
        return NULL;
    }
    PyObject *rows = PyTuple_GET_ITEM(fields, 0);
    Py_ssize_t count = PyTuple_GET_SIZE(rows);
    PyObject *outputs = PyTuple_New(count);
    if (outputs == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *row = PyTuple_GET_ITEM(rows, i);
        if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) != OUTPUT_SLOTS) {
            PyErr_SetString(PyExc_TypeError, "an output must be a 4-tuple");
            Py_DECREF(outputs);
            return NULL;
        }
        PyObject *output = new_instance(classes->output, classes->output_slots,
                                        &PyTuple_GET_ITEM(row, 0));
        if (output == NULL) {
            Py_DECREF(outputs);
            return NULL;
        }
        PyTuple_SET_ITEM(outputs, i, output);
    }
    PyObject *values[DERIVATION_SLOTS] = {
        name,
        outputs,
        PyTuple_GET_ITEM(fields, 1),
        PyTuple_GET_ITEM(fields, 2),
        PyTuple_GET_ITEM(fields, 3),
        PyTuple_GET_ITEM(fields, 4),
        PyTuple_GET_ITEM(fields, 5),
        PyTuple_GET_ITEM(fields, 6),
        Py_None,
    };
    PyObject *derivation = new_instance(classes->derivation, classes->derivation_slots, values);
    Py_DECREF(outputs);
    return derivation;
}

PyDoc_STRVAR(make_derivation_doc,
"make_derivation(derivation_cls, derivation_slots, output_cls, output_slots, name, fields, /)\n\n"
"A derivation_cls instance whose slots (descriptors in derivation_slots: name,\n"
"outputs, input_drvs, input_srcs, system, builder, args, env, _env_index) are\n"
"name, the outputs of fields made output_cls instances, the other six fields\n"
"and None.");

static PyObject *
make_derivation(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Classes classes;
    if (arity("make_derivation", nargs, 6) < 0) {
        return NULL;
    }
    if (read_classes(args, &classes) < 0) {
        return NULL;
    }
    return build(&classes, args[4], args[5]);
}

PyDoc_STRVAR(make_derivations_doc,
"make_derivations(derivation_cls, derivation_slots, output_cls, output_slots, names, fields, /)\n\n"
"make_derivation for each name and fields of the two tuples, as a list.");

static PyObject *
make_derivations(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Classes classes;
    if (arity("make_derivations", nargs, 6) < 0) {
        return NULL;
    }
    if (read_classes(args, &classes) < 0) {
        return NULL;
    }
    PyObject *names = args[4];
    PyObject *fields = args[5];
    if (!PyTuple_CheckExact(names) || !PyTuple_CheckExact(fields) ||
        PyTuple_GET_SIZE(names) != PyTuple_GET_SIZE(fields)) {
        PyErr_SetString(PyExc_TypeError, "names and fields must be tuples of one size");
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    PyObject *result = PyList_New(count);
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *derivation =
            build(&classes, PyTuple_GET_ITEM(names, i), PyTuple_GET_ITEM(fields, i));
        if (derivation == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SET_ITEM(result, i, derivation);
    }
    return result;
}

/* --- the texts hashed by verify ---------------------------------------------
 *
 * revive.core.verify recomputes every .drv path and output path of a
 * closure. The .drv path is a hash of the file's bytes; the two other texts
 * of a regular derivation (guix-derivations.md sections 3.1 and 1.9) are the
 * same bytes with the input-derivation list replaced, and for the masked
 * one the output paths and the output-named environment values blanked. So
 * instead of serializing the derivation again, hash_texts checks that the
 * bytes are exactly the canonical text of the fields the node holds (every
 * string compared, escapes only where serialize_derivation writes them),
 * noting where those pieces are, and cuts the two texts out of the bytes. */

typedef struct {
    const char *p;
    const char *end;
    int ok;
    int plain;           /* the bytes hold no backslash: no literal has an escape */
    Py_ssize_t literals; /* string literals matched */
} Matcher;

/* A piece of the bytes to leave out of the masked text. */
typedef struct {
    Py_ssize_t start, stop;
} Cut;

typedef struct {
    Cut *items;
    Py_ssize_t size, capacity;
} Cuts;

static int
add_cut(Cuts *cuts, Py_ssize_t start, Py_ssize_t stop)
{
    if (cuts->size == cuts->capacity) {
        Py_ssize_t capacity = cuts->capacity ? 2 * cuts->capacity : 8;
        Cut *grown = PyMem_Realloc(cuts->items, (size_t)capacity * sizeof(Cut));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        cuts->items = grown;
        cuts->capacity = capacity;
    }
    cuts->items[cuts->size].start = start;
    cuts->items[cuts->size].stop = stop;
    cuts->size++;
    return 0;
}

static void
match_char(Matcher *m, char c)
{
    if (m->ok && m->p < m->end && *m->p == c) {
        m->p++;
    }
    else {
        m->ok = 0;
    }
}

/* The letter after the backslash of the escape serialize_derivation
 * writes for c, or 0 if c is written as it is. */
static char
escape_letter(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return 0;
    }
}

/* The character an escape letter stands for in canonical text, or 0. */
static char
escape_letter_of(char letter)
{
    switch (letter) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return 0;
    }
}

/* Where the canonical literal content of the UTF-8 string want[0:size]
 * ends if it starts at p, or NULL if the bytes there are not it. (Escapes
 * concern ASCII characters only, and no byte of a multi-byte sequence is
 * ASCII.) */
static const char *
match_utf8(const char *want, Py_ssize_t size, const char *p, const char *end)
{
    Py_ssize_t i = 0;
    while (i < size) {
        Py_ssize_t run = i;
        while (run < size && escape_letter((unsigned char)want[run]) == 0) {
            run++;
        }
        if (end - p < run - i || memcmp(p, want + i, (size_t)(run - i)) != 0) {
            return NULL;
        }
        p += run - i;
        if (run == size) {
            break;
        }
        if (end - p < 2 || p[0] != '\\' || p[1] != escape_letter((unsigned char)want[run])) {
            return NULL;
        }
        p += 2;
        i = run + 1;
    }
    return p;
}

/* Where the canonical literal content of the str value (not all ASCII)
 * ends if it starts at p, or NULL if the bytes there are not it: its code
 * points are encoded as they are compared (encoding the whole string
 * first would allocate, and PyUnicode_AsUTF8 would keep a copy of every
 * non-ASCII string of the closure). A lone surrogate matches nothing. */
static const char *
match_code_points(PyObject *value, const char *p, const char *end)
{
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        unsigned char bytes[4];
        int size;
        if (c < 0x80) {
            char letter = escape_letter((unsigned char)c);
            if (letter != 0) {
                bytes[0] = '\\';
                bytes[1] = (unsigned char)letter;
                size = 2;
            }
            else {
                bytes[0] = (unsigned char)c;
                size = 1;
            }
        }
        else if (c < 0x800) {
            bytes[0] = (unsigned char)(0xc0 | (c >> 6));
            bytes[1] = (unsigned char)(0x80 | (c & 0x3f));
            size = 2;
        }
        else if (c >= 0xd800 && c <= 0xdfff) {
            return NULL;
        }
        else if (c < 0x10000) {
            bytes[0] = (unsigned char)(0xe0 | (c >> 12));
            bytes[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            bytes[2] = (unsigned char)(0x80 | (c & 0x3f));
            size = 3;
        }
        else {
            bytes[0] = (unsigned char)(0xf0 | (c >> 18));
            bytes[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
            bytes[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            bytes[3] = (unsigned char)(0x80 | (c & 0x3f));
            size = 4;
        }
        if (end - p < size) {
            return NULL;
        }
        for (int k = 0; k < size; k++) {
            if ((unsigned char)p[k] != bytes[k]) {
                return NULL;
            }
        }
        p += size;
    }
    return p;
}

/* The canonical literal of the str value at m->p; its content (between the
 * quotes) is stored in *start and *stop relative to base. -1 with an
 * exception set on a real error (not a str). The bytes were checked to hold
 * no raw newline, carriage return or tab. */
static int
match_string(Matcher *m, PyObject *value, const char *base, Py_ssize_t *start, Py_ssize_t *stop)
{
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "hash_texts() fields must hold str values");
        return -1;
    }
    match_char(m, '"');
    if (!m->ok) {
        return 0;
    }
    if (start != NULL) {
        *start = m->p - base;
    }
    const char *p = m->p;
    const char *end = m->end;
    if (!PyUnicode_IS_ASCII(value)) {
        p = match_code_points(value, p, end);
    }
    else {
        const char *want = (const char *)PyUnicode_1BYTE_DATA(value);
        Py_ssize_t size = PyUnicode_GET_LENGTH(value);
        if (end - p >= size && memcmp(p, want, (size_t)size) == 0) {
            /* The literal holds the bytes as they are, unless one needs an
             * escape: with no backslash anywhere, none does if every quote
             * of the bytes is a literal's (match_term counts them). */
            if (m->plain ||
                (memchr(p, '"', (size_t)size) == NULL && memchr(p, '\\', (size_t)size) == NULL)) {
                p += size;
            }
            else {
                p = match_utf8(want, size, p, end);
            }
        }
        else {
            p = m->plain ? NULL : match_utf8(want, size, p, end);
        }
    }
    if (p == NULL) {
        m->ok = 0;
        return 0;
    }
    if (stop != NULL) {
        *stop = p - base;
    }
    m->p = p;
    m->literals++;
    match_char(m, '"');
    return 0;
}

/* "[" strings "]" for a tuple of str. */
static int
match_strings(Matcher *m, PyObject *values, const char *base)
{
    if (!PyTuple_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "hash_texts() expected a tuple of str");
        return -1;
    }
    match_char(m, '[');
    for (Py_ssize_t i = 0; m->ok && i < PyTuple_GET_SIZE(values); i++) {
        if (i > 0) {
            match_char(m, ',');
        }
        if (match_string(m, PyTuple_GET_ITEM(values, i), base, NULL, NULL) < 0) {
            return -1;
        }
    }
    match_char(m, ']');
    return 0;
}

/* A tuple field of fields with size items each a tuple of item_size (or any size if 0). */
static PyObject *
field_tuple(PyObject *fields, Py_ssize_t index, Py_ssize_t item_size)
{
    PyObject *value = PyTuple_GET_ITEM(fields, index);
    if (!PyTuple_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "hash_texts() fields must be tuples");
        return NULL;
    }
    for (Py_ssize_t i = 0; item_size && i < PyTuple_GET_SIZE(value); i++) {
        PyObject *item = PyTuple_GET_ITEM(value, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != item_size) {
            PyErr_SetString(PyExc_TypeError, "hash_texts() fields have the wrong shape");
            return NULL;
        }
    }
    return value;
}

/* Whether key is the name of one of the outputs (-1 on error). */
static int
is_output_name(PyObject *outputs, PyObject *key)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(outputs); i++) {
        PyObject *name = PyTuple_GET_ITEM(PyTuple_GET_ITEM(outputs, i), 0);
        if (name == key) {
            return 1;
        }
        int equal = PyUnicode_Compare(name, key);
        if (equal == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (equal == 0) {
            return 1;
        }
    }
    return 0;
}

/* Walks the whole term, comparing it with fields; fills the input list's
 * place and the cuts. -1 on a real error, 0 otherwise (m->ok says whether
 * the bytes are the canonical text of fields). */
static int
match_term(Matcher *m, PyObject *fields, const char *base, Py_ssize_t *inputs_start,
           Py_ssize_t *inputs_stop, Cuts *cuts)
{
    static const char prefix[] = "Derive([";
    PyObject *outputs = field_tuple(fields, 0, 4);
    PyObject *inputs = field_tuple(fields, 1, 2);
    PyObject *env = field_tuple(fields, 6, 2);
    if (outputs == NULL || inputs == NULL || env == NULL) {
        return -1;
    }
    if (m->end - m->p < (Py_ssize_t)(sizeof prefix - 1) ||
        memcmp(m->p, prefix, sizeof prefix - 1) != 0) {
        m->ok = 0;
        return 0;
    }
    m->p += sizeof prefix - 1;
    for (Py_ssize_t i = 0; m->ok && i < PyTuple_GET_SIZE(outputs); i++) {
        PyObject *output = PyTuple_GET_ITEM(outputs, i);
        Py_ssize_t start = 0, stop = 0;
        if (i > 0) {
            match_char(m, ',');
        }
        match_char(m, '(');
        for (Py_ssize_t k = 0; m->ok && k < 4; k++) {
            if (k > 0) {
                match_char(m, ',');
            }
            if (match_string(m, PyTuple_GET_ITEM(output, k), base, k == 1 ? &start : NULL,
                             k == 1 ? &stop : NULL) < 0) {
                return -1;
            }
        }
        match_char(m, ')');
        if (m->ok && stop > start && add_cut(cuts, start, stop) < 0) {
            return -1;
        }
    }
    match_char(m, ']');
    match_char(m, ',');
    match_char(m, '[');
    *inputs_start = m->p - base;
    for (Py_ssize_t i = 0; m->ok && i < PyTuple_GET_SIZE(inputs); i++) {
        PyObject *input = PyTuple_GET_ITEM(inputs, i);
        if (i > 0) {
            match_char(m, ',');
        }
        match_char(m, '(');
        if (match_string(m, PyTuple_GET_ITEM(input, 0), base, NULL, NULL) < 0) {
            return -1;
        }
        match_char(m, ',');
        if (match_strings(m, PyTuple_GET_ITEM(input, 1), base) < 0) {
            return -1;
        }
        match_char(m, ')');
    }
    *inputs_stop = m->p - base;
    match_char(m, ']');
    match_char(m, ',');
    if (match_strings(m, PyTuple_GET_ITEM(fields, 2), base) < 0) {
        return -1;
    }
    match_char(m, ',');
    if (match_string(m, PyTuple_GET_ITEM(fields, 3), base, NULL, NULL) < 0) {
        return -1;
    }
    match_char(m, ',');
    if (match_string(m, PyTuple_GET_ITEM(fields, 4), base, NULL, NULL) < 0) {
        return -1;
    }
    match_char(m, ',');
    if (match_strings(m, PyTuple_GET_ITEM(fields, 5), base) < 0) {
        return -1;
    }
    match_char(m, ',');
    match_char(m, '[');
    for (Py_ssize_t i = 0; m->ok && i < PyTuple_GET_SIZE(env); i++) {
        PyObject *entry = PyTuple_GET_ITEM(env, i);
        Py_ssize_t start = 0, stop = 0;
        if (i > 0) {
            match_char(m, ',');
        }
        match_char(m, '(');
        if (match_string(m, PyTuple_GET_ITEM(entry, 0), base, NULL, NULL) < 0) {
            return -1;
        }
        match_char(m, ',');
        if (match_string(m, PyTuple_GET_ITEM(entry, 1), base, &start, &stop) < 0) {
            return -1;
        }
        match_char(m, ')');
        if (m->ok && stop > start) {
            int masked = is_output_name(outputs, PyTuple_GET_ITEM(entry, 0));
            if (masked < 0 || (masked && add_cut(cuts, start, stop) < 0)) {
                return -1;
            }
        }
    }
    match_char(m, ']');
    match_char(m, ')');
    if (m->p != m->end) {
        m->ok = 0;
    }
    return 0;
}

/* data with [inputs_start, inputs_stop) replaced and, if cuts is given, the cuts left out. */
static PyObject *
spliced(const char *data, Py_ssize_t size, Py_ssize_t inputs_start, Py_ssize_t inputs_stop,
        const char *replaced, Py_ssize_t replaced_size, const Cuts *cuts)
{
    Py_ssize_t length = size - (inputs_stop - inputs_start) + replaced_size;
    Py_ssize_t count = cuts == NULL ? 0 : cuts->size;
    for (Py_ssize_t i = 0; i < count; i++) {
        length -= cuts->items[i].stop - cuts->items[i].start;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, length);
    if (result == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(result);
    Py_ssize_t at = 0; /* next byte of data to copy */
    int inserted = 0;
    /* The cuts are in order: output paths before the inputs, env values after. */
    for (Py_ssize_t i = 0; i <= count; i++) {
        Py_ssize_t stop = i < count ? cuts->items[i].start : size;
        if (!inserted && inputs_start <= stop) {
            inserted = 1;
            memcpy(out, data + at, (size_t)(inputs_start - at));
            out += inputs_start - at;
            memcpy(out, replaced, (size_t)replaced_size);
            out += replaced_size;
            at = inputs_stop;
        }
        memcpy(out, data + at, (size_t)(stop - at));
        out += stop - at;
        at = i < count ? cuts->items[i].stop : size;
    }
    return result;
}

/* How many bytes of data[0:size] are a double quote (eight at a time). */
static Py_ssize_t
count_quotes(const char *data, Py_ssize_t size)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    const uint64_t low = ~high;
    Py_ssize_t count = 0, i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        memcpy(&word, data + i, 8);
        uint64_t x = word ^ (ones * '"'); /* a zero byte where data has a quote */
        /* The high bit of each byte of t is set exactly where x's byte is not zero. */
        uint64_t t = ((x & low) + low) | x;
        count += __builtin_popcountll(~t & high);
    }
    for (; i < size; i++) {
        count += data[i] == '"';
    }
    return count;
}

PyDoc_STRVAR(hash_texts_doc,
"hash_texts(data: bytes, fields: Fields, replaced: bytes | None, /) -> tuple[bytes, ...] | None\n\n"
"None unless data is exactly the canonical text of fields (what\n"
"serialize_derivation writes for them). Otherwise, when replaced is None, ();\n"
"else (modulo, masked): data with its input-derivation list (between its\n"
"brackets) replaced by replaced, and the same with the output paths and the\n"
"values of the output-named environment variables also left out.");

static PyObject *
hash_texts(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (arity("hash_texts", nargs, 3) < 0) {
        return NULL;
    }
    PyObject *data = args[0];
    PyObject *fields = args[1];
    PyObject *replaced = args[2];
    if (!PyBytes_Check(data) || (replaced != Py_None && !PyBytes_Check(replaced))) {
        PyErr_SetString(PyExc_TypeError, "hash_texts() needs bytes");
        return NULL;
    }
    if (!PyTuple_Check(fields) || PyTuple_GET_SIZE(fields) != 7) {
        PyErr_SetString(PyExc_TypeError, "hash_texts() fields must be a 7-tuple");
        return NULL;
    }
    const char *base = PyBytes_AS_STRING(data);
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    /* Canonical text never holds these raw (match_string relies on it). */
    int raw_controls = memchr(base, '\n', (size_t)size) != NULL ||
                       memchr(base, '\r', (size_t)size) != NULL ||
                       memchr(base, '\t', (size_t)size) != NULL;
    int plain = memchr(base, '\\', (size_t)size) == NULL;
    Matcher m = {base, base + size, !raw_controls, plain, 0};
    Cuts cuts = {NULL, 0, 0};
    Py_ssize_t inputs_start = 0, inputs_stop = 0;
    PyObject *result = NULL;
    if (match_term(&m, fields, base, &inputs_start, &inputs_stop, &cuts) < 0) {
        goto done;
    }
    /* Without backslashes, a quote that is not a literal's delimiter is
     * one a string holds unescaped (see match_string). */
    if (m.ok && plain && count_quotes(base, size) != 2 * m.literals) {
        m.ok = 0;
    }
    if (!m.ok) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    if (replaced == Py_None) {
        result = PyTuple_New(0);
        goto done;
    }
    const char *text = PyBytes_AS_STRING(replaced);
    Py_ssize_t text_size = PyBytes_GET_SIZE(replaced);
    PyObject *modulo = spliced(base, size, inputs_start, inputs_stop, text, text_size, NULL);
    PyObject *masked =
        modulo == NULL ? NULL
                       : spliced(base, size, inputs_start, inputs_stop, text, text_size, &cuts);
    if (masked != NULL) {
        result = PyTuple_Pack(2, modulo, masked);
    }
    Py_XDECREF(modulo);
    Py_XDECREF(masked);
done:
    PyMem_Free(cuts.items);
    return result;
}

/* --- store path hashes --------------------------------------------------------
 *
 * Every store path computed ends with the same two steps (guix-derivations.md
 * sections 1.2 and 1.3): the SHA-256 of its fingerprint XOR-folded into 20
 * bytes, then written in nix-base32. revive.core.hashes.compress and
 * revive.core.base32.encode do them in Python for any size; verifying a
 * closure computes two store paths per derivation, so this does both at once. */

#define FOLDED_SIZE 20
#define FOLDED_DIGITS 32 /* nix-base32 digits of 20 bytes */

static const char NIX32[] = "0123456789abcdfghijklmnpqrsvwxyz";

PyDoc_STRVAR(path_hash_doc,
"path_hash(digest: bytes, /) -> str\n\n"
"The hash part of a store path: digest XOR-folded into 20 bytes, in\n"
"nix-base32 (base32.encode(hashes.compress(digest, 20))).");

/* data XOR-folded into 20 bytes, in nix-base32: 32 characters at out. */
static void
fold_nix32(const unsigned char *data, Py_ssize_t size, char out[FOLDED_DIGITS])
{
    unsigned char folded[FOLDED_SIZE] = {0};
    for (Py_ssize_t i = 0; i < size; i++) {
        folded[i % FOLDED_SIZE] ^= data[i];
    }
    /* The bytes are one little-endian number; its most significant digit first. */
    for (int n = FOLDED_DIGITS - 1; n >= 0; n--) {
        int bit = n * 5;
        int byte = bit / 8;
        int shift = bit % 8;
        unsigned int value = (unsigned int)folded[byte] >> shift;
        if (byte + 1 < FOLDED_SIZE) {
            value |= (unsigned int)folded[byte + 1] << (8 - shift);
        }
        out[FOLDED_DIGITS - 1 - n] = NIX32[value & 0x1f];
    }
}

static PyObject *
path_hash(PyObject *Py_UNUSED(module), PyObject *digest)
{
    if (!PyBytes_Check(digest)) {
        PyErr_SetString(PyExc_TypeError, "path_hash() needs bytes");
        return NULL;
    }
    char text[FOLDED_DIGITS];
    fold_nix32((const unsigned char *)PyBytes_AS_STRING(digest), PyBytes_GET_SIZE(digest), text);
    return PyUnicode_FromStringAndSize(text, FOLDED_DIGITS);
}

/* --- verifying one derivation ------------------------------------------------
 *
 * verify_paths does for one node what revive.core.verify does with
 * hash_texts, hashlib and store_path.make_store_path, in one call: the
 * Python glue around them (five hash objects, three store paths, their
 * strings) cost more than the work itself. SHA-256 is still hashlib's (the
 * caller passes hashlib.sha256): OpenSSL's is faster than anything written
 * here would be. */

#define SHA256_SIZE 32

/* The SHA-256 digest of the bytes object data, through the sha256 callable. */
static PyObject *
sha256_digest(PyObject *sha256, PyObject *data)
{
    PyObject *hash = PyObject_CallOneArg(sha256, data);
    if (hash == NULL) {
        return NULL;
    }
    PyObject *digest = PyObject_CallMethod(hash, "digest", NULL);
    Py_DECREF(hash);
    if (digest != NULL && (!PyBytes_Check(digest) || PyBytes_GET_SIZE(digest) != SHA256_SIZE)) {
        PyErr_SetString(PyExc_TypeError, "verify_paths() sha256 must give 32-byte digests");
        Py_CLEAR(digest);
    }
    return digest;
}

/* A store name the daemon accepts (store_path.validate_name). */
static int
valid_name(const char *name, Py_ssize_t size)
{
    if (size == 0 || name[0] == '.') {
        return 0;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.' || c == '_' || c == '?' || c == '=')) {
            return 0;
        }
    }
    return 1;
}

typedef struct {
    const char *data;
    Py_ssize_t size;
} Span;

static void
put(char **out, Span span)
{
    memcpy(*out, span.data, (size_t)span.size);
    *out += span.size;
}

static void
put_hex(char **out, const unsigned char *digest, Py_ssize_t size)
{
    static const char digits[] = "0123456789abcdef";
    for (Py_ssize_t i = 0; i < size; i++) {
        (*out)[2 * i] = digits[digest[i] >> 4];
        (*out)[2 * i + 1] = digits[digest[i] & 0xf];
    }
    *out += 2 * size;
}

/* make_store_path for the kind kind + kind_suffix, the 32-byte inner
 * digest and the name base + sep + suffix. Py_None (not an error) for a
 * name no store path can have. */
static PyObject *
store_path(PyObject *sha256, Span kind, Span kind_suffix, const unsigned char *inner, Span dir,
           Span base, Span sep, Span suffix)
{
    Py_ssize_t name_size = base.size + sep.size + suffix.size;
    Py_ssize_t size = kind.size + kind_suffix.size + 8 + 2 * SHA256_SIZE + 1 + dir.size + 1 +
                      name_size;
    PyObject *fingerprint = PyBytes_FromStringAndSize(NULL, size);
    if (fingerprint == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(fingerprint);
    put(&out, kind);
    put(&out, kind_suffix);
    put(&out, (Span){":sha256:", 8});
    put_hex(&out, inner, SHA256_SIZE);
    *out++ = ':';
    put(&out, dir);
    *out++ = ':';
    char *name = out;
    put(&out, base);
    put(&out, sep);
    put(&out, suffix);
    if (!valid_name(name, name_size)) {
        Py_DECREF(fingerprint);
        Py_RETURN_NONE;
    }
    PyObject *digest = sha256_digest(sha256, fingerprint);
    if (digest == NULL) {
        Py_DECREF(fingerprint);
        return NULL;
    }
    char hash[FOLDED_DIGITS];
    fold_nix32((const unsigned char *)PyBytes_AS_STRING(digest), SHA256_SIZE, hash);
    Py_DECREF(digest);
    /* dir "/" hash "-" name, reusing the name written in the fingerprint. */
    Py_ssize_t path_size = dir.size + 1 + FOLDED_DIGITS + 1 + name_size;
    char *path = PyMem_Malloc((size_t)path_size);
    if (path == NULL) {
        Py_DECREF(fingerprint);
        return PyErr_NoMemory();
    }
    char *at = path;
    put(&at, dir);
    *at++ = '/';
    put(&at, (Span){hash, FOLDED_DIGITS});
    *at++ = '-';
    put(&at, (Span){name, name_size});
    Py_DECREF(fingerprint);
    PyObject *result = PyUnicode_DecodeUTF8(path, path_size, NULL);
    PyMem_Free(path);
    return result;
}

/* The UTF-8 of a str argument as a span, or -1 with an exception. */
static int
utf8_span(PyObject *value, Span *span)
{
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "verify_paths() needs str arguments");
        return -1;
    }
    span->data = PyUnicode_AsUTF8AndSize(value, &span->size);
    return span->data == NULL ? -1 : 0;
}

PyDoc_STRVAR(verify_paths_doc,
"verify_paths(data, fields, replaced, kind, name, store_dir, sha256, /)\n"
"    -> tuple[str, str | None, tuple[str, ...] | None] | None\n\n"
"For the .drv file bytes data of the derivation called name whose fields\n"
"are fields (None unless data is exactly their canonical text, see\n"
"hash_texts): its own store path, a text item of kind kind (\"text:\" and\n"
"its references); then, when replaced (its input list with each input\n"
"replaced by its hash modulo) is given, its hash modulo in hex and the path\n"
"of each output, else None and None. None too when a name is no store name\n"
"(the caller then says why). sha256 is hashlib.sha256.");

/* The store path of the .drv whose bytes are data (kind: "text" and its
 * references): a str, Py_None for a name no store path can have, NULL on error. */
static PyObject *
drv_store_path(PyObject *data, Span kind, Span name, Span dir, PyObject *sha256)
{
    static const Span none = {"", 0};
    PyObject *digest = sha256_digest(sha256, data);
    if (digest == NULL) {
        return NULL;
    }
    PyObject *path = store_path(sha256, kind, none, (const unsigned char *)PyBytes_AS_STRING(digest),
                                dir, name, none, (Span){".drv", 4});
    Py_DECREF(digest);
    return path;
}

/* (drv_path, hash modulo in hex, output paths) from the two texts of a
 * regular derivation (modulo, masked) and its output rows; Py_None when
 * an output name makes no store name. */
static PyObject *
regular_paths(PyObject *drv_path, PyObject *texts, PyObject *rows, Span name, Span dir,
              PyObject *sha256)
{
    static const Span none = {"", 0};
    PyObject *result = NULL, *modulo_hex = NULL, *outputs = NULL, *inner = NULL;
    PyObject *digest = sha256_digest(sha256, PyTuple_GET_ITEM(texts, 0));
    if (digest == NULL) {
        return NULL;
    }
    char hex[2 * SHA256_SIZE];
    char *at = hex;
    put_hex(&at, (const unsigned char *)PyBytes_AS_STRING(digest), SHA256_SIZE);
    Py_DECREF(digest);
    modulo_hex = PyUnicode_FromStringAndSize(hex, 2 * SHA256_SIZE);
    inner = sha256_digest(sha256, PyTuple_GET_ITEM(texts, 1));
    if (modulo_hex == NULL || inner == NULL) {
        goto done;
    }
    outputs = PyTuple_New(PyTuple_GET_SIZE(rows));
    if (outputs == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(rows); i++) {
        Span output;
        if (utf8_span(PyTuple_GET_ITEM(PyTuple_GET_ITEM(rows, i), 0), &output) < 0) {
            goto done;
        }
        /* output_path_name: "out" is the derivation's name, others are suffixed. */
        int out = output.size == 3 && memcmp(output.data, "out", 3) == 0;
        PyObject *path = store_path(sha256, (Span){"output:", 7}, output,
                                    (const unsigned char *)PyBytes_AS_STRING(inner), dir, name,
                                    out ? none : (Span){"-", 1}, out ? none : output);
        if (path == NULL || path == Py_None) {
            result = path;
            goto done;
        }
        PyTuple_SET_ITEM(outputs, i, path);
    }
    result = PyTuple_Pack(3, drv_path, modulo_hex, outputs);
done:
    Py_XDECREF(modulo_hex);
    Py_XDECREF(outputs);
    Py_XDECREF(inner);
    return result;
}

/* What verify_paths returns, for spans already in UTF-8. */
static PyObject *
node_paths(PyObject *data, PyObject *fields, PyObject *replaced, Span kind, Span name, Span dir,
           PyObject *sha256)
{
    PyObject *hash_args[3] = {data, fields, replaced};
    PyObject *texts = hash_texts(NULL, hash_args, 3);
    if (texts == NULL || texts == Py_None) {
        return texts;
    }
    PyObject *result = drv_store_path(data, kind, name, dir, sha256);
    if (result != NULL && result != Py_None) {
        PyObject *drv_path = result;
        result = replaced == Py_None
                     ? PyTuple_Pack(3, drv_path, Py_None, Py_None)
                     : regular_paths(drv_path, texts, PyTuple_GET_ITEM(fields, 0), name, dir,
                                     sha256);
        Py_DECREF(drv_path);
    }
    Py_DECREF(texts);
    return result;
}

static PyObject *
verify_paths(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (arity("verify_paths", nargs, 7) < 0) {
        return NULL;
    }
    Span kind, name, dir;
    if (utf8_span(args[3], &kind) < 0 || utf8_span(args[4], &name) < 0 ||
        utf8_span(args[5], &dir) < 0) {
        return NULL;
    }
    return node_paths(args[0], args[1], args[2], kind, name, dir, args[6]);
}

/* --- verifying a whole closure ------------------------------------------------
 *
 * verify_closure does what the loop of revive.core.verify.verify_graph does,
 * with the common case in C: it walks the closure inputs first (iterative
 * post-order, cycles reported) and checks each regular derivation whose
 * .drv bytes are at hand and canonical (node_paths), writing its hash modulo
 * to the shared memo. Every other node (fixed-output derivations, missing or
 * malformed nodes, an input whose hash is unknown, output names that need
 * escaping, inputs sharing one hash modulo, bytes that are not the canonical
 * text, names no store path can have) is handed to the Python checker,
 * which records its own results and its memo entry: the report is the one
 * the Python loop gives, node for node. At 50,000 nodes the Python loop's
 * glue cost about as much as the hashing. */

static PyObject *S_outputs, *S_input_drvs, *S_input_srcs, *S_system, *S_builder, *S_args,
    *S_env, *S_name, *S_path, *S_hash_algo, *S_hash, *S_empty;

static int
intern_attribute_names(void)
{
    static const char *names[] = {"outputs", "input_drvs", "input_srcs", "system",
                                  "builder", "args",       "env",        "name",
                                  "path",    "hash_algo",  "hash"};
    PyObject **slots[] = {&S_outputs, &S_input_drvs, &S_input_srcs, &S_system,
                          &S_builder, &S_args,       &S_env,        &S_name,
                          &S_path,    &S_hash_algo,  &S_hash};
    if (S_empty == NULL && (S_empty = PyUnicode_FromStringAndSize("", 0)) == NULL) {
        return -1;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (*slots[i] == NULL && (*slots[i] = PyUnicode_InternFromString(names[i])) == NULL) {
            return -1;
        }
    }
    return 0;
}

/* A growing array of borrowed references (the walk's stack). */
typedef struct {
    PyObject **items;
    Py_ssize_t size, capacity;
} Stack;

static int
stack_push(Stack *stack, PyObject *item)
{
    if (stack->size == stack->capacity) {
        Py_ssize_t capacity = stack->capacity ? 2 * stack->capacity : 64;
        PyObject **grown = PyMem_Realloc(stack->items, (size_t)capacity * sizeof(PyObject *));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        stack->items = grown;
        stack->capacity = capacity;
    }
    stack->items[stack->size++] = item;
    return 0;
}

/* What the walk shares: the caller's tables and callbacks. */
typedef struct {
    PyObject *derivations; /* dict: path -> Derivation */
    PyObject *texts;       /* dict: path -> bytes, popped as they are hashed */
    PyObject *memo;        /* dict: path -> hex hash modulo, or None */
    PyObject *read;        /* read(path) -> bytes | None, for a path not in texts */
    PyObject *fallback;    /* fallback(path, drv | None): the Python checker */
    PyObject *report;      /* report(path, kind, found, expected, output): a mismatch */
    PyObject *cycle;       /* cycle(path): path depends on itself */
    PyObject *sha256;
    Span dir;
    Py_ssize_t fixed; /* fixed-output derivations checked here */
} Walk;

/* Whether the UTF-8 bytes hold a character serialize_derivation escapes. */
static int
needs_escape(const char *data, Py_ssize_t size)
{
    for (Py_ssize_t i = 0; i < size; i++) {
        if (escape_letter((unsigned char)data[i]) != 0) {
            return 1;
        }
    }
    return 0;
}

/* The outputs of a Derivation as (name, path, hash_algo, hash) rows, or NULL. */
static PyObject *
output_rows(PyObject *outputs)
{
    if (!PyTuple_Check(outputs)) {
        PyErr_SetString(PyExc_TypeError, "verify_closure() needs tuples of outputs");
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(outputs);
    PyObject *rows = PyTuple_New(count);
    if (rows == NULL) {
        return NULL;
    }
    PyObject *const attributes[4] = {S_name, S_path, S_hash_algo, S_hash};
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *row = PyTuple_New(4);
        if (row == NULL) {
            Py_DECREF(rows);
            return NULL;
        }
        PyTuple_SET_ITEM(rows, i, row);
        for (int k = 0; k < 4; k++) {
            PyObject *value = PyObject_GetAttr(PyTuple_GET_ITEM(outputs, i), attributes[k]);
            if (value == NULL) {
                Py_DECREF(rows);
                return NULL;
            }
            PyTuple_SET_ITEM(row, k, value);
        }
    }
    return rows;
}

/* Derivation.fields() of drv, or NULL. */
static PyObject *
derivation_fields(PyObject *drv)
{
    PyObject *const attributes[7] = {S_outputs, S_input_drvs, S_input_srcs, S_system,
                                     S_builder, S_args,       S_env};
    PyObject *fields = PyTuple_New(7);
    if (fields == NULL) {
        return NULL;
    }
    for (int k = 0; k < 7; k++) {
        PyObject *value = PyObject_GetAttr(drv, attributes[k]);
        if (value != NULL && k == 0) {
            Py_SETREF(value, output_rows(value));
        }
        if (value == NULL) {
            Py_DECREF(fields);
            return NULL;
        }
        PyTuple_SET_ITEM(fields, k, value);
    }
    return fields;
}

/* Whether rows (output rows) are a fixed-output derivation's: one "out" with a hash. */
static int
is_fixed_rows(PyObject *rows)
{
    if (PyTuple_GET_SIZE(rows) != 1) {
        return 0;
    }
    PyObject *row = PyTuple_GET_ITEM(rows, 0);
    PyObject *name = PyTuple_GET_ITEM(row, 0);
    PyObject *hash = PyTuple_GET_ITEM(row, 3);
    return PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "out") == 0 &&
           PyUnicode_Check(hash) && PyUnicode_GET_LENGTH(hash) > 0;
}

/* Whether drv is a fixed-output derivation (-1 on error). */
static int
is_fixed_derivation(PyObject *drv)
{
    PyObject *outputs = PyObject_GetAttr(drv, S_outputs);
    if (outputs == NULL) {
        return -1;
    }
    int fixed = 0;
    if (PyTuple_Check(outputs) && PyTuple_GET_SIZE(outputs) == 1) {
        PyObject *output = PyTuple_GET_ITEM(outputs, 0);
        PyObject *name = PyObject_GetAttr(output, S_name);
        PyObject *hash = name == NULL ? NULL : PyObject_GetAttr(output, S_hash);
        if (hash == NULL) {
            fixed = -1;
        }
        else {
            fixed = PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "out") == 0 &&
                    PyUnicode_Check(hash) && PyUnicode_GET_LENGTH(hash) > 0;
        }
        Py_XDECREF(name);
        Py_XDECREF(hash);
    }
    Py_DECREF(outputs);
    return fixed;
}

typedef struct {
    const char *hex; /* 64 digits */
    PyObject *names; /* tuple of str */
} Replaced;

static int
compare_replaced(const void *a, const void *b)
{
    return memcmp(((const Replaced *)a)->hex, ((const Replaced *)b)->hex, 64);
}

static int
compare_spans(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    int order = memcmp(x->data, y->data, (size_t)(x->size < y->size ? x->size : y->size));
    return order != 0 ? order : (x->size > y->size) - (x->size < y->size);
}

/* The input list of a regular derivation with each input replaced by its
 * hash modulo, as serialize_derivation writes it: a bytes object; Py_None
 * when the Python checker must do it (an unknown hash, two inputs with one
 * hash, a name to escape); NULL on error. */
static PyObject *
replaced_inputs(Walk *w, PyObject *inputs)
{
    Py_ssize_t count = PyTuple_GET_SIZE(inputs);
    if (count == 0) {
        return PyBytes_FromStringAndSize("", 0);
    }
    Replaced *items = PyMem_Malloc((size_t)count * sizeof(Replaced));
    if (items == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = Py_None;
    Py_ssize_t size = count - 1; /* the commas between items */
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *input = PyTuple_GET_ITEM(inputs, i);
        PyObject *hex = PyDict_GetItemWithError(w->memo, PyTuple_GET_ITEM(input, 0));
        if (hex == NULL && PyErr_Occurred()) {
            result = NULL;
            goto done;
        }
        if (hex == NULL || !PyUnicode_Check(hex) || !PyUnicode_IS_ASCII(hex) ||
            PyUnicode_GET_LENGTH(hex) != 64) {
            goto done;
        }
        PyObject *names = PyTuple_GET_ITEM(input, 1);
        items[i].hex = (const char *)PyUnicode_1BYTE_DATA(hex);
        items[i].names = names;
        size += 2 + 64 + 3 + 2; /* ("hex",[ ... ]) */
        Py_ssize_t name_count = PyTuple_GET_SIZE(names);
        for (Py_ssize_t k = 0; k < name_count; k++) {
            PyObject *name = PyTuple_GET_ITEM(names, k);
            if (!PyUnicode_Check(name) || !PyUnicode_IS_ASCII(name) ||
                needs_escape((const char *)PyUnicode_1BYTE_DATA(name),
                             PyUnicode_GET_LENGTH(name))) {
                goto done;
            }
            size += PyUnicode_GET_LENGTH(name) + 2 + (k > 0);
        }
    }
    qsort(items, (size_t)count, sizeof(Replaced), compare_replaced);
    for (Py_ssize_t i = 1; i < count; i++) {
        if (memcmp(items[i - 1].hex, items[i].hex, 64) == 0) {
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL) {
        goto done;
    }
    char *out = PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (i > 0) {
            *out++ = ',';
        }
        put(&out, (Span){"(\"", 2});
        put(&out, (Span){items[i].hex, 64});
        put(&out, (Span){"\",[", 3});
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(items[i].names); k++) {
            PyObject *name = PyTuple_GET_ITEM(items[i].names, k);
            if (k > 0) {
                *out++ = ',';
            }
            *out++ = '"';
            put(&out, (Span){(const char *)PyUnicode_1BYTE_DATA(name), PyUnicode_GET_LENGTH(name)});
            *out++ = '"';
        }
        put(&out, (Span){"])", 2});
    }
done:
    PyMem_Free(items);
    if (result == Py_None) {
        Py_INCREF(result);
    }
    return result;
}

/* "text:" and the sorted, distinct references of the .drv (its sources
 * and input derivations) joined by ":" (make_store_path's kind); Py_None
 * when a path is not valid UTF-8; NULL on error. */
static PyObject *
text_kind(PyObject *sources, PyObject *inputs)
{
    Py_ssize_t count = PyTuple_GET_SIZE(sources) + PyTuple_GET_SIZE(inputs);
    Span *refs = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(Span));
    if (refs == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *path = i < PyTuple_GET_SIZE(sources)
                             ? PyTuple_GET_ITEM(sources, i)
                             : PyTuple_GET_ITEM(PyTuple_GET_ITEM(inputs, i - PyTuple_GET_SIZE(sources)), 0);
        if (utf8_span(path, &refs[i]) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                goto done;
            }
            PyErr_Clear();
            result = Py_None;
            Py_INCREF(result);
            goto done;
        }
    }
    qsort(refs, (size_t)count, sizeof(Span), compare_spans);
    Py_ssize_t size = 4, kept = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (kept == 0 || compare_spans(&refs[kept - 1], &refs[i]) != 0) {
            refs[kept++] = refs[i];
            size += 1 + refs[i].size;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result != NULL) {
        char *out = PyBytes_AS_STRING(result);
        put(&out, (Span){"text", 4});
        for (Py_ssize_t i = 0; i < kept; i++) {
            *out++ = ':';
            put(&out, refs[i]);
        }
    }
done:
    PyMem_Free(refs);
    return result;
}

/* The value of the environment variable key in env (the last one, as a dict of it keeps), or NULL. */
static PyObject *
env_value(PyObject *env, PyObject *key)
{
    for (Py_ssize_t i = PyTuple_GET_SIZE(env) - 1; i >= 0; i--) {
        PyObject *entry = PyTuple_GET_ITEM(env, i);
        PyObject *name = PyTuple_GET_ITEM(entry, 0);
        if (name == key || PyUnicode_Compare(name, key) == 0) {
            return PyTuple_GET_ITEM(entry, 1);
        }
    }
    return NULL;
}

static int
call_report(Walk *w, PyObject *path, const char *kind, PyObject *found, PyObject *expected,
            PyObject *output)
{
    PyObject *result = PyObject_CallFunction(w->report, "OsOOO", path, kind, found, expected, output);
    Py_XDECREF(result);
    return result == NULL ? -1 : 0;
}

static int
call_fallback(Walk *w, PyObject *path, PyObject *drv)
{
    PyObject *result = PyObject_CallFunctionObjArgs(w->fallback, path, drv, NULL);
    Py_XDECREF(result);
    return result == NULL ? -1 : 0;
}

/* The .drv bytes of path: taken out of texts (*loaded set), else read (a
 * new reference, or Py_None). */
static PyObject *
node_bytes(Walk *w, PyObject *path, int *loaded)
{
    PyObject *data = PyDict_GetItemWithError(w->texts, path);
    *loaded = data != NULL;
    if (data != NULL) {
        Py_INCREF(data);
        if (PyDict_DelItem(w->texts, path) < 0) {
            Py_DECREF(data);
            return NULL;
        }
        return data;
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    return PyObject_CallOneArg(w->read, path);
}

/* Where the literal starting at p ends (its closing quote), or NULL if
 * there is none or an escape in it is not one serialize_derivation writes. */
static const char *
skip_literal(const char *p, const char *end)
{
    if (p >= end || *p != '"') {
        return NULL;
    }
    p++;
    for (;;) {
        const char *quote = memchr(p, '"', (size_t)(end - p));
        if (quote == NULL) {
            return NULL;
        }
        const char *slash = memchr(p, '\\', (size_t)(quote - p));
        if (slash == NULL) {
            return quote;
        }
        if (end - slash < 2 || escape_letter_of(slash[1]) == 0) {
            return NULL;
        }
        p = slash + 2;
    }
}

/* A literal at m->p; its content is [*start, *stop) when they are given. */
static void
layout_literal(Matcher *m, const char **start, const char **stop)
{
    const char *close = m->ok ? skip_literal(m->p, m->end) : NULL;
    if (close == NULL) {
        m->ok = 0;
        return;
    }
    if (start != NULL) {
        *start = m->p + 1;
        *stop = close;
    }
    m->p = close + 1;
}

/* Whether the next byte is c (without taking it). */
static int
next_is(const Matcher *m, char c)
{
    return m->ok && m->p < m->end && *m->p == c;
}

/* "[" literals "]" */
static void
layout_literals(Matcher *m)
{
    match_char(m, '[');
    if (!next_is(m, ']')) {
        do {
            layout_literal(m, NULL, NULL);
        } while (next_is(m, ',') && m->p++);
    }
    match_char(m, ']');
}

#define LAYOUT_OUTPUTS 16

/* Whether data is the canonical text of a derivation, finding (as
 * match_term does, without the fields) its input list and the cuts of its
 * masked text. Only for bytes known to be what the node was read from
 * (then the canonical text of the node is data itself): the caller checks
 * that data hashes to the node's path. -1 on a real error. */
static int
layout_term(const char *base, Py_ssize_t size, Py_ssize_t *inputs_start, Py_ssize_t *inputs_stop,
            Cuts *cuts)
{
    static const char prefix[] = "Derive([";
    if (memchr(base, '\n', (size_t)size) != NULL || memchr(base, '\r', (size_t)size) != NULL ||
        memchr(base, '\t', (size_t)size) != NULL || size < (Py_ssize_t)(sizeof prefix - 1) ||
        memcmp(base, prefix, sizeof prefix - 1) != 0) {
        return 0;
    }
    Matcher m = {base + sizeof prefix - 1, base + size, 1, 0, 0};
    Span names[LAYOUT_OUTPUTS]; /* the outputs' names as written */
    int count = 0;
    if (!next_is(&m, ']')) {
        do {
            const char *start, *stop, *path_start, *path_stop;
            match_char(&m, '(');
            layout_literal(&m, &start, &stop);
            match_char(&m, ',');
            layout_literal(&m, &path_start, &path_stop);
            match_char(&m, ',');
            layout_literal(&m, NULL, NULL);
            match_char(&m, ',');
            layout_literal(&m, NULL, NULL);
            match_char(&m, ')');
            if (!m.ok || count == LAYOUT_OUTPUTS) {
                return 0;
            }
            names[count++] = (Span){start, stop - start};
            if (path_stop > path_start &&
                add_cut(cuts, path_start - base, path_stop - base) < 0) {
                return -1;
            }
        } while (next_is(&m, ',') && m.p++);
    }
    match_char(&m, ']');
    match_char(&m, ',');
    match_char(&m, '[');
    *inputs_start = m.p - base;
    if (!next_is(&m, ']')) {
        do {
            match_char(&m, '(');
            layout_literal(&m, NULL, NULL);
            match_char(&m, ',');
            layout_literals(&m);
            match_char(&m, ')');
        } while (next_is(&m, ',') && m.p++);
    }
    *inputs_stop = m.p - base;
    match_char(&m, ']');
    match_char(&m, ',');
    layout_literals(&m);
    match_char(&m, ',');
    layout_literal(&m, NULL, NULL);
    match_char(&m, ',');
    layout_literal(&m, NULL, NULL);
    match_char(&m, ',');
    layout_literals(&m);
    match_char(&m, ',');
    match_char(&m, '[');
    if (!next_is(&m, ']')) {
        do {
            const char *key_start, *key_stop, *start, *stop;
            match_char(&m, '(');
            layout_literal(&m, &key_start, &key_stop);
            match_char(&m, ',');
            layout_literal(&m, &start, &stop);
            match_char(&m, ')');
            if (!m.ok) {
                return 0;
            }
            /* Literals are equal exactly when their strings are (one way to write each). */
            for (int i = 0; stop > start && i < count; i++) {
                if (names[i].size == key_stop - key_start &&
                    memcmp(names[i].data, key_start, (size_t)names[i].size) == 0) {
                    if (add_cut(cuts, start - base, stop - base) < 0) {
                        return -1;
                    }
                    break;
                }
            }
        } while (next_is(&m, ',') && m.p++);
    }
    match_char(&m, ']');
    match_char(&m, ')');
    return m.ok && m.p == m.end;
}

/* (drv_path, modulo hex, output paths) of the regular node at path from the
 * bytes the loader read it from, without comparing them with the node:
 * NULL with no exception when they are not canonical or do not hash to
 * path (then node_paths compares them). */
static PyObject *
loaded_paths(Walk *w, PyObject *path, PyObject *data, PyObject *rows, PyObject *replaced,
             Span kind, Span name)
{
    const char *base = PyBytes_AS_STRING(data);
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    Cuts cuts = {NULL, 0, 0};
    Py_ssize_t inputs_start = 0, inputs_stop = 0;
    PyObject *result = NULL, *drv_path = NULL, *modulo = NULL, *masked = NULL, *texts = NULL;
    int canonical = layout_term(base, size, &inputs_start, &inputs_stop, &cuts);
    if (canonical <= 0) {
        goto done;
    }
    drv_path = drv_store_path(data, kind, name, w->dir, w->sha256);
    if (drv_path == NULL || drv_path == Py_None) {
        goto done;
    }
    int same = PyUnicode_Compare(drv_path, path);
    if (same != 0) {
        goto done;
    }
    if (replaced == Py_None) {
        result = PyTuple_Pack(3, drv_path, Py_None, Py_None);
        goto done;
    }
    const char *text = PyBytes_AS_STRING(replaced);
    Py_ssize_t text_size = PyBytes_GET_SIZE(replaced);
    modulo = spliced(base, size, inputs_start, inputs_stop, text, text_size, NULL);
    masked = modulo == NULL ? NULL
                            : spliced(base, size, inputs_start, inputs_stop, text, text_size, &cuts);
    texts = masked == NULL ? NULL : PyTuple_Pack(2, modulo, masked);
    if (texts != NULL) {
        result = regular_paths(drv_path, texts, rows, name, w->dir, w->sha256);
    }
done:
    PyMem_Free(cuts.items);
    Py_XDECREF(drv_path);
    Py_XDECREF(modulo);
    Py_XDECREF(masked);
    Py_XDECREF(texts);
    return result;
}

/* Whether the bytes are lowercase hexadecimal digits, an even number of them. */
static int
is_lower_hex(Span text)
{
    if (text.size % 2 != 0) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < text.size; i++) {
        char c = text.data[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static int
hex_value(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* The SHA-256 digest of the concatenated spans (a new bytes object, or NULL). */
static PyObject *
digest_of(PyObject *sha256, const Span *spans, int count)
{
    Py_ssize_t size = 0;
    for (int i = 0; i < count; i++) {
        size += spans[i].size;
    }
    PyObject *text = PyBytes_FromStringAndSize(NULL, size);
    if (text == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(text);
    for (int i = 0; i < count; i++) {
        put(&out, spans[i]);
    }
    PyObject *digest = sha256_digest(sha256, text);
    Py_DECREF(text);
    return digest;
}

/* What a fixed-output derivation's output row says it must be (guix-derivations.md
 * sections 1.7 and 3.1): (hash modulo in hex, output path); Py_None when the
 * Python checker must say it (a hash that is not plain lowercase hex, a name
 * no store path can have); NULL on error. */
static PyObject *
fixed_expectation(Walk *w, PyObject *row, Span name)
{
    static const Span none = {"", 0};
    Span out_path, algo, hash;
    if (utf8_span(PyTuple_GET_ITEM(row, 1), &out_path) < 0 ||
        utf8_span(PyTuple_GET_ITEM(row, 2), &algo) < 0 ||
        utf8_span(PyTuple_GET_ITEM(row, 3), &hash) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            return NULL;
        }
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    int recursive = algo.size >= 2 && memcmp(algo.data, "r:", 2) == 0;
    int source = recursive && algo.size == 8 && memcmp(algo.data + 2, "sha256", 6) == 0;
    if (!is_lower_hex(hash) || (source && hash.size != 2 * SHA256_SIZE)) {
        Py_RETURN_NONE;
    }
    const Span fixed_out = {"fixed:out:", 10}, colon = {":", 1};
    const Span modulo_text[] = {fixed_out, algo, colon, hash, colon, out_path};
    PyObject *digest = digest_of(w->sha256, modulo_text, 6);
    if (digest == NULL) {
        return NULL;
    }
    char hex[2 * SHA256_SIZE];
    char *at = hex;
    put_hex(&at, (const unsigned char *)PyBytes_AS_STRING(digest), SHA256_SIZE);
    Py_DECREF(digest);
    PyObject *path;
    if (source) { /* the NAR's SHA-256 itself: an item added "recursively" */
        unsigned char raw[SHA256_SIZE];
        for (int i = 0; i < SHA256_SIZE; i++) {
            raw[i] = (unsigned char)(hex_value(hash.data[2 * i]) << 4 | hex_value(hash.data[2 * i + 1]));
        }
        path = store_path(w->sha256, (Span){"source", 6}, none, raw, w->dir, name, none, none);
    }
    else {
        const Span tag[] = {fixed_out, algo, colon, hash, colon};
        PyObject *inner = digest_of(w->sha256, tag, 5);
        if (inner == NULL) {
            return NULL;
        }
        path = store_path(w->sha256, (Span){"output:", 7}, (Span){"out", 3},
                          (const unsigned char *)PyBytes_AS_STRING(inner), w->dir, name, none, none);
        Py_DECREF(inner);
    }
    if (path == NULL || path == Py_None) {
        return path;
    }
    PyObject *modulo = PyUnicode_FromStringAndSize(hex, 2 * SHA256_SIZE);
    PyObject *result = modulo == NULL ? NULL : PyTuple_Pack(2, modulo, path);
    Py_XDECREF(modulo);
    Py_DECREF(path);
    return result;
}

/* Checks the derivation drv at path (its inputs done, fixed telling
 * whether it is fixed-output) in C, or hands it to fallback. */
static int
check_derivation(Walk *w, PyObject *path, PyObject *drv, PyObject *fields, int fixed)
{
    PyObject *rows = PyTuple_GET_ITEM(fields, 0);
    PyObject *inputs = PyTuple_GET_ITEM(fields, 1);
    PyObject *env = PyTuple_GET_ITEM(fields, 6);
    PyObject *replaced = NULL, *kind = NULL, *data = NULL, *name = NULL, *found = NULL;
    PyObject *expected = NULL; /* fixed: (hash modulo, output path) */
    int status = -1;
    if (!PyTuple_Check(inputs) || !PyTuple_Check(PyTuple_GET_ITEM(fields, 2)) ||
        !PyTuple_Check(env)) {
        PyErr_SetString(PyExc_TypeError, "verify_closure() needs tuples of inputs");
        return -1;
    }
    name = PyObject_GetAttr(drv, S_name);
    if (name == NULL) {
        goto done;
    }
    Span name_span;
    if (utf8_span(name, &name_span) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            goto done;
        }
        PyErr_Clear();
        status = call_fallback(w, path, drv);
        goto done;
    }
    if (fixed) {
        replaced = Py_None;
        Py_INCREF(replaced);
        expected = fixed_expectation(w, PyTuple_GET_ITEM(rows, 0), name_span);
        if (expected == NULL) {
            goto done;
        }
    }
    else {
        replaced = replaced_inputs(w, inputs);
        if (replaced == NULL) {
            goto done;
        }
    }
    kind = (fixed ? expected : replaced) == Py_None
               ? NULL
               : text_kind(PyTuple_GET_ITEM(fields, 2), inputs);
    if (kind == NULL && PyErr_Occurred()) {
        goto done;
    }
    if (kind == NULL || kind == Py_None) {
        status = call_fallback(w, path, drv);
        goto done;
    }
    int loaded;
    data = node_bytes(w, path, &loaded);
    if (data == NULL) {
        goto done;
    }
    if (!PyBytes_Check(data)) {
        status = call_fallback(w, path, drv);
        goto done;
    }
    Span kind_span = {PyBytes_AS_STRING(kind), PyBytes_GET_SIZE(kind)};
    found = loaded ? loaded_paths(w, path, data, rows, replaced, kind_span, name_span) : NULL;
    if (found == NULL && !PyErr_Occurred()) {
        found = node_paths(data, fields, replaced, kind_span, name_span, w->dir, w->sha256);
    }
    if (found == NULL) {
        goto done;
    }
    if (found == Py_None) {
        /* Not the canonical text, or a name no store path can have: the
         * Python checker says what it finds, from the same bytes. */
        if (PyDict_SetItem(w->texts, path, data) < 0) {
            goto done;
        }
        status = call_fallback(w, path, drv);
        goto done;
    }
    PyObject *drv_path = PyTuple_GET_ITEM(found, 0);
    PyObject *modulo = fixed ? PyTuple_GET_ITEM(expected, 0) : PyTuple_GET_ITEM(found, 1);
    if (PyUnicode_Compare(drv_path, path) != 0) {
        if (PyErr_Occurred() || call_report(w, path, "drv-path", path, drv_path, S_empty) < 0) {
            goto done;
        }
    }
    if (PyDict_SetItem(w->memo, path, modulo) < 0) {
        goto done;
    }
    w->fixed += fixed;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(rows); i++) {
        PyObject *row = PyTuple_GET_ITEM(rows, i);
        PyObject *output = PyTuple_GET_ITEM(row, 0);
        PyObject *output_path = PyTuple_GET_ITEM(row, 1);
        PyObject *want = fixed ? PyTuple_GET_ITEM(expected, 1)
                               : PyTuple_GET_ITEM(PyTuple_GET_ITEM(found, 2), i);
        int same = PyUnicode_Compare(output_path, want);
        if (same == -1 && PyErr_Occurred()) {
            goto done;
        }
        if (same != 0 && call_report(w, path, "output", output_path, want, output) < 0) {
            goto done;
        }
        /* The daemon's own rule: each output's variable holds its path. */
        PyObject *value = env_value(env, output);
        if (PyErr_Occurred()) {
            goto done;
        }
        same = value == NULL ? 1 : PyUnicode_Compare(value, output_path);
        if (same == -1 && PyErr_Occurred()) {
            goto done;
        }
        if (same != 0) {
            PyObject *shown = value == NULL ? S_empty : value;
            if (call_report(w, path, "env", shown, output_path, output) < 0) {
                goto done;
            }
        }
    }
    status = 0;
done:
    Py_XDECREF(replaced);
    Py_XDECREF(kind);
    Py_XDECREF(data);
    Py_XDECREF(name);
    Py_XDECREF(found);
    Py_XDECREF(expected);
    return status;
}

/* Checks path (its inputs done): in C when it is a regular derivation, else through fallback. */
static int
check_node(Walk *w, PyObject *path, PyObject *drv)
{
    if (drv == NULL) {
        return call_fallback(w, path, Py_None);
    }
    PyObject *fields = derivation_fields(drv);
    if (fields == NULL) {
        return -1;
    }
    int status = check_derivation(w, path, drv, fields, is_fixed_rows(PyTuple_GET_ITEM(fields, 0)));
    Py_DECREF(fields);
    return status;
}

PyDoc_STRVAR(verify_closure_doc,
"verify_closure(order, derivations, texts, memo, store_dir, sha256, read, fallback,\n"
"               report, cycle, tick, /) -> tuple[int, int]\n\n"
"Check every node of order, inputs first, as revive.core.verify.verify_graph\n"
"does: derivations maps paths to Derivation objects (a missing path is a\n"
"missing or malformed node), texts the .drv bytes already read (taken out\n"
"as they are used; read(path) gives the others, or None), memo the hex hash\n"
"modulo of each node done (or None). Derivations whose bytes are at hand\n"
"and canonical are checked here; every other node goes to fallback(path,\n"
"drv or None), which must set its memo entry. Mismatches go to report(path,\n"
"kind, found, expected, output), a node depending on itself to cycle(path),\n"
"and tick(done) is called every 256 nodes (it may raise to stop). Returns\n"
"(nodes checked, fixed-output derivations checked here).");

static PyObject *
verify_closure(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (arity("verify_closure", nargs, 11) < 0) {
        return NULL;
    }
    PyObject *order = args[0];
    Walk w = {args[1], args[2], args[3], args[6], args[7], args[8], args[9], args[5], {NULL, 0}, 0};
    PyObject *tick = args[10];
    if (!PyTuple_Check(order) || !PyDict_Check(w.derivations) || !PyDict_Check(w.texts) ||
        !PyDict_Check(w.memo)) {
        PyErr_SetString(PyExc_TypeError, "verify_closure() needs a tuple and three dicts");
        return NULL;
    }
    if (utf8_span(args[4], &w.dir) < 0 || intern_attribute_names() < 0) {
        return NULL;
    }
    /* Where each node whose inputs were pushed stands on the stack. */
    PyObject *entered = PyDict_New();
    if (entered == NULL) {
        return NULL;
    }
    Stack stack = {NULL, 0, 0};
    Py_ssize_t done = 0;
    int failed = 1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(order); i++) {
        PyObject *root = PyTuple_GET_ITEM(order, i);
        int known = PyDict_Contains(w.memo, root);
        if (known < 0 || (!known && stack_push(&stack, root) < 0)) {
            goto done;
        }
        while (stack.size > 0) {
            PyObject *current = stack.items[stack.size - 1];
            known = PyDict_Contains(w.memo, current);
            if (known < 0) {
                goto done;
            }
            if (known) {
                stack.size--;
                continue;
            }
            PyObject *drv = PyDict_GetItemWithError(w.derivations, current);
            PyObject *where = drv == NULL && PyErr_Occurred()
                                  ? NULL
                                  : PyDict_GetItemWithError(entered, current);
            if (PyErr_Occurred()) {
                goto done;
            }
            if (where == NULL && drv != NULL) {
                int fixed = is_fixed_derivation(drv);
                if (fixed < 0) {
                    goto done;
                }
                if (!fixed) {
                    PyObject *inputs = PyObject_GetAttr(drv, S_input_drvs);
                    if (inputs == NULL) {
                        goto done;
                    }
                    Py_ssize_t top = stack.size - 1;
                    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(inputs); k++) {
                        /* Borrowed: the derivation (kept in derivations) holds it. */
                        PyObject *input = PyTuple_GET_ITEM(PyTuple_GET_ITEM(inputs, k), 0);
                        int seen = PyDict_Contains(w.memo, input);
                        if (seen < 0 || (!seen && stack_push(&stack, input) < 0)) {
                            Py_DECREF(inputs);
                            goto done;
                        }
                    }
                    Py_DECREF(inputs);
                    if (stack.size - 1 > top) {
                        PyObject *place = PyLong_FromSsize_t(top);
                        if (place == NULL || PyDict_SetItem(entered, current, place) < 0) {
                            Py_XDECREF(place);
                            goto done;
                        }
                        Py_DECREF(place);
                        continue;
                    }
                }
            }
            else if (where != NULL && PyLong_AsSsize_t(where) != stack.size - 1) {
                stack.size--;
                if (PyDict_SetItem(w.memo, current, Py_None) < 0) {
                    goto done;
                }
                PyObject *result = PyObject_CallOneArg(w.cycle, current);
                if (result == NULL) {
                    goto done;
                }
                Py_DECREF(result);
                continue;
            }
            stack.size--;
            /* A new reference: fallback may run any Python code. */
            Py_XINCREF(drv);
            Py_INCREF(current);
            int status = check_node(&w, current, drv);
            Py_DECREF(current);
            Py_XDECREF(drv);
            if (status < 0) {
                goto done;
            }
            done++;
            if (done % 256 == 0) {
                PyObject *count = PyLong_FromSsize_t(done);
                PyObject *result = count == NULL ? NULL : PyObject_CallOneArg(tick, count);
                Py_XDECREF(count);
                if (result == NULL) {
                    goto done;
                }
                Py_DECREF(result);
            }
        }
    }
    failed = 0;
done:
    PyMem_Free(stack.items);
    Py_DECREF(entered);
    if (failed) {
        return NULL;
    }
    return Py_BuildValue("(nn)", done, w.fixed);
}

/* --- reading a file with its state -------------------------------------------
 *
 * The loader reads every .drv of a closure, and verify keeps its report
 * with the state (stat) of every one of them: taken from the open file
 * while it is read, the state costs no second lookup of the path, and it
 * is the state of what was read. */

PyDoc_STRVAR(read_with_state_doc,
"read_with_state(file: str, /) -> tuple[bytes, tuple[int, int, int, int, int]]\n\n"
"The bytes of file and, from the open file, (st_ino, st_size, st_mtime_ns,\n"
"st_ctime_ns, st_mode) as os.stat gives them. Raises OSError (its subclass\n"
"for the errno, with the file name) as os.open and os.read do.");

static PyObject *
read_with_state(PyObject *Py_UNUSED(module), PyObject *file)
{
    PyObject *encoded = NULL;
    if (!PyUnicode_FSConverter(file, &encoded)) {
        return NULL;
    }
    const char *name = PyBytes_AS_STRING(encoded);
    PyObject *data = NULL, *result = NULL;
    struct stat info;
    int fd, failed;
    Py_BEGIN_ALLOW_THREADS
    fd = open(name, O_RDONLY | O_CLOEXEC);
    failed = fd < 0 || fstat(fd, &info) < 0;
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, file);
        goto done;
    }
    /* One read for a file that does not grow: asking for a byte more than
     * its size, a short read is its end. */
    Py_ssize_t capacity = (S_ISREG(info.st_mode) ? (Py_ssize_t)info.st_size : 0) + 1;
    Py_ssize_t size = 0;
    data = PyBytes_FromStringAndSize(NULL, capacity);
    while (data != NULL) {
        ssize_t count;
        Py_BEGIN_ALLOW_THREADS
        count = read(fd, PyBytes_AS_STRING(data) + size, (size_t)(capacity - size));
        Py_END_ALLOW_THREADS
        if (count < 0) {
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, file);
            Py_CLEAR(data);
            break;
        }
        size += count;
        if (size < capacity || count == 0) {
            if (_PyBytes_Resize(&data, size) < 0) {
                data = NULL;
            }
            break;
        }
        capacity *= 2;
        if (_PyBytes_Resize(&data, capacity) < 0) {
            data = NULL;
        }
    }
    if (data != NULL) {
        long long billion = 1000000000LL;
        result = Py_BuildValue(
            "(O(KLLLk))", data, (unsigned long long)info.st_ino, (long long)info.st_size,
            (long long)info.st_mtim.tv_sec * billion + info.st_mtim.tv_nsec,
            (long long)info.st_ctim.tv_sec * billion + info.st_ctim.tv_nsec,
            (unsigned long)info.st_mode);
    }
done:
    if (fd >= 0) {
        close(fd);
    }
    Py_XDECREF(data);
    Py_DECREF(encoded);
    return result;
}

/* --- loading a closure ----------------------------------------------------------
 *
 * load_queue is the loop of revive.core.closure's breadth-first load for
 * the common case (nothing known from a cache, every file a plain .drv):
 * it reads each queued file, scans it, builds its Derivation and queues the
 * inputs not seen yet, as load_worker.load_one and the walk do in Python.
 * Anything else (a file that cannot be read, a term the strict reader
 * rejects, a path of another shape) goes to the walk's own Python code
 * through fallback, which updates the same queue, tables and sets.
 *
 * Reading a file (open, fstat, read, close) costs about as much as scanning
 * it, and needs no Python object: a second thread reads the files ahead of
 * the scanning one, up to READ_AHEAD of them, into plain buffers. */

#define READ_AHEAD 64

typedef struct {
    char *file;      /* the file to read (malloc'd), NULL: not one to read here */
    char *data;      /* its bytes (malloc'd) once read */
    Py_ssize_t size;
    struct stat info;
    int error;       /* 0, or why it was not read */
} ReadAhead;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    ReadAhead slots[READ_AHEAD];
    Py_ssize_t handed; /* files handed to the reader so far */
    Py_ssize_t done;   /* files the reader is done with */
    int stop;
    /* Who waits on changed: each side wakes the other only then (a wake is a system call). */
    int reader_waits, loader_waits;
} Reader;

/* Reads slot->file into slot->data (no Python object: runs without the GIL). */
static void
read_ahead(ReadAhead *slot)
{
    if (slot->file == NULL) {
        slot->error = EINVAL;
        return;
    }
    int fd = open(slot->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &slot->info) < 0) {
        slot->error = errno != 0 ? errno : EIO;
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    Py_ssize_t capacity = (S_ISREG(slot->info.st_mode) ? (Py_ssize_t)slot->info.st_size : 0) + 1;
    char *data = malloc((size_t)capacity);
    Py_ssize_t size = 0;
    while (data != NULL) {
        ssize_t count = read(fd, data + size, (size_t)(capacity - size));
        if (count < 0) {
            slot->error = errno;
            break;
        }
        size += count;
        if (size < capacity || count == 0) {
            slot->data = data;
            slot->size = size;
            data = NULL;
            break;
        }
        capacity *= 2;
        char *grown = realloc(data, (size_t)capacity);
        if (grown == NULL) {
            break;
        }
        data = grown;
    }
    if (slot->data == NULL && slot->error == 0) {
        slot->error = ENOMEM;
    }
    free(data);
    close(fd);
}

static void *
reader_thread(void *arg)
{
    Reader *reader = arg;
    pthread_mutex_lock(&reader->lock);
    for (;;) {
        while (!reader->stop && reader->done == reader->handed) {
            reader->reader_waits = 1;
            pthread_cond_wait(&reader->changed, &reader->lock);
            reader->reader_waits = 0;
        }
        if (reader->stop) {
            break;
        }
        ReadAhead *slot = &reader->slots[reader->done % READ_AHEAD];
        pthread_mutex_unlock(&reader->lock);
        read_ahead(slot);
        pthread_mutex_lock(&reader->lock);
        reader->done++;
        if (reader->loader_waits) {
            pthread_cond_broadcast(&reader->changed);
        }
    }
    pthread_mutex_unlock(&reader->lock);
    return NULL;
}

static void
clear_slot(ReadAhead *slot)
{
    free(slot->file);
    free(slot->data);
    memset(slot, 0, sizeof *slot);
}

/* The file of the store path path (a str) when it is a plain .drv of the
 * store logical (base + "/" + 32 characters + "-" + name + ".drv", ASCII),
 * in physical (ending with "/"); NULL (no exception) otherwise. */
static char *
drv_file(PyObject *path, Span logical, Span physical)
{
    if (!PyUnicode_Check(path) || !PyUnicode_IS_ASCII(path)) {
        return NULL;
    }
    const char *text = (const char *)PyUnicode_1BYTE_DATA(path);
    Py_ssize_t size = PyUnicode_GET_LENGTH(path);
    Py_ssize_t cut = logical.size + 1;
    if (size < cut + 33 + 4 || memcmp(text, logical.data, (size_t)logical.size) != 0 ||
        text[logical.size] != '/' || memchr(text + cut, '/', (size_t)(size - cut)) != NULL ||
        text[cut + 32] != '-' || memcmp(text + size - 4, ".drv", 4) != 0) {
        return NULL;
    }
    char *file = malloc((size_t)(physical.size + size - cut + 1));
    if (file != NULL) {
        memcpy(file, physical.data, (size_t)physical.size);
        memcpy(file + physical.size, text + cut, (size_t)(size - cut));
        file[physical.size + size - cut] = '\0';
    }
    return file;
}

typedef struct {
    PyObject *queue, *edges, *texts, *states, *derivations, *seen, *fallback;
    Classes classes;
    Py_ssize_t cut; /* where the base name starts in a store path */
} Load;

/* The node at path from what the reader read into slot: parsed, kept and
 * its new inputs queued; through fallback when it is not read here or not
 * a term the strict reader takes. */
static int
load_read(Load *load, PyObject *path, ReadAhead *slot)
{
    if (slot->error != 0) {
        PyObject *result = PyObject_CallOneArg(load->fallback, path);
        Py_XDECREF(result);
        return result == NULL ? -1 : 0;
    }
    PyObject *data = PyBytes_FromStringAndSize(slot->data, slot->size);
    if (data == NULL) {
        return -1;
    }
    free(slot->data);
    slot->data = NULL;
    PyObject *scan_args[2] = {data, load->edges};
    PyObject *fields = scan_fields(NULL, scan_args, 2);
    int status = -1;
    PyObject *name = NULL, *drv = NULL, *state = NULL;
    if (fields == NULL) {
        goto done;
    }
    if (fields == Py_None) {
        /* The careful parser reads it again and says what is wrong. */
        PyObject *result = PyObject_CallOneArg(load->fallback, path);
        Py_XDECREF(result);
        status = result == NULL ? -1 : 0;
        goto done;
    }
    name = PyUnicode_Substring(path, load->cut + 33, PyUnicode_GET_LENGTH(path) - 4);
    drv = name == NULL ? NULL : build(&load->classes, name, fields);
    if (drv == NULL || PyDict_SetItem(load->derivations, path, drv) < 0) {
        goto done;
    }
    if (load->texts != NULL && PyDict_SetItem(load->texts, path, data) < 0) {
        goto done;
    }
    if (load->states != NULL) {
        long long billion = 1000000000LL;
        const struct stat *info = &slot->info;
        state = Py_BuildValue("(KLLLk)", (unsigned long long)info->st_ino,
                              (long long)info->st_size,
                              (long long)info->st_mtim.tv_sec * billion + info->st_mtim.tv_nsec,
                              (long long)info->st_ctim.tv_sec * billion + info->st_ctim.tv_nsec,
                              (unsigned long)info->st_mode);
        if (state == NULL || PyDict_SetItem(load->states, path, state) < 0) {
            goto done;
        }
    }
    PyObject *inputs = PyTuple_GET_ITEM(fields, 1);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(inputs); i++) {
        PyObject *input = PyTuple_GET_ITEM(PyTuple_GET_ITEM(inputs, i), 0);
        int seen = PySet_Contains(load->seen, input);
        if (seen < 0 || (!seen && (PySet_Add(load->seen, input) < 0 ||
                                   PyList_Append(load->queue, input) < 0))) {
            goto done;
        }
    }
    status = 0;
done:
    Py_DECREF(data);
    Py_XDECREF(fields);
    Py_XDECREF(name);
    Py_XDECREF(drv);
    Py_XDECREF(state);
    return status;
}

PyDoc_STRVAR(load_queue_doc,
"load_queue(queue, index, logical, physical, edges, texts, states, derivations, seen,\n"
"           derivation_cls, derivation_slots, output_cls, output_slots, fallback,\n"
"           checkpoint, every, /) -> int\n\n"
"Load the nodes of the list queue from index on, as the breadth-first walk\n"
"of revive.core.closure does: each path's .drv file in physical (ending\n"
"with \"/\") is read and scanned (edges: the shared input edges), its\n"
"Derivation put in derivations, its bytes in texts and its state in states\n"
"(either may be None), and its inputs not in the set seen added to it and\n"
"to queue. A path that is not read here goes to fallback(path).\n"
"checkpoint(index) is called every `every` nodes (it may raise to stop).\n"
"Returns the index reached: len(queue).");

static PyObject *
load_queue(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (arity("load_queue", nargs, 16) < 0) {
        return NULL;
    }
    Load load = {args[0], args[4], args[5] == Py_None ? NULL : args[5],
                 args[6] == Py_None ? NULL : args[6], args[7], args[8], args[13],
                 {NULL, NULL, NULL, NULL}, 0};
    Py_ssize_t index = PyLong_AsSsize_t(args[1]);
    Py_ssize_t every = PyLong_AsSsize_t(args[15]);
    PyObject *checkpoint = args[14];
    Span logical, physical;
    if ((index < 0 || every <= 0) && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "load_queue() needs index >= 0 and every > 0");
    }
    if (PyErr_Occurred() || utf8_span(args[2], &logical) < 0 || utf8_span(args[3], &physical) < 0 ||
        read_classes(args + 9, &load.classes) < 0) {
        return NULL;
    }
    if (!PyList_CheckExact(load.queue) || !PyDict_CheckExact(load.edges) ||
        !PyDict_CheckExact(load.derivations) || !PySet_CheckExact(load.seen) ||
        (load.texts != NULL && !PyDict_CheckExact(load.texts)) ||
        (load.states != NULL && !PyDict_CheckExact(load.states))) {
        PyErr_SetString(PyExc_TypeError, "load_queue() needs a list, dicts and a set");
        return NULL;
    }
    load.cut = logical.size + 1;
    Reader *reader = PyMem_Calloc(1, sizeof(Reader));
    if (reader == NULL) {
        return PyErr_NoMemory();
    }
    pthread_mutex_init(&reader->lock, NULL);
    pthread_cond_init(&reader->changed, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, reader_thread, reader) != 0) {
        pthread_cond_destroy(&reader->changed);
        pthread_mutex_destroy(&reader->lock);
        PyMem_Free(reader);
        PyErr_SetString(PyExc_OSError, "load_queue() cannot start its reading thread");
        return NULL;
    }
    Py_ssize_t start = index, handed = index; /* queue index of the next file to hand over */
    int failed = 1;
    while (index < PyList_GET_SIZE(load.queue)) {
        if (index > start && (index - start) % every == 0) {
            PyObject *result = PyObject_CallFunction(checkpoint, "n", index);
            if (result == NULL) {
                goto done;
            }
            Py_DECREF(result);
        }
        /* Hand the reader what the queue holds, up to READ_AHEAD files ahead
         * (by halves: the slots refilled are ones the reader is done with). */
        if (handed < PyList_GET_SIZE(load.queue) && handed - index <= READ_AHEAD / 2) {
            Py_ssize_t first = handed;
            while (handed < PyList_GET_SIZE(load.queue) && handed - index < READ_AHEAD) {
                ReadAhead *slot = &reader->slots[(handed - start) % READ_AHEAD];
                clear_slot(slot);
                slot->file = drv_file(PyList_GET_ITEM(load.queue, handed), logical, physical);
                handed++;
            }
            pthread_mutex_lock(&reader->lock);
            reader->handed += handed - first;
            if (reader->reader_waits) {
                pthread_cond_broadcast(&reader->changed);
            }
            pthread_mutex_unlock(&reader->lock);
        }
        Py_ssize_t number = index - start;
        pthread_mutex_lock(&reader->lock);
        int ready = reader->done > number;
        pthread_mutex_unlock(&reader->lock);
        if (!ready) {
            Py_BEGIN_ALLOW_THREADS
            pthread_mutex_lock(&reader->lock);
            while (reader->done <= number) {
                reader->loader_waits = 1;
                pthread_cond_wait(&reader->changed, &reader->lock);
                reader->loader_waits = 0;
            }
            pthread_mutex_unlock(&reader->lock);
            Py_END_ALLOW_THREADS
        }
        PyObject *path = PyList_GET_ITEM(load.queue, index);
        Py_INCREF(path);
        index++;
        int status = load_read(&load, path, &reader->slots[number % READ_AHEAD]);
        Py_DECREF(path);
        if (status < 0) {
            goto done;
        }
    }
    failed = 0;
done:
    pthread_mutex_lock(&reader->lock);
    reader->stop = 1;
    pthread_cond_broadcast(&reader->changed);
    pthread_mutex_unlock(&reader->lock);
    Py_BEGIN_ALLOW_THREADS
    pthread_join(thread, NULL);
    Py_END_ALLOW_THREADS
    for (int i = 0; i < READ_AHEAD; i++) {
        clear_slot(&reader->slots[i]);
    }
    pthread_cond_destroy(&reader->changed);
    pthread_mutex_destroy(&reader->lock);
    PyMem_Free(reader);
    return failed ? NULL : PyLong_FromSsize_t(index);
}

static PyMethodDef methods[] = {
    {"scan_fields", (PyCFunction)(void (*)(void))scan_fields, METH_FASTCALL, scan_fields_doc},
    {"make_derivation", (PyCFunction)(void (*)(void))make_derivation, METH_FASTCALL,
     make_derivation_doc},
    {"make_derivations", (PyCFunction)(void (*)(void))make_derivations, METH_FASTCALL,
     make_derivations_doc},
    {"hash_texts", (PyCFunction)(void (*)(void))hash_texts, METH_FASTCALL, hash_texts_doc},
    {"path_hash", path_hash, METH_O, path_hash_doc},
    {"verify_paths", (PyCFunction)(void (*)(void))verify_paths, METH_FASTCALL, verify_paths_doc},
    {"verify_closure", (PyCFunction)(void (*)(void))verify_closure, METH_FASTCALL,
     verify_closure_doc},
    {"read_with_state", read_with_state, METH_O, read_with_state_doc},
    {"load_queue", (PyCFunction)(void (*)(void))load_queue, METH_FASTCALL, load_queue_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "revive.core._drv_scan",
    "The compiled reader of .drv terms (see revive.core.drv_scan).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__drv_scan(void)
{
    if (name_tuples == NULL) {
        name_tuples = PyDict_New();
        if (name_tuples == NULL) {
            return NULL;
        }
    }
    if (out_only_names == NULL) {
        PyObject *out = PyUnicode_InternFromString("out");
        if (out == NULL) {
            return NULL;
        }
        PyObject *names = PyTuple_Pack(1, out);
        Py_DECREF(out);
        if (names == NULL || (out_only_names = shared_names(names)) == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&module);
}
