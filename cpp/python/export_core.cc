// Bindings of the core layer (cpp/core): thread count; for the tests, the random numbers, the
// box's minimum image and the evaluators' exp.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>

#include "core/BoxDim.h"
#include "core/Lanes.h"
#include "core/RandomNumbers.h"
#include "python/Arrays.h"
#include "python/Exports.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ha::python {

namespace {

void export_core_testing(py::module_& t) {
    // random numbers, against HOOMD-blue's test vectors
    t.def("philox4x32_10", [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
        U4 c{{ctr[0], ctr[1], ctr[2], ctr[3]}};
        U4 r = philox4x32_10(c, key[0], key[1]);
        return std::array<uint32_t, 4>{r.v[0], r.v[1], r.v[2], r.v[3]};
    });
    py::class_<RandomGenerator>(t, "RandomGenerator")
        .def(py::init<uint8_t, uint64_t, uint16_t, uint32_t>(), py::arg("id"), py::arg("timestep"), py::arg("seed"),
             py::arg("tag"))
        .def("uniform", &RandomGenerator::uniform)
        .def("normal", &RandomGenerator::normal, py::arg("sigma"), py::arg("mu") = 0.0)
        .def_property_readonly("key", [](const RandomGenerator& g) { return std::make_pair(g.key0(), g.key1()); });
    // minimum images of the rows of d (N x 3) in the box (Lx, Ly, Lz, xy, xz, yz)
    t.def("min_image", [](std::array<double, 6> L, Arr d) {
        if (d.ndim() != 2 || d.shape(1) != 3) throw std::invalid_argument("min_image: d must be an (N, 3) array");
        BoxDim box(L[0], L[1], L[2], L[3], L[4], L[5]);
        auto in = d.unchecked<2>();
        py::array_t<double> out({in.shape(0), py::ssize_t(3)});
        auto o = out.mutable_unchecked<2>();
        for (py::ssize_t i = 0; i < in.shape(0); ++i) {
            Vec3 w = box.minImage({in(i, 0), in(i, 1), in(i, 2)});
            o(i, 0) = w.x;
            o(i, 1) = w.y;
            o(i, 2) = w.z;
        }
        return out;
    });
    // the evaluators' exp (core/Exp.h): four at a time in Lanes, or one by one
    t.def(
        "exp",
        [](Arr x, bool lanes) {
            py::array_t<double> out(x.size());
            const double* a = x.data();
            double* o = out.mutable_data();
            const py::ssize_t n = x.size();
            py::ssize_t k = 0;
#if defined(HA_HAVE_LANES)
            if (lanes)
                for (; k + 4 <= n; k += 4) store_lanes(o + k, ha::exp(load_lanes(a + k)));
#endif
            for (; k < n; ++k) o[k] = ha::exp(a[k]);
            return out;
        },
        py::arg("x"), py::arg("lanes") = false);
}

}  // namespace

void export_core(py::module_& m, py::module_& testing) {
    m.def("max_threads", []() {
#ifdef _OPENMP
        return omp_get_max_threads();
#else
        return 1;
#endif
    });
    export_core_testing(testing);
}

}  // namespace ha::python
