/* Byte scans of rapid Japanese detection (filters/jadetect.py), in C.
 *
 * Each function gives exactly what the pure-Python code it stands in for gives (the regular
 * expressions and the UTF-8 decoder named below); tests/test_jascan.py compares them on
 * generated and real input.  Every loop moves forward by at least one byte and stops at the
 * end of the buffer: nothing here reads outside it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static inline int is_word(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void clamp(Py_ssize_t len, Py_ssize_t *pos, Py_ssize_t *end) {
    if (*pos < 0) *pos = 0;
    if (*pos > len) *pos = len;
    if (*end < 0) *end = 0;
    if (*end > len) *end = len;
}

/* re.compile(rb"<html\b", re.I).search(buf, pos, end): the start of the match, or -1. */
static Py_ssize_t html_open(const unsigned char *b, Py_ssize_t pos, Py_ssize_t end) {
    Py_ssize_t i = pos;
    while (i + 5 <= end) {
        Py_ssize_t stop;
        if (i + 36 <= end) {
            /* 32 candidate starts at once: a byte that is 0 where "<html" starts (any case), the
               smallest of them; branch-free byte arithmetic, which the compiler vectorises */
            unsigned char least = 0xFF;
            for (int k = 0; k < 32; k++) {
                const unsigned char *p = b + i + k;
                unsigned char v = (unsigned char)((p[0] ^ '<') | ((p[1] | 0x20) ^ 'h') | ((p[2] | 0x20) ^ 't')
                                                  | ((p[3] | 0x20) ^ 'm') | ((p[4] | 0x20) ^ 'l'));
                least = v < least ? v : least;
            }
            if (least) {
                i += 32;
                continue;
            }
            stop = i + 32;
        } else {
            stop = end - 4;  /* past the last start with room for "<html": i < stop, as i + 5 <= end */
        }
        for (; i < stop; i++) {
            const unsigned char *p = b + i;
            if (p[0] == '<' && (p[1] | 0x20) == 'h' && (p[2] | 0x20) == 't' && (p[3] | 0x20) == 'm'
                && (p[4] | 0x20) == 'l' && (i + 5 == end || !is_word(p[5])))
                return i;
        }
    }
    return -1;
}

/* len(re.compile(rb"\xe3[\x81-\x83]").findall(buf)): a match's second byte is never E3, so
   the matches cannot overlap and every pair counts. */
static Py_ssize_t utf8_kana(const unsigned char *b, Py_ssize_t n) {
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i + 1 < n; i++)
        count += (b[i] == 0xE3) & ((unsigned char)(b[i + 1] - 0x81) < 3);
    return count;
}

/* len(re.compile(rb"\x82[\x9f-\xf1]|\x83[\x40-\x96]").findall(buf, 0, end)) (sjis = 1), or
   len(re.compile(rb"\xa4[\xa1-\xf3]|\xa5[\xa1-\xf6]").findall(buf, 0, end)) (sjis = 0): left to
   right, a match consumes both bytes, as findall does (a second byte can be a first one). */
static Py_ssize_t legacy_kana(const unsigned char *b, Py_ssize_t end, int sjis) {
    Py_ssize_t count = 0, i = 0;
    const unsigned char a = sjis ? 0x82 : 0xA4, c = sjis ? 0x83 : 0xA5;
    const unsigned char alo = sjis ? 0x9F : 0xA1, ahi = sjis ? 0xF1 : 0xF3;
    const unsigned char clo = sjis ? 0x40 : 0xA1, chi = sjis ? 0x96 : 0xF6;
    while (i + 1 < end) {
        if (i + 32 <= end) {
            /* no first byte among the next 32: no match starts there (branch-free, vectorised) */
            unsigned char hit = 0;
            for (int k = 0; k < 32; k++)
                hit |= (unsigned char)((b[i + k] == a) | (b[i + k] == c));
            if (!hit) {
                i += 32;
                continue;
            }
        }
        unsigned char x = b[i], y = b[i + 1];
        if ((x == a && y >= alo && y <= ahi) || (x == c && y >= clo && y <= chi)) {
            count++;
            i += 2;
        } else {
            i++;
        }
    }
    return count;
}

