/*
 * Compiled byte-pair merging for naiprompt's CLIP tokenizer (optional; the pure-Python _bpe() in clip.py
 * is the reference and the fallback, and tests/test_tokens_compiled.py checks that both agree).
 *
 * Only the merge loop lives here: cleaning, pre-tokenizing and caching stay in Python. The vocabulary
 * layout is CLIP's: byte symbol ids below 256, the same symbol with "</w>" at id + 256, and merge number r
 * creating token 512 + r. A pair (left, right) is the 32-bit key left << 16 | right.
 *
 * Algorithm: the symbols form a doubly linked list; every adjacent pair that has a merge goes into a
 * binary min-heap keyed by (rank, position of its left symbol). Popping gives the lowest rank, leftmost
 * first, which is exactly the order of the reference loop. An entry whose pair has changed since it was
 * pushed is skipped: a rank names one pair, so an entry is current exactly when the pair now at its
 * position still has its rank. Each merge pushes the (at most two) new neighbouring pairs, so a piece of
 * n bytes costs O(n log n) rather than the reference's O(n^2).
 *
 * Exposed (private to naiprompt, see _bpe.pyi):
 *   build_table(pairs: bytes) -> bytes
 *       pairs: native uint32 values key0, rank0, key1, rank1, ...; returns an open-addressing hash table.
 *   encode(table: bytes, byte_ids: bytes, data: bytes) -> tuple[int, ...]
 *       byte_ids: 256 native uint32 ids, one per byte value; data: the UTF-8 bytes of one pre-token.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define EMPTY_KEY UINT32_MAX /* no CLIP pair reaches it: ids are below 49408 */
#define END_OF_WORD 256      /* a byte's id with "</w>" is its plain id plus this */
#define FIRST_MERGED 512     /* merge number r creates token FIRST_MERGED + r */
#define NO_RANK UINT32_MAX
#define STACK_SYMBOLS 64     /* pieces up to this many bytes need no heap allocation */

typedef struct {
    uint32_t key;
    uint32_t rank;
} Slot;

static inline uint32_t
slot_index(uint32_t key, uint32_t mask)
{
    /* Fibonacci hashing spreads the structured keys (two small ids) over the table. */
    return (uint32_t)((key * 2654435769u) >> 7) & mask;
}

static inline uint32_t
lookup(const Slot *slots, uint32_t mask, uint32_t key)
{
    uint32_t at = slot_index(key, mask);
    for (;;) {
        const Slot *slot = &slots[at];
        if (slot->key == key) {
            return slot->rank;
        }
        if (slot->key == EMPTY_KEY) {
            return NO_RANK;
        }
        at = (at + 1) & mask;
    }
}

