/*
 * revive.core._drv_scan: the texts verify hashes (hash_texts), store path hashes (path_hash) and
 * the paths of one derivation (verify_paths).
 */

#include "_drv_scan.h"

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


int
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

void
match_char(Matcher *m, char c)
{
    if (m->ok && m->p < m->end && *m->p == c) {
        m->p++;
    }
    else {
        m->ok = 0;
    }
}

/* The escapes serialize_derivation writes: each character, then the letter
 * written after its backslash. */
static const char ESCAPES[5][2] = {{'"', '"'}, {'\\', '\\'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}};

/* The letter after the backslash of the escape serialize_derivation
 * writes for c, or 0 if c is written as it is. */
char
escape_letter(unsigned char c)
{
    for (int i = 0; i < 5; i++) {
        if ((unsigned char)ESCAPES[i][0] == c) {
            return ESCAPES[i][1];
        }
    }
    return 0;
}

/* The character an escape letter stands for in canonical text, or 0. */
char
escape_letter_of(char letter)
{
    for (int i = 0; i < 5; i++) {
        if (ESCAPES[i][1] == letter) {
            return ESCAPES[i][0];
        }
    }
    return 0;
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
PyObject *
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

PyObject *
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


/* The SHA-256 digest of the bytes object data, through the sha256 callable. */
PyObject *
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

/* A 32-byte digest (a bytes object) in lowercase hexadecimal, as a str. */
PyObject *
hex_string(PyObject *digest)
{
    char hex[2 * SHA256_SIZE];
    char *at = hex;
    put_hex(&at, (const unsigned char *)PyBytes_AS_STRING(digest), SHA256_SIZE);
    return PyUnicode_FromStringAndSize(hex, 2 * SHA256_SIZE);
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


void
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
PyObject *
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
PyObject *
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
PyObject *
regular_paths(PyObject *drv_path, PyObject *texts, PyObject *rows, Span name, Span dir,
              PyObject *sha256)
{
    static const Span none = {"", 0};
    PyObject *result = NULL, *modulo_hex = NULL, *outputs = NULL, *inner = NULL;
    PyObject *digest = sha256_digest(sha256, PyTuple_GET_ITEM(texts, 0));
    if (digest == NULL) {
        return NULL;
    }
    modulo_hex = hex_string(digest);
    Py_DECREF(digest);
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
PyObject *
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

PyMethodDef drv_texts_methods[] = {
    {"hash_texts", (PyCFunction)(void (*)(void))hash_texts, METH_FASTCALL, hash_texts_doc},
    {"path_hash", path_hash, METH_O, path_hash_doc},
    {"verify_paths", (PyCFunction)(void (*)(void))verify_paths, METH_FASTCALL, verify_paths_doc},
    {NULL, NULL, 0, NULL},
};
