// Bindings of the cluster derivatives: small clusters in free space, exact derivatives to third
// order from pair jets (adjoint/ClusterDerivatives.h).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "adjoint/ClusterDerivatives.h"
#include "python/Arrays.h"
#include "python/Exports.h"

namespace ha::python {

namespace {

using Types = py::array_t<uint32_t, py::array::c_style | py::array::forcecast>;

// The inputs, checked; rcutsq (filled here) must outlive the returned arguments.
ClusterArgs cluster_inputs(const Arr& x, const Types& type, const Arr& params, const Arr& rcut,
                           std::vector<double>& rcutsq) {
    if (x.ndim() != 3 || x.shape(2) != 3) throw std::invalid_argument("x must have shape (M, N, 3)");
    ClusterArgs a;
    a.M = uint32_t(x.shape(0));
    a.N = uint32_t(x.shape(1));
    if (type.ndim() != 1 || uint32_t(type.shape(0)) != a.N) throw std::invalid_argument("type must have N entries");
    if (params.ndim() != 3 || params.shape(0) != params.shape(1))
        throw std::invalid_argument("params must have shape (nt, nt, P)");
    a.ntypes = uint32_t(params.shape(0));
    if (rcut.ndim() != 2 || uint32_t(rcut.shape(0)) != a.ntypes || uint32_t(rcut.shape(1)) != a.ntypes)
        throw std::invalid_argument("rcut must have shape (nt, nt)");
    for (uint32_t i = 0; i < a.N; ++i)
        if (type.data()[i] >= a.ntypes) throw std::invalid_argument("type id out of range");
    const size_t nt2 = size_t(a.ntypes) * a.ntypes;
    rcutsq.resize(nt2);
    for (size_t k = 0; k < nt2; ++k) rcutsq[k] = rcut.data()[k] * rcut.data()[k];
    a.x = x.data();
    a.type = type.data();
    a.params = params.data();
    a.rcutsq = rcutsq.data();
    return a;
}

// The outputs the order and wrt ask for, zeroed, in `out` under their names; their pointers in a.
void cluster_outputs(ClusterArgs& a, py::dict& out) {
    const py::ssize_t M = a.M, n = 3 * py::ssize_t(a.N), nt = a.ntypes;
    auto zeros = [&out](const char* name, std::vector<py::ssize_t> shape) {
        py::array_t<double> r(shape);
        std::fill(r.mutable_data(), r.mutable_data() + r.size(), 0.0);
        out[name] = r;
        return r.mutable_data();
    };
    a.energy = zeros("energy", {M});
    a.grad = zeros("gradient", {M, n});
    if (a.order >= 2) a.hess = zeros("hessian", {M, n, n});
    if (a.order >= 3) a.third = zeros("third", {M, n, n, n});
    if (a.wrt >= 0) {
        a.dE = zeros("dE", {M, nt, nt});
        a.dG = zeros("dG", {M, nt, nt, n});
        if (a.order >= 2) a.dH = zeros("dH", {M, nt, nt, n, n});
    }
}

py::dict cluster_derivatives_py(const std::string& potential, Arr x, Types type, Arr params, Arr rcut, bool shift,
                                int order, int wrt) {
    std::vector<double> rcutsq;
    ClusterArgs a = cluster_inputs(x, type, params, rcut, rcutsq);
    a.shift = shift;
    a.order = order;
    a.wrt = wrt;
    py::dict out;
    cluster_outputs(a, out);
    {
        py::gil_scoped_release release;
        cluster_derivatives(potential, a);
    }
    return out;
}

}  // namespace

void export_clusters(py::module_& m, py::module_&) {
    m.def("cluster_derivatives", &cluster_derivatives_py, py::arg("potential"), py::arg("x"), py::arg("type"),
          py::arg("params"), py::arg("rcut"), py::arg("shift") = false, py::arg("order") = 1, py::arg("wrt") = -1);
}

}  // namespace ha::python
