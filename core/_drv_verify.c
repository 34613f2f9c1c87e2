/*
 * revive.core._drv_scan: the walk of verify over a closure (verify_closure).
 */

#include "_drv_scan.h"

/* --- verifying a whole closure ------------------------------------------------
 *
 * verify_closure does what the loop of revive.core.verify.verify_graph does,
 * with the common case in C: it walks the closure inputs first (iterative
 * post-order, cycles reported) and checks each derivation whose .drv bytes
 * are at hand and canonical, writing its hash modulo to the shared memo.
 * Every other node (missing or malformed nodes, an input whose hash is
 * unknown, output names that need escaping, inputs sharing one hash modulo,
 * bytes that are not the canonical text, a fixed hash that is not plain
 * lowercase hex, names no store path can have) is handed to the Python checker,
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
    PyObject *modulo = hex_string(digest);
    Py_DECREF(digest);
    if (modulo == NULL) {
        return NULL;
    }
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
            Py_DECREF(modulo);
            return NULL;
        }
        path = store_path(w->sha256, (Span){"output:", 7}, (Span){"out", 3},
                          (const unsigned char *)PyBytes_AS_STRING(inner), w->dir, name, none, none);
        Py_DECREF(inner);
    }
    if (path == NULL || path == Py_None) {
        Py_DECREF(modulo);
        return path;
    }
    PyObject *result = PyTuple_Pack(2, modulo, path);
    Py_DECREF(modulo);
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

PyMethodDef drv_verify_methods[] = {
    {"verify_closure", (PyCFunction)(void (*)(void))verify_closure, METH_FASTCALL,
     verify_closure_doc},
    {NULL, NULL, 0, NULL},
};
