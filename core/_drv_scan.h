/*
 * What the C files of revive.core._drv_scan share: the reader and builder
 * (_drv_scan.c), the texts and store paths verify hashes (_drv_texts.c),
 * the walk of verify (_drv_verify.c) and the loader (_drv_load.c). They are
 * one extension module; the functions declared here are internal to it
 * (the module is built with hidden symbols: only PyInit__drv_scan is seen).
 */

#ifndef REVIVE_DRV_SCAN_H
#define REVIVE_DRV_SCAN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A piece of UTF-8 or of bytes, not owned. */
typedef struct {
    const char *data;
    Py_ssize_t size;
} Span;

static inline void
put(char **out, Span span)
{
    memcpy(*out, span.data, (size_t)span.size);
    *out += span.size;
}

/* The UTF-8 of a str argument as a span, or -1 with an exception. */
static inline int
utf8_span(PyObject *value, Span *span)
{
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "verify_paths() needs str arguments");
        return -1;
    }
    span->data = PyUnicode_AsUTF8AndSize(value, &span->size);
    return span->data == NULL ? -1 : 0;
}

/* 0 if a function called name was given wanted arguments, else -1 with a TypeError. */
static inline int
arity(const char *name, Py_ssize_t nargs, Py_ssize_t wanted)
{
    if (nargs == wanted) {
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, wanted, nargs);
    return -1;
}


/* --- the reader and the builder (_drv_scan.c) */

#define DERIVATION_SLOTS 9 /* name, outputs, the 6 other fields, _env_index */
#define OUTPUT_SLOTS 4

typedef struct {
    PyTypeObject *derivation;
    PyObject *derivation_slots;
    PyTypeObject *output;
    PyObject *output_slots;
} Classes;

PyObject *scan_fields(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
int read_classes(PyObject *const *args, Classes *classes);
PyObject *build(const Classes *classes, PyObject *name, PyObject *fields);

/* --- the texts verify hashes and the store paths (_drv_texts.c) */

#define SHA256_SIZE 32
#define FOLDED_SIZE 20
#define FOLDED_DIGITS 32 /* nix-base32 digits of 20 bytes */

/* Where a match or a layout of a term is. */
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

char escape_letter(unsigned char c);
char escape_letter_of(char letter);
void match_char(Matcher *m, char c);
int add_cut(Cuts *cuts, Py_ssize_t start, Py_ssize_t stop);
PyObject *spliced(const char *data, Py_ssize_t size, Py_ssize_t inputs_start, Py_ssize_t inputs_stop, const char *replaced, Py_ssize_t replaced_size, const Cuts *cuts);
PyObject *hash_texts(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *sha256_digest(PyObject *sha256, PyObject *data);
void put_hex(char **out, const unsigned char *digest, Py_ssize_t size);
PyObject *hex_string(PyObject *digest);
PyObject *store_path(PyObject *sha256, Span kind, Span kind_suffix, const unsigned char *inner, Span dir, Span base, Span sep, Span suffix);
PyObject *drv_store_path(PyObject *data, Span kind, Span name, Span dir, PyObject *sha256);
PyObject *regular_paths(PyObject *drv_path, PyObject *texts, PyObject *rows, Span name, Span dir, PyObject *sha256);
PyObject *node_paths(PyObject *data, PyObject *fields, PyObject *replaced, Span kind, Span name, Span dir, PyObject *sha256);

/* --- the module's functions, by file (added to it by PyInit__drv_scan) */

extern PyMethodDef drv_texts_methods[];
extern PyMethodDef drv_verify_methods[];
extern PyMethodDef drv_load_methods[];

#endif
