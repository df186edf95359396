// Python bindings: hoomd_adjoint._core. Thin: the Python package declares parameters and
// validates input; the physics lives in the layers below (core/, engine/, adjoint/, device/).
// One export function per layer (cpp/python/export_<layer>.cc); the hooks only tests call live
// in _core._testing.
#include <pybind11/pybind11.h>

#include "python/Exports.h"

PYBIND11_MODULE(_core, m) {
    namespace hp = ha::python;
    m.doc() = "hoomd-adjoint C++ core";
    pybind11::module_ testing = m.def_submodule("_testing", "hooks for the tests: references, switches, chunk sizes");
    hp::export_core(m, testing);
    hp::export_engine(m, testing);
    hp::export_adjoint(m, testing);
    hp::export_device(m, testing);
    hp::export_clusters(m, testing);
}
