// The bindings of hoomd_adjoint._core, one function per layer (cpp/python/export_<layer>.cc).
// `testing` is the submodule _core._testing: hooks that only the tests (and references) call.
#pragma once

#include <pybind11/pybind11.h>

namespace ha::python {

void export_core(pybind11::module_& m, pybind11::module_& testing);
void export_engine(pybind11::module_& m, pybind11::module_& testing);
void export_adjoint(pybind11::module_& m, pybind11::module_& testing);
void export_device(pybind11::module_& m, pybind11::module_& testing);
void export_clusters(pybind11::module_& m, pybind11::module_& testing);

}  // namespace ha::python
