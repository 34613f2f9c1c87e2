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

#include "_drv_scan.h"

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

PyObject *
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
int
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

PyObject *
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
    if (arity("make_derivation", nargs, 6) < 0 || read_classes(args, &classes) < 0) {
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
    if (arity("make_derivations", nargs, 6) < 0 || read_classes(args, &classes) < 0) {
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

static PyMethodDef methods[] = {
    {"scan_fields", (PyCFunction)(void (*)(void))scan_fields, METH_FASTCALL, scan_fields_doc},
    {"make_derivation", (PyCFunction)(void (*)(void))make_derivation, METH_FASTCALL,
     make_derivation_doc},
    {"make_derivations", (PyCFunction)(void (*)(void))make_derivations, METH_FASTCALL,
     make_derivations_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "revive.core._drv_scan",
    "The compiled reader of .drv terms (see revive.core.drv_scan), and the hot\n"
    "loops of loading and verifying a closure.",
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
    PyObject *created = PyModule_Create(&module);
    if (created != NULL && (PyModule_AddFunctions(created, drv_texts_methods) < 0 ||
                            PyModule_AddFunctions(created, drv_verify_methods) < 0 ||
                            PyModule_AddFunctions(created, drv_load_methods) < 0)) {
        Py_CLEAR(created);
    }
    return created;
}
