// numpy arrays in and out of the bindings: views, copies and the one check of an array argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/Format.h"

namespace ha::python {

namespace py = pybind11;

// A read-only argument: converted (copied if need be) to a C-contiguous float64 array.
using Arr = py::array_t<double, py::array::c_style | py::array::forcecast>;

// A numpy view of a std::vector owned by `owner` (kept alive by the view).
template <class T>
py::array view(std::vector<T>& v, size_t n, size_t width, py::handle owner) {
    if (width == 1) return py::array_t<T>({n}, {sizeof(T)}, v.data(), owner);
    return py::array_t<T>({n, width}, {width * sizeof(T), sizeof(T)}, v.data(), owner);
}

// A new numpy array holding the first n x width entries of v.
template <class T>
py::array copy_of(const std::vector<T>& v, size_t n, size_t width) {
    py::array_t<T> a =
        width == 1 ? py::array_t<T>({py::ssize_t(n)}) : py::array_t<T>({py::ssize_t(n), py::ssize_t(width)});
    std::copy(v.begin(), v.begin() + n * width, a.mutable_data());
    return a;
}

// The check of an array argument the call writes into (or keeps a pointer to): a float64 numpy
// array, C-contiguous and writable, of rows x width entries (`rows` named by rows_name in the
// message). Never a converted copy, whose contents the caller would not see. Returns its data.
inline double* writable(py::handle a, size_t rows, size_t width, const char* name, const char* rows_name = "N") {
    if (!py::isinstance<py::array_t<double>>(a))
        throw std::invalid_argument(format("%s must be a float64 numpy array of %s x %zu (%zu x %zu) entries", name,
                                           rows_name, width, rows, width));
    auto arr = py::reinterpret_borrow<py::array_t<double>>(a);
    if (!(arr.flags() & py::array::c_style) || !arr.writeable() || size_t(arr.size()) != rows * width)
        throw std::invalid_argument(
            format("%s must be a writable C-contiguous float64 array of %s x %zu (%zu x %zu) entries", name, rows_name,
                   width, rows, width));
    return arr.mutable_data();
}

// States of n steps: None, or a float64 array, C-contiguous (and writable if `writes`), of shape
// (>= n, N, width).
inline double* states_data(py::handle a, uint64_t n, uint32_t N, size_t width, const char* name, bool writes) {
    if (a.is_none()) return nullptr;
    bool ok = py::isinstance<py::array_t<double>>(a);
    if (ok) {
        auto arr = py::reinterpret_borrow<py::array_t<double>>(a);
        ok = (arr.flags() & py::array::c_style) && (arr.writeable() || !writes) && arr.ndim() == 3 &&
             uint64_t(arr.shape(0)) >= n && size_t(arr.shape(1)) == N && size_t(arr.shape(2)) == width;
    }
    if (!ok)
        throw std::invalid_argument(format("%s must be a%s C-contiguous float64 array of shape (%llu, N, %zu), N = %u",
                                           name, writes ? " writable" : "", (unsigned long long)n, width, N));
    // (the pointer of a read-only array is only read)
    return static_cast<double*>(const_cast<void*>(py::reinterpret_borrow<py::array>(a).data()));
}

// The number of steps in a states argument (its first dimension).
inline uint64_t steps_in(py::handle a, const char* name) {
    if (!py::isinstance<py::array>(a) || py::reinterpret_borrow<py::array>(a).ndim() < 1)
        throw std::invalid_argument(format("%s must be a numpy array of states (steps first)", name));
    return uint64_t(py::reinterpret_borrow<py::array>(a).shape(0));
}

}  // namespace ha::python
