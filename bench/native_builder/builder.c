/* An experiment, not part of pinrec (bench/native_builder/__init__.py): transformer.enrich._all_known's response,
 * built with the C API. build(bodies, id_lists, values, names, key) gives one copy of each body with `key` set to
 * {names[k]: [values[id][k] for id in ids]}, or None when some id's value is not a tuple of len(names) items. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MAX_NAMES 64

static void release(PyObject **objects, Py_ssize_t count) {
    for (Py_ssize_t index = 0; index < count; index++) Py_XDECREF(objects[index]);
}

static PyObject *recommendations(PyObject *ids, PyObject *values, PyObject *names, int *unknown) {
    Py_ssize_t count = PyTuple_GET_SIZE(names), items = PyList_GET_SIZE(ids);
    PyObject *columns[MAX_NAMES] = {NULL};
    for (Py_ssize_t k = 0; k < count; k++) {
        if ((columns[k] = PyList_New(items)) == NULL) goto failed;
    }
    for (Py_ssize_t j = 0; j < items; j++) {
        PyObject *row = PyDict_GetItemWithError(values, PyList_GET_ITEM(ids, j));
        if (row == NULL || !PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) != count) {
            *unknown = !PyErr_Occurred();
            goto failed;
        }
        for (Py_ssize_t k = 0; k < count; k++) {
            PyObject *value = PyTuple_GET_ITEM(row, k);
            Py_INCREF(value);
            PyList_SET_ITEM(columns[k], j, value);
        }
    }
    PyObject *result = PyDict_New();
    if (result == NULL) goto failed;
    for (Py_ssize_t k = 0; k < count; k++) {
        if (PyDict_SetItem(result, PyTuple_GET_ITEM(names, k), columns[k]) < 0) {
            Py_DECREF(result);
            goto failed;
        }
    }
    release(columns, count);
    return result;
failed:
    release(columns, count);
    return NULL;
}

static PyObject *build(PyObject *self, PyObject *args) {
    PyObject *bodies, *id_lists, *values, *names, *key;
    if (!PyArg_ParseTuple(args, "O!O!O!O!U", &PyList_Type, &bodies, &PyList_Type, &id_lists, &PyDict_Type, &values,
                          &PyTuple_Type, &names, &key))
        return NULL;
    Py_ssize_t endpoints = PyList_GET_SIZE(bodies);
    if (PyList_GET_SIZE(id_lists) != endpoints || PyTuple_GET_SIZE(names) > MAX_NAMES) Py_RETURN_NONE;
    PyObject *out = PyList_New(endpoints);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < endpoints; i++) {
        PyObject *body = PyList_GET_ITEM(bodies, i), *ids = PyList_GET_ITEM(id_lists, i);
        if (!PyDict_CheckExact(body) || !PyList_CheckExact(ids)) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        int unknown = 0;
        PyObject *built = recommendations(ids, values, names, &unknown);
        if (built == NULL) {
            Py_DECREF(out);
            if (unknown) Py_RETURN_NONE;
            return NULL;
        }
        PyObject *copy = PyDict_Copy(body);
        if (copy == NULL || PyDict_SetItem(copy, key, built) < 0) {
            Py_XDECREF(copy);
            Py_DECREF(built);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(built);
        PyList_SET_ITEM(out, i, copy);
    }
    return out;
}

static PyMethodDef methods[] = {{"build", build, METH_VARARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "native_builder", NULL, -1, methods};
PyMODINIT_FUNC PyInit_native_builder(void) { return PyModule_Create(&module); }