/* Where bytes(buf[:end]).decode("utf-8") fails: the start of the first character that is not
   well-formed UTF-8 (an invalid byte, a bad continuation, an overlong form, a surrogate, past
   U+10FFFF, or cut by the end), as UnicodeDecodeError.start gives it; -1 when it decodes. */
static Py_ssize_t utf8_error(const unsigned char *b, Py_ssize_t end) {
    Py_ssize_t i = 0;
    while (i < end) {
        if (i + 8 <= end) {
            uint64_t w;
            memcpy(&w, b + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        unsigned char x = b[i];
        if (x < 0x80) {
            i++;
            continue;
        }
        int need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (x >= 0xC2 && x <= 0xDF) need = 1;
        else if (x == 0xE0) { need = 2; lo = 0xA0; }
        else if (x >= 0xE1 && x <= 0xEC) need = 2;
        else if (x == 0xED) { need = 2; hi = 0x9F; }
        else if (x == 0xEE || x == 0xEF) need = 2;
        else if (x == 0xF0) { need = 3; lo = 0x90; }
        else if (x >= 0xF1 && x <= 0xF3) need = 3;
        else if (x == 0xF4) { need = 3; hi = 0x8F; }
        else return i;
        for (int k = 1; k <= need; k++) {
            if (i + k >= end) return i;
            unsigned char y = b[i + k];
            if (k == 1 ? (y < lo || y > hi) : (y < 0x80 || y > 0xBF)) return i;
        }
        i += need + 1;
    }
    return -1;
}

static PyObject *py_html_open(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, end;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &pos, &end))
        return NULL;
    clamp(view.len, &pos, &end);
    Py_ssize_t r;
    Py_BEGIN_ALLOW_THREADS
    r = html_open((const unsigned char *)view.buf, pos, end);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(r);
}

static PyObject *py_utf8_kana(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    Py_ssize_t r;
    Py_BEGIN_ALLOW_THREADS
    r = utf8_kana((const unsigned char *)view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(r);
}

enum { SJIS_KANA, EUC_KANA, UTF8_ERROR };

/* The scans that take (buf, endpos), the limit clamped to the buffer as re's endpos is. */
static PyObject *scan_to(PyObject *args, int which) {
    Py_buffer view;
    Py_ssize_t pos = 0, end;
    if (!PyArg_ParseTuple(args, "y*n", &view, &end))
        return NULL;
    clamp(view.len, &pos, &end);
    const unsigned char *b = (const unsigned char *)view.buf;
    Py_ssize_t r;
    Py_BEGIN_ALLOW_THREADS
    r = which == UTF8_ERROR ? utf8_error(b, end) : legacy_kana(b, end, which == SJIS_KANA);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(r);
}

static PyObject *py_sjis_kana(PyObject *Py_UNUSED(self), PyObject *args) { return scan_to(args, SJIS_KANA); }
static PyObject *py_euc_kana(PyObject *Py_UNUSED(self), PyObject *args) { return scan_to(args, EUC_KANA); }
static PyObject *py_utf8_error(PyObject *Py_UNUSED(self), PyObject *args) { return scan_to(args, UTF8_ERROR); }

static PyMethodDef methods[] = {
    {"html_open", py_html_open, METH_VARARGS,
     "html_open(buf, pos, endpos): re.compile(rb'<html\\b', re.I).search(buf, pos, endpos).start(), or -1."},
    {"utf8_kana", py_utf8_kana, METH_VARARGS,
     "utf8_kana(buf): len(re.compile(rb'\\xe3[\\x81-\\x83]').findall(buf))."},
    {"sjis_kana", py_sjis_kana, METH_VARARGS,
     "sjis_kana(buf, endpos): len(re.compile(rb'\\x82[\\x9f-\\xf1]|\\x83[\\x40-\\x96]').findall(buf, 0, endpos))."},
    {"euc_kana", py_euc_kana, METH_VARARGS,
     "euc_kana(buf, endpos): len(re.compile(rb'\\xa4[\\xa1-\\xf3]|\\xa5[\\xa1-\\xf6]').findall(buf, 0, endpos))."},
    {"utf8_error", py_utf8_error, METH_VARARGS,
     "utf8_error(buf, endpos): UnicodeDecodeError.start of bytes(buf[:endpos]).decode('utf-8'), or -1."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jascan", "Byte scans of rapid Japanese detection, in C (filters/jadetect.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jascan(void) { return PyModule_Create(&module); }
