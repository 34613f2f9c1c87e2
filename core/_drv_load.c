/*
 * revive.core._drv_scan: reading a file with its state (read_with_state) and the loop of the
 * breadth-first load (load_queue).
 */

#include "_drv_scan.h"

/* --- reading a file with its state -------------------------------------------
 *
 * The loader reads every .drv of a closure, and verify keeps its report
 * with the state (stat) of every one of them: taken from the open file
 * while it is read, the state costs no second lookup of the path, and it
 * is the state of what was read. Reading needs no Python object, so it
 * runs without the GIL (and, in load_queue, on a thread of its own). */

typedef struct {
    char *file;      /* the file to read (malloc'd), NULL: not one to read here */
    char *data;      /* its bytes (malloc'd) once read */
    Py_ssize_t size;
    struct stat info;
    int error;       /* 0, or why it was not read */
} ReadAhead;

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

/* What os.stat says of the file read into slot: (st_ino, st_size,
 * st_mtime_ns, st_ctime_ns, st_mode), or NULL. */
static PyObject *
state_of(const ReadAhead *slot)
{
    const struct stat *info = &slot->info;
    long long billion = 1000000000LL;
    return Py_BuildValue("(KLLLk)", (unsigned long long)info->st_ino, (long long)info->st_size,
                         (long long)info->st_mtim.tv_sec * billion + info->st_mtim.tv_nsec,
                         (long long)info->st_ctim.tv_sec * billion + info->st_ctim.tv_nsec,
                         (unsigned long)info->st_mode);
}

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
    ReadAhead slot;
    memset(&slot, 0, sizeof slot);
    slot.file = PyBytes_AS_STRING(encoded);
    Py_BEGIN_ALLOW_THREADS
    read_ahead(&slot);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (slot.error != 0) {
        errno = slot.error;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, file);
    }
    else {
        PyObject *data = PyBytes_FromStringAndSize(slot.data, slot.size);
        PyObject *state = data == NULL ? NULL : state_of(&slot);
        if (state != NULL) {
            result = PyTuple_Pack(2, data, state);
        }
        Py_XDECREF(data);
        Py_XDECREF(state);
    }
    free(slot.data);
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
    pthread_mutex_t lock;
    pthread_cond_t changed;
    ReadAhead slots[READ_AHEAD];
    Py_ssize_t handed; /* files handed to the reader so far */
    Py_ssize_t done;   /* files the reader is done with */
    int stop;
    /* Who waits on changed: each side wakes the other only then (a wake is a system call). */
    int reader_waits, loader_waits;
} Reader;

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
        state = state_of(slot);
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

PyMethodDef drv_load_methods[] = {
    {"read_with_state", read_with_state, METH_O, read_with_state_doc},
    {"load_queue", (PyCFunction)(void (*)(void))load_queue, METH_FASTCALL, load_queue_doc},
    {NULL, NULL, 0, NULL},
};