static PyObject *
build_table(PyObject *module, PyObject *pairs)
{
    (void)module;
    if (!PyBytes_Check(pairs)) {
        PyErr_SetString(PyExc_TypeError, "build_table() expects bytes");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(pairs);
    if (size % (Py_ssize_t)sizeof(Slot) != 0) {
        PyErr_SetString(PyExc_ValueError, "build_table() expects whole (key, rank) uint32 pairs");
        return NULL;
    }
    Py_ssize_t count = size / (Py_ssize_t)sizeof(Slot);
    /* A power of two at least 2.5 times the entry count keeps probe chains short. */
    Py_ssize_t capacity = 1024;
    while (capacity < count * 5 / 2) {
        capacity *= 2;
        if (capacity > ((Py_ssize_t)1 << 30)) {
            PyErr_SetString(PyExc_ValueError, "build_table(): too many pairs");
            return NULL;
        }
    }
    PyObject *table = PyBytes_FromStringAndSize(NULL, capacity * (Py_ssize_t)sizeof(Slot));
    if (table == NULL) {
        return NULL;
    }
    Slot *slots = (Slot *)PyBytes_AS_STRING(table);
    for (Py_ssize_t i = 0; i < capacity; i++) {
        slots[i].key = EMPTY_KEY;
        slots[i].rank = NO_RANK;
    }
    uint32_t mask = (uint32_t)(capacity - 1);
    Slot entry;
    const char *source = PyBytes_AS_STRING(pairs);
    for (Py_ssize_t i = 0; i < count; i++) {
        memcpy(&entry, source + i * (Py_ssize_t)sizeof(Slot), sizeof(Slot));
        if (entry.key == EMPTY_KEY) {
            Py_DECREF(table);
            PyErr_SetString(PyExc_ValueError, "build_table(): reserved pair key");
            return NULL;
        }
        uint32_t at = slot_index(entry.key, mask);
        while (slots[at].key != EMPTY_KEY && slots[at].key != entry.key) {
            at = (at + 1) & mask;
        }
        slots[at] = entry; /* a repeated key keeps its last rank, as a dict would */
    }
    return table;
}

/* Heap entries: rank in the high 32 bits, left position in the low ones, so smaller is earlier. */
static void
heap_push(uint64_t *heap, Py_ssize_t *size, uint64_t value)
{
    Py_ssize_t at = (*size)++;
    while (at > 0) {
        Py_ssize_t parent = (at - 1) / 2;
        if (heap[parent] <= value) {
            break;
        }
        heap[at] = heap[parent];
        at = parent;
    }
    heap[at] = value;
}

static uint64_t
heap_pop(uint64_t *heap, Py_ssize_t *size)
{
    uint64_t top = heap[0];
    uint64_t last = heap[--(*size)];
    Py_ssize_t at = 0;
    for (;;) {
        Py_ssize_t child = 2 * at + 1;
        if (child >= *size) {
            break;
        }
        if (child + 1 < *size && heap[child + 1] < heap[child]) {
            child++;
        }
        if (last <= heap[child]) {
            break;
        }
        heap[at] = heap[child];
        at = child;
    }
    if (*size > 0) {
        heap[at] = last;
    }
    return top;
}

static PyObject *
encode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1]) || !PyBytes_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "encode() expects (table: bytes, byte_ids: bytes, data: bytes)");
        return NULL;
    }
    Py_ssize_t table_size = PyBytes_GET_SIZE(args[0]) / (Py_ssize_t)sizeof(Slot);
    if (table_size < 1 || (table_size & (table_size - 1)) != 0 || PyBytes_GET_SIZE(args[1]) != 256 * 4) {
        PyErr_SetString(PyExc_ValueError, "encode(): malformed table or byte ids");
        return NULL;
    }
    const Slot *slots = (const Slot *)PyBytes_AS_STRING(args[0]);
    uint32_t mask = (uint32_t)(table_size - 1);
    /* Read in place, like the table: a bytes object's data is at least 8-byte aligned in CPython. */
    const uint32_t *byte_ids = (const uint32_t *)PyBytes_AS_STRING(args[1]);
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[2]);
    Py_ssize_t n = PyBytes_GET_SIZE(args[2]);
    if (n == 0) {
        return PyTuple_New(0);
    }
    if (n > (Py_ssize_t)INT32_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "encode(): pre-token too long");
        return NULL;
    }

    /* ids, next, prev: n each; heap: the n - 1 first pairs plus at most two per merge (< 3n). */
    uint32_t stack_ids[STACK_SYMBOLS];
    int32_t stack_next[STACK_SYMBOLS], stack_prev[STACK_SYMBOLS];
    uint64_t stack_heap[3 * STACK_SYMBOLS];
    uint32_t *ids = stack_ids;
    int32_t *next = stack_next, *prev = stack_prev;
    uint64_t *heap = stack_heap;
    void *block = NULL;
    if (n > STACK_SYMBOLS) {
        size_t bytes = (size_t)n * (sizeof(uint32_t) + 2 * sizeof(int32_t) + 3 * sizeof(uint64_t));
        block = PyMem_Malloc(bytes);
        if (block == NULL) {
            return PyErr_NoMemory();
        }
        heap = (uint64_t *)block;
        ids = (uint32_t *)(heap + 3 * n);
        next = (int32_t *)(ids + n);
        prev = next + n;
    }

    for (Py_ssize_t i = 0; i < n; i++) {
        ids[i] = byte_ids[data[i]];
        next[i] = (int32_t)(i + 1);
        prev[i] = (int32_t)(i - 1);
    }
    ids[n - 1] += END_OF_WORD;
    next[n - 1] = -1;

    Py_ssize_t heap_size = 0;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        uint32_t rank = lookup(slots, mask, ids[i] << 16 | ids[i + 1]);
        if (rank != NO_RANK) {
            heap_push(heap, &heap_size, (uint64_t)rank << 32 | (uint64_t)i);
        }
    }

    Py_ssize_t remaining = n;
    while (heap_size > 0) {
        uint64_t top = heap_pop(heap, &heap_size);
        uint32_t rank = (uint32_t)(top >> 32);
        int32_t left = (int32_t)(top & 0xFFFFFFFFu);
        int32_t right = next[left];
        /* Merged-away symbols have next == -2, so they fail the first test. */
        if (right < 0 || lookup(slots, mask, ids[left] << 16 | ids[right]) != rank) {
            continue; /* stale: the pair at this position has changed */
        }
        ids[left] = FIRST_MERGED + rank;
        next[left] = next[right];
        if (next[right] >= 0) {
            prev[next[right]] = left;
        }
        next[right] = -2;
        remaining--;
        if (prev[left] >= 0) {
            int32_t before = prev[left];
            uint32_t found = lookup(slots, mask, ids[before] << 16 | ids[left]);
            if (found != NO_RANK) {
                heap_push(heap, &heap_size, (uint64_t)found << 32 | (uint64_t)before);
            }
        }
        if (next[left] >= 0) {
            uint32_t found = lookup(slots, mask, ids[left] << 16 | ids[next[left]]);
            if (found != NO_RANK) {
                heap_push(heap, &heap_size, (uint64_t)found << 32 | (uint64_t)left);
            }
        }
    }

    PyObject *result = PyTuple_New(remaining);
    if (result != NULL) {
        Py_ssize_t out = 0;
        for (int32_t at = 0; at >= 0; at = next[at]) {
            PyObject *id = PyLong_FromUnsignedLong(ids[at]);
            if (id == NULL) {
                Py_CLEAR(result);
                break;
            }
            PyTuple_SET_ITEM(result, out++, id);
        }
    }
    PyMem_Free(block);
    return result;
}

static PyMethodDef methods[] = {
    {"build_table", (PyCFunction)build_table, METH_O,
     "build_table($module, pairs, /)\n--\n\nOpen-addressing table of (pair key, rank) uint32 pairs."},
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL,
     "encode($module, table, byte_ids, data, /)\n--\n\nByte-level BPE ids of one pre-token."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "naiprompt.tokens._bpe",
    .m_doc = "Compiled byte-pair merging for naiprompt's CLIP tokenizer (see clip.py for the reference).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__bpe(void)
{
    return PyModuleDef_Init(&module_def);
}
