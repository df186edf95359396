// Python bindings: hoomd_adjoint._core. Thin: the Python package declares parameters and
// validates input; the physics lives in the headers under core/ and md/.
#include <algorithm>
#include <array>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>

#include "core/Format.h"
#include "core/Lanes.h"
#include "core/RandomNumbers.h"
#include "md/Adjoint.h"
#include "md/DeviceAdjoint.h"
#include "md/BarForce.h"
#include "md/RigidAdjoint.h"
#include "md/ClusterDerivatives.h"
#include "md/RotationStep.h"
#include "md/Force.h"
#include "md/GPU.h"
#include "md/NeighborList.h"
#include "md/System.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace py = pybind11;
using namespace ha;

namespace {

// A numpy view of a std::vector owned by `owner` (kept alive by the view).
template <class T>
py::array view(std::vector<T>& v, size_t n, size_t width, py::handle owner) {
    if (width == 1) return py::array_t<T>({n}, {sizeof(T)}, v.data(), owner);
    return py::array_t<T>({n, width}, {width * sizeof(T), sizeof(T)}, v.data(), owner);
}

template <class T>
py::array copy_of(const std::vector<T>& v, size_t n, size_t width) {
    py::array_t<T> a = width == 1 ? py::array_t<T>({py::ssize_t(n)}) : py::array_t<T>({py::ssize_t(n), py::ssize_t(width)});
    std::copy(v.begin(), v.begin() + n * width, a.mutable_data());
    return a;
}

#define HA_ARRAY_PROPERTY(NAME, MEMBER, WIDTH)                                                  \
    def_property_readonly(NAME, [](py::object self) {                                         \
        System& s = self.cast<System&>();                                                      \
        return view(s.pd.MEMBER, s.pd.N, WIDTH, self);                                         \
    })

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "hoomd-adjoint C++ core";
#ifdef HA_HAVE_CUDA
    m.attr("cuda_enabled") = true;
#else
    m.attr("cuda_enabled") = false;
#endif
    m.def("gpu_available", &gpu::available);
    m.def("gpu_name", &gpu::deviceName);
    m.def("gpu_profile_start", [] { gpu::setProfiling(true); }, "time every device kernel from now on (each waits for the device)");
    m.def(
        "gpu_profile_stop",
        [] {
            auto p = gpu::profile();
            gpu::setProfiling(false);
            py::dict out;
            for (auto& e : p) out[py::str(e.first)] = py::make_tuple(e.second.calls, e.second.seconds);
            return out;
        },
        "stop timing; {kernel: (launches, seconds)}");
    m.def("max_threads", []() {
#ifdef _OPENMP
        return omp_get_max_threads();
#else
        return 1;
#endif
    });

    // --- random numbers (exposed for tests against HOOMD's test vectors) ---
    m.def("philox4x32_10", [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
        U4 c{{ctr[0], ctr[1], ctr[2], ctr[3]}};
        U4 r = philox4x32_10(c, key[0], key[1]);
        return std::array<uint32_t, 4>{r.v[0], r.v[1], r.v[2], r.v[3]};
    });
    py::class_<RandomGenerator>(m, "RandomGenerator")
        .def(py::init<uint8_t, uint64_t, uint16_t, uint32_t>(), py::arg("id"), py::arg("timestep"), py::arg("seed"),
             py::arg("tag"))
        .def("uniform", &RandomGenerator::uniform)
        .def("normal", &RandomGenerator::normal, py::arg("sigma"), py::arg("mu") = 0.0)
        .def_property_readonly("key", [](const RandomGenerator& g) { return std::make_pair(g.key0(), g.key1()); });

    // --- box helpers (tests) ---
    m.def("min_image", [](std::array<double, 6> L, py::array_t<double, py::array::c_style | py::array::forcecast> d) {
        BoxDim box(L[0], L[1], L[2], L[3], L[4], L[5]);
        auto in = d.unchecked<2>();
        py::array_t<double> out({in.shape(0), py::ssize_t(3)});
        auto o = out.mutable_unchecked<2>();
        for (py::ssize_t i = 0; i < in.shape(0); ++i) {
            Vec3 w = box.minImage({in(i, 0), in(i, 1), in(i, 2)});
            o(i, 0) = w.x; o(i, 1) = w.y; o(i, 2) = w.z;
        }
        return out;
    });

    // Pairs i < j closer than r_max (cell list), and d_ij = minImage(r_j - r_i): the neighbour
    // query of the analysis code (order parameters). Points must lie in the box.
    m.def("neighbor_pairs", [](std::array<double, 6> L, py::array_t<double, py::array::c_style | py::array::forcecast> pts,
                               double r_max) {
        if (pts.ndim() != 2 || pts.shape(1) != 3) throw std::invalid_argument("points must be an (N, 3) array");
        if (!(r_max > 0) || !std::isfinite(r_max)) throw std::invalid_argument("r_max must be positive and finite, got " + std::to_string(r_max));
        ParticleData pd;
        pd.box = BoxDim(L[0], L[1], L[2], L[3], L[4], L[5]);
        pd.resize(uint32_t(pts.shape(0)));
        std::copy(pts.data(), pts.data() + 3 * pd.N, pd.pos.begin());
        NeighborList nl(0.0);
        nl.setRcut(1, {r_max});
        nl.build(pd, 1);
        const std::vector<uint32_t> all = nl.pairs();
        std::vector<uint32_t> keep;
        std::vector<double> d;
        for (size_t k = 0; k < all.size(); k += 2) {
            const uint32_t i = all[k], j = all[k + 1];
            const Vec3 v = pd.box.minImage({pd.pos[3 * j] - pd.pos[3 * i], pd.pos[3 * j + 1] - pd.pos[3 * i + 1],
                                            pd.pos[3 * j + 2] - pd.pos[3 * i + 2]});
            if (v.x * v.x + v.y * v.y + v.z * v.z >= r_max * r_max) continue;
            keep.push_back(i); keep.push_back(j);
            d.push_back(v.x); d.push_back(v.y); d.push_back(v.z);
        }
        return py::make_tuple(copy_of(keep, keep.size() / 2, 2), copy_of(d, d.size() / 3, 3));
    }, py::arg("box"), py::arg("points"), py::arg("r_max"));

    // --- neighbour list ---
    py::class_<NeighborList, std::shared_ptr<NeighborList>>(m, "NeighborList")
        .def(py::init<double>())
        .def_property("buffer", &NeighborList::buffer, &NeighborList::setBuffer)
        .def_readwrite("rebuild_check_delay", &NeighborList::rebuildCheckDelay)
        .def_readwrite("check_dist", &NeighborList::checkDist)
        .def_property("filter_body", [](const NeighborList& nl) { return nl.filterBody; },
                      [](NeighborList& nl, bool on) {
                          if (on != nl.filterBody) nl.forceRebuild();
                          nl.filterBody = on;
                      })
        .def_property_readonly("num_builds", &NeighborList::numBuilds)
        .def_property_readonly("num_builds_from_earlier", &NeighborList::numBuildsFromEarlier)
        // (tests of the GPU path) the device arrays' sizes, and starting them small
        .def_property_readonly("device_stride", &NeighborList::deviceStride)
        .def_property_readonly("device_cell_capacity", &NeighborList::deviceCellCapacity)
        .def("set_device_sizes", &NeighborList::setDeviceSizes)
        .def_readwrite("device_columns", &NeighborList::deviceColumns)
        .def("set_rcut", &NeighborList::setRcut)
        .def("build", [](NeighborList& nl, System& s) { nl.build(s.pd, s.nthreads); })
        .def(
            "set_earlier_states",
            [](NeighborList& nl, const System& s, const std::vector<py::array>& states) {
                // (pointers, not copies: the caller keeps the arrays alive while they are set)
                std::vector<const double*> ptrs;
                for (size_t k = 0; k < states.size(); ++k) {
                    const py::array& a = states[k];
                    if (!py::isinstance<py::array_t<double>>(a) || !(a.flags() & py::array::c_style) ||
                        size_t(a.size()) != 3 * size_t(s.pd.N))
                        throw std::invalid_argument(format("earlier state %zu: expected a C-contiguous float64 array of "
                                                           "%u x 3 positions", k, s.pd.N));
                    ptrs.push_back(static_cast<const double*>(a.data()));
                }
                nl.setEarlierStates(std::move(ptrs));
            },
            py::arg("system"), py::arg("states"))
        .def("start_recording", &NeighborList::startRecording, py::arg("max_bytes"))
        .def("stop_recording", &NeighborList::stopRecording)
        .def_property_readonly("recorded_bytes", &NeighborList::recordedBytes)
        .def_property_readonly("num_recorded", &NeighborList::numRecorded)
        .def_property_readonly("num_restores", &NeighborList::numRestores)
        .def("is_symmetric", &NeighborList::isSymmetric)
        .def("pairs", [](const NeighborList& nl) {
            auto p = nl.pairs();
            return copy_of(p, p.size() / 2, 2);
        });

    // --- forces ---
    py::class_<Force, std::shared_ptr<Force>>(m, "Force")
        .def("compute", [](Force& f, System& s) {
            f.prepare(s.pd);
            s.pd.packPositions();
            f.compute(s.pd, s.timestep, s.nthreads);
        })
        // Recompute at the current positions with virials on; returns them (N, 6).
        .def("compute_virials", [](Force& f, System& s) {
            f.prepare(s.pd);
            s.pd.packPositions();
            f.computeVirial = true;
            f.compute(s.pd, s.timestep, s.nthreads);
            f.computeVirial = false;
            return copy_of(f.virial, f.energy.size(), 6);
        })
        .def_property_readonly("energy", &Force::totalEnergy)
        .def_property_readonly("forces", [](const Force& f) { return copy_of(f.force, f.energy.size(), 3); })
        .def_property_readonly("energies", [](const Force& f) { return copy_of(f.energy, f.energy.size(), 1); })
        .def_property_readonly("virials", [](const Force& f) { return copy_of(f.virial, f.energy.size(), 6); });
    py::class_<PairForce, Force, std::shared_ptr<PairForce>>(m, "PairForce")
        .def("set_params", &PairForce::setParams)
        .def("get_params", &PairForce::getParams)
        .def("set_rcut", &PairForce::setRcut)
        .def_property("shift", &PairForce::shift, &PairForce::setShift)
        .def_property_readonly("n_params", &PairForce::nParams)
        .def("select_grad_params", &PairForce::selectGradParams)
        .def_property_readonly("grad_params", &PairForce::gradParams);
    m.def("make_pair_force", &make_pair_force);
    py::class_<BarForce, Force, std::shared_ptr<BarForce>>(m, "BarForce")
        .def(py::init<>())
        .def("set_bars", &BarForce::setBars, py::arg("ends"), py::arg("points"))
        .def("set_params", &BarForce::setParams, py::arg("epsilon"), py::arg("sigma"), py::arg("alpha"));
    m.def("pair_force_names", &pair_force_names);
    m.def("set_simd", [](bool on) { simd_flag() = on; }, py::arg("on"),
          "Use the vectorised host loops (default) or their scalar references (same bits).");
    m.def("simd_enabled", &simd_enabled);
    m.def("exp", [](py::array_t<double, py::array::c_style | py::array::forcecast> x, bool lanes) {
        // the evaluators' exp (core/Exp.h), for its tests: four at a time in Lanes, or one by one
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
    }, py::arg("x"), py::arg("lanes") = false);
    m.def("set_full_list_above", [](uint32_t n) { full_list_above() = n; }, py::arg("n"),
          "Particles above which the vectorised force pass evaluates pairs from both sides (same bits).");
    m.def("full_list_above", [] { return full_list_above(); });
    m.def("set_spatial_above", [](uint32_t n) { spatial_above() = n; }, py::arg("n"),
          "Particles above which the full-list force pass runs in the list's spatial order (same bits).");
    m.def("spatial_above", [] { return spatial_above(); });

    // --- adjoint ---
    using Arr = py::array_t<double, py::array::c_style | py::array::forcecast>;
    auto mutable_ptr = [](py::array_t<double>& a, size_t n, const char* name) {
        if (!(a.flags() & py::array::c_style) || size_t(a.size()) != n)
            throw std::invalid_argument(std::string(name) + " must be a C-contiguous float64 array of N x 3");
        return a.mutable_data();
    };
    py::class_<AdjointGrads>(m, "AdjointGrads")
        .def(py::init<>())
        .def_property_readonly("params", [](const AdjointGrads& g) {
            py::list out;
            for (auto& v : g.params) out.append(copy_of(v, v.size(), 1));
            return out;
        })
        .def_readwrite("kT", &AdjointGrads::kT)
        .def_property_readonly("gamma", [](const AdjointGrads& g) { return copy_of(g.gamma, g.gamma.size(), 1); });
    // States of n steps: (n, N, 3) C-contiguous float64 arrays (vel, acc: None for Brownian dynamics).
    auto states_ptr = [](System& s, py::object a, uint64_t n, const char* name) -> double* {
        if (a.is_none()) return nullptr;
        auto arr = a.cast<py::array_t<double>>();
        if (!(arr.flags() & py::array::c_style) || arr.ndim() != 3 || uint64_t(arr.shape(0)) < n ||
            size_t(arr.shape(1)) != s.pd.N || arr.shape(2) != 3)
            throw std::invalid_argument(std::string(name) + " must be a C-contiguous float64 array of shape (steps, N, 3)");
        return arr.mutable_data();
    };
    m.def(
        "advance_recording",
        [states_ptr](System& s, py::object pos, py::object vel, py::object acc, bool after) {
            const uint64_t n = uint64_t(pos.cast<py::array>().shape(0));
            double *p = states_ptr(s, pos, n, "pos"), *v = states_ptr(s, vel, n, "vel"), *a = states_ptr(s, acc, n, "acc");
            const size_t m3 = 3 * size_t(s.pd.N);
            const uint64_t chunk = std::max<uint64_t>(1, 2000000 / std::max<uint32_t>(1, s.pd.N));
            for (uint64_t done = 0; done < n;) {
                const uint64_t k = std::min(chunk, n - done);
                {
                    py::gil_scoped_release release;
                    advance_recording(s, k, p + done * m3, v ? v + done * m3 : nullptr, a ? a + done * m3 : nullptr, after);
                }
                done += k;
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
        },
        py::arg("system"), py::arg("pos"), py::arg("vel") = py::none(), py::arg("acc") = py::none(),
        py::arg("after") = false);
    m.def(
        "adjoint_sweep",
        [states_ptr, mutable_ptr](System& s, uint64_t t_first, py::object pos, py::object vel, py::object acc,
                                  py::array_t<double> lr, py::array_t<double> lv, py::array_t<double> la,
                                  AdjointGrads& g, bool params, bool kT, bool gamma, double clip, bool look_back) {
            const uint64_t n = uint64_t(pos.cast<py::array>().shape(0));
            const double *p = states_ptr(s, pos, n, "pos"), *v = states_ptr(s, vel, n, "vel"), *a = states_ptr(s, acc, n, "acc");
            const size_t m3 = 3 * size_t(s.pd.N);
            double *r = mutable_ptr(lr, m3, "lr"), *vv = mutable_ptr(lv, m3, "lv"), *aa = mutable_ptr(la, m3, "la");
            AdjointRequest req{params, kT, gamma, look_back};
            const uint64_t chunk = std::max<uint64_t>(1, 1000000 / std::max<uint32_t>(1, s.pd.N));
            for (uint64_t end = n; end > 0;) {  // latest states first, in chunks (Ctrl-C between them)
                const uint64_t k = std::min(chunk, end), first = end - k;
                SweepStatus st;
                {
                    py::gil_scoped_release release;
                    st = adjoint_sweep(s, t_first + first, k, p + first * m3, v ? v + first * m3 : nullptr,
                                       a ? a + first * m3 : nullptr, r, vv, aa, g, req, clip);
                }
                if (st.step >= 0) return std::make_pair(st.step, st.particle);
                end = first;
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
            return std::make_pair(int64_t(-1), int64_t(-1));
        },
        py::arg("system"), py::arg("t_first"), py::arg("pos"), py::arg("vel"), py::arg("acc"), py::arg("lr"),
        py::arg("lv"), py::arg("la"), py::arg("grads"), py::arg("params") = true, py::arg("kT") = false,
        py::arg("gamma") = false, py::arg("clip") = 0.0, py::arg("look_back") = true);
    // The adjoint on the device (DeviceAdjoint.h): states in device memory, the sweep there.
    py::class_<DeviceStates, std::shared_ptr<DeviceStates>>(m, "DeviceStates")
        .def(py::init<const System&, uint64_t>(), py::arg("system"), py::arg("n"))
        .def_property_readonly("size", &DeviceStates::size)
        .def_property_readonly("fields", &DeviceStates::fields);
    m.def("device_save", &device_save, py::arg("system"), py::arg("states"), py::arg("k"));
    m.def("device_load", &device_load, py::arg("system"), py::arg("states"), py::arg("k"));
    // slots k0 .. k0 + n of the states to / from host blocks (n x N x 3 each, as new_states makes)
    auto host_block = [](const DeviceStates& st, py::object a, uint64_t n, const char* what) -> double* {
        if (a.is_none()) return nullptr;
        py::array_t<double> arr = a.cast<py::array_t<double>>();
        if (!(arr.flags() & py::array::c_style) || uint64_t(arr.size()) != n * 3 * uint64_t(st.N()) || !arr.writeable())
            throw std::invalid_argument(format("%s: expected a writable C-contiguous float64 array of %llu x %u x 3", what,
                                               (unsigned long long)n, st.N()));
        return arr.mutable_data();
    };
    // (both directions check the same things: the slots, and the arrays against the fields)
    auto host_blocks = [host_block](const DeviceStates& st, uint64_t k0, uint64_t n, py::object pos, py::object vel,
                                    py::object acc, const char* what) {
        if (k0 > st.size() || n > st.size() - k0) throw std::out_of_range(format("%s: slots out of range", what));
        std::array<double*, 3> p = {host_block(st, pos, n, "pos"), host_block(st, vel, n, "vel"), host_block(st, acc, n, "acc")};
        if (!p[0] || (st.fields() == 3) != (p[1] && p[2]))
            throw std::invalid_argument(format("%s: the arrays do not match the states' fields", what));
        return p;
    };
    m.def(
        "device_states_download",
        [host_blocks](const DeviceStates& st, uint64_t k0, uint64_t n, py::object pos, py::object vel, py::object acc) {
            const auto p = host_blocks(st, k0, n, pos, vel, acc, "device_states_download");
            device_states_download(st, k0, n, p[0], p[1], p[2]);
        },
        py::arg("states"), py::arg("k0"), py::arg("n"), py::arg("pos"), py::arg("vel") = py::none(),
        py::arg("acc") = py::none());
    m.def(
        "device_states_upload",
        [host_blocks](DeviceStates& st, uint64_t k0, uint64_t n, py::object pos, py::object vel, py::object acc) {
            const auto p = host_blocks(st, k0, n, pos, vel, acc, "device_states_upload");
            device_states_upload(st, k0, n, p[0], p[1], p[2]);
        },
        py::arg("states"), py::arg("k0"), py::arg("n"), py::arg("pos"), py::arg("vel") = py::none(),
        py::arg("acc") = py::none());
    m.def(
        "device_advance_recording",
        [](System& s, DeviceStates& st, uint64_t k0, uint64_t n, bool after) {
            // (each call sends the particle data and brings it back: large chunks, as advance's)
            const uint64_t chunk = std::clamp<uint64_t>(1000000000 / std::max<uint32_t>(1, s.pd.N), 1000, 100000);
            for (uint64_t done = 0; done < n;) {
                const uint64_t k = std::min(chunk, n - done);
                {
                    py::gil_scoped_release release;
                    device_advance_recording(s, st, k0 + done, k, after);
                }
                done += k;
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
        },
        py::arg("system"), py::arg("states"), py::arg("k0"), py::arg("n"), py::arg("after") = false);
    m.def(
        "device_adjoint_sweep",
        [mutable_ptr](System& s, uint64_t t_first, const DeviceStates& st, uint64_t k0, uint64_t n,
                      py::array_t<double> lr, py::array_t<double> lv, py::array_t<double> la, AdjointGrads& g,
                      bool params, bool kT, bool gamma, double clip, bool look_back) {
            (void)look_back;  // (the device builds its lists from the state in hand)
            const size_t m3 = 3 * size_t(s.pd.N);
            double *r = mutable_ptr(lr, m3, "lr"), *vv = mutable_ptr(lv, m3, "lv"), *aa = mutable_ptr(la, m3, "la");
            const AdjointRequest req{params, kT, gamma, false};
            SweepStatus res;
            {
                py::gil_scoped_release release;
                res = device_adjoint_sweep(s, t_first, st, k0, n, r, vv, aa, g, req, clip);
            }
            return std::make_pair(res.step, res.particle);
        },
        py::arg("system"), py::arg("t_first"), py::arg("states"), py::arg("k0"), py::arg("n"), py::arg("lr"),
        py::arg("lv"), py::arg("la"), py::arg("grads"), py::arg("params") = true, py::arg("kT") = false,
        py::arg("gamma") = false, py::arg("clip") = 0.0, py::arg("look_back") = false);
    m.def(
        "adjoint_step",
        [mutable_ptr](System& s, py::array_t<double> lr, py::array_t<double> lv, py::array_t<double> la, AdjointGrads& g,
                      bool params, bool kT, bool gamma) {
            const size_t n = 3 * size_t(s.pd.N);
            AdjointRequest req{params, kT, gamma};
            double *r = mutable_ptr(lr, n, "lr"), *v = mutable_ptr(lv, n, "lv"), *a = mutable_ptr(la, n, "la");
            {
                py::gil_scoped_release release;
                adjoint_step(s, r, v, a, g, req);
            }
            // the first particle whose adjoint is not finite, or -1
            for (uint32_t i = 0; i < s.pd.N; ++i)
                for (int k = 0; k < 3; ++k)
                    if (!std::isfinite(r[3 * i + k]) || !std::isfinite(v[3 * i + k]) || !std::isfinite(a[3 * i + k]))
                        return int64_t(i);
            return int64_t(-1);
        },
        py::arg("system"), py::arg("lr"), py::arg("lv"), py::arg("la"), py::arg("grads"), py::arg("params") = true,
        py::arg("kT") = false, py::arg("gamma") = false);
    // --- rigid bodies: packed states (n, N, W) and the adjoint arrays (N x 3/4, geometry flat) ---
    auto rigid_adj = [mutable_ptr](System& s, py::array_t<double>& lr, py::array_t<double>& lv, py::array_t<double>& la,
                                   py::array_t<double>& lq, py::array_t<double>& lp, py::array_t<double>& lt,
                                   py::array_t<double>& geom, py::array_t<double>& gI, py::array_t<double>& ggr) {
        const size_t n = s.pd.N;
        size_t ng = 0;
        for (const auto& d : s.rigid.defs) ng += 3 * d.size();
        if (!(geom.flags() & py::array::c_style) || size_t(geom.size()) != ng)
            throw std::invalid_argument("geometry adjoint must be a C-contiguous float64 array of sum(3 n_t) entries");
        return RigidAdjointState{mutable_ptr(lr, 3 * n, "lr"), mutable_ptr(lv, 3 * n, "lv"), mutable_ptr(la, 3 * n, "la"),
                                 mutable_ptr(lq, 4 * n, "lq"), mutable_ptr(lp, 4 * n, "lp"), mutable_ptr(lt, 3 * n, "ltau"),
                                 geom.mutable_data(), mutable_ptr(gI, 3 * n, "inertia gradient"),
                                 mutable_ptr(ggr, 3 * size_t(s.pd.ntypes), "gamma_r gradient")};
    };
    auto rigid_states = [](System& s, py::array_t<double>& a) {
        const size_t W = rigid_state_width(s);
        if (!(a.flags() & py::array::c_style) || a.ndim() != 3 || size_t(a.shape(1)) != s.pd.N || size_t(a.shape(2)) != W)
            throw std::invalid_argument("rigid states must be a C-contiguous float64 array of shape (steps, N, " + std::to_string(W) + ")");
        return a.mutable_data();
    };
    m.def("rigid_state_width", &rigid_state_width);
    m.def("rigid_save", [](System& s) {
        py::array_t<double> a({py::ssize_t(s.pd.N), py::ssize_t(rigid_state_width(s))});
        rigid_save(s, a.mutable_data());
        return a;
    });
    m.def("rigid_load", [](System& s, Arr a, bool forces) {
        if (size_t(a.size()) != rigid_state_width(s) * s.pd.N) throw std::invalid_argument("rigid state has the wrong size");
        rigid_load(s, a.data(), forces);
    }, py::arg("system"), py::arg("state"), py::arg("forces"));
    m.def("rigid_advance_recording", [rigid_states](System& s, py::array_t<double> states, bool after) {
        double* p = rigid_states(s, states);
        py::gil_scoped_release release;
        rigid_advance_recording(s, uint64_t(states.shape(0)), p, after);
    }, py::arg("system"), py::arg("states"), py::arg("after") = false);
    m.def("rigid_adjoint_sweep", [rigid_adj, rigid_states](System& s, uint64_t t_first, py::array_t<double> states,
                                                           py::array_t<double> lr, py::array_t<double> lv, py::array_t<double> la,
                                                           py::array_t<double> lq, py::array_t<double> lp, py::array_t<double> lt,
                                                           py::array_t<double> geom, py::array_t<double> gI, py::array_t<double> ggr,
                                                           AdjointGrads& g, bool params, bool kT, bool gamma) {
        RigidAdjointState L = rigid_adj(s, lr, lv, la, lq, lp, lt, geom, gI, ggr);
        double* p = rigid_states(s, states);
        AdjointRequest req{params, kT, gamma};
        SweepStatus st;
        {
            py::gil_scoped_release release;
            st = rigid_adjoint_sweep(s, t_first, uint64_t(states.shape(0)), p, L, g, req);
        }
        return std::make_pair(st.step, st.particle);
    }, py::arg("system"), py::arg("t_first"), py::arg("states"), py::arg("lr"), py::arg("lv"), py::arg("la"), py::arg("lq"),
       py::arg("lp"), py::arg("ltau"), py::arg("geometry"), py::arg("inertia"), py::arg("gamma_r"), py::arg("grads"), py::arg("params") = true, py::arg("kT") = false,
       py::arg("gamma") = false);
    m.def("rigid_force_pullback", [rigid_adj](System& s, Arr lF, Arr ltau, py::array_t<double> lr, py::array_t<double> lq,
                                              py::array_t<double> geom, AdjointGrads& g) {
        if (size_t(lF.size()) != 3 * size_t(s.pd.N) || size_t(ltau.size()) != 3 * size_t(s.pd.N))
            throw std::invalid_argument("lF and ltau must be N x 3");
        py::array_t<double> dummy3({py::ssize_t(s.pd.N), py::ssize_t(3)}), dummy4({py::ssize_t(s.pd.N), py::ssize_t(4)});
        py::array_t<double> dummyt({py::ssize_t(s.pd.ntypes), py::ssize_t(3)});
        RigidAdjointState L = rigid_adj(s, lr, dummy3, dummy3, lq, dummy4, dummy3, geom, dummy3, dummyt);
        rigid_force_pullback(s, lF.data(), ltau.data(), L, &g);
    });
    m.def("rigid_position_pullback", [rigid_adj](System& s, Arr dpos, py::array_t<double> lr, py::array_t<double> lq,
                                                 py::array_t<double> geom) {
        if (size_t(dpos.size()) != 3 * size_t(s.pd.N)) throw std::invalid_argument("dpos must be N x 3");
        py::array_t<double> dummy3({py::ssize_t(s.pd.N), py::ssize_t(3)}), dummy4({py::ssize_t(s.pd.N), py::ssize_t(4)});
        py::array_t<double> dummyt({py::ssize_t(s.pd.ntypes), py::ssize_t(3)});
        RigidAdjointState L = rigid_adj(s, lr, dummy3, dummy3, lq, dummy4, dummy3, geom, dummy3, dummyt);
        rigid_position_pullback(s, dpos.data(), L);
    });
    // tangents: [(dr, dv, da, dkT, dgamma or None)], ptan: [force][tangent] arrays (empty: none)
    m.def(
        "tangent_step",
        [mutable_ptr](System& s, py::list tangents, std::vector<std::vector<Arr>> ptan) {
            const size_t n = 3 * size_t(s.pd.N);
            std::vector<Tangent> tan;
            std::vector<py::array_t<double>> keep;
            std::vector<Arr> keep_g;
            for (auto h : tangents) {
                auto tup = h.cast<py::tuple>();
                Tangent d;
                for (int c = 0; c < 3; ++c) keep.push_back(tup[c].cast<py::array_t<double>>());
                d.dr = mutable_ptr(keep[keep.size() - 3], n, "dr");
                d.dv = mutable_ptr(keep[keep.size() - 2], n, "dv");
                d.da = mutable_ptr(keep[keep.size() - 1], n, "da");
                d.dkT = tup[3].cast<double>();
                if (!tup[4].is_none()) {
                    keep_g.push_back(tup[4].cast<Arr>());
                    d.dgamma = keep_g.back().data();
                }
                tan.push_back(d);
            }
            PTan pt(ptan.size());
            for (size_t f = 0; f < ptan.size(); ++f)
                for (auto& a : ptan[f]) pt[f].push_back(a.size() ? a.data() : nullptr);
            for (auto& v : pt) v.resize(tan.size(), nullptr);
            py::gil_scoped_release release;
            tangent_step(s, tan, pt);
        },
        py::arg("system"), py::arg("tangents"), py::arg("ptan"));
    // (J_F w, [w . dF/dtheta per force], [dE/dtheta per force]) at the current state;
    // ptan: per force, a parameter tangent to add (dF/dtheta) . ptan
    m.def("force_jacobian", [](System& s, Arr w, py::object ptan) {
        if (size_t(w.size()) != 3 * size_t(s.pd.N)) throw std::invalid_argument("w must have N x 3 entries");
        py::array_t<double> out({py::ssize_t(s.pd.N), py::ssize_t(3)});
        std::fill(out.mutable_data(), out.mutable_data() + out.size(), 0.0);
        AdjointGrads g;
        std::vector<std::vector<double>> e;
        std::vector<Arr> keep;
        PTan pt;
        if (!ptan.is_none()) {
            for (auto h : ptan) {
                keep.push_back(h.cast<Arr>());
                pt.push_back({keep.back().size() ? keep.back().data() : nullptr});
            }
        }
        const double* wp = w.data();
        double* op = out.mutable_data();
        force_jacobian(s, 1, &wp, &op, &g, &e, ptan.is_none() ? nullptr : &pt);
        py::list gp, ep;
        for (auto& v : g.params) gp.append(copy_of(v, v.size(), 1));
        for (auto& v : e) ep.append(copy_of(v, v.size(), 1));
        return py::make_tuple(out, gp, ep);
    }, py::arg("system"), py::arg("w"), py::arg("ptan") = py::none());

    // small clusters in free space: exact derivatives to third order from pair jets
    m.def("cluster_derivatives", [](const std::string& potential, Arr x, py::array_t<uint32_t, py::array::c_style | py::array::forcecast> type,
                                    Arr params, Arr rcut, bool shift, int order, int wrt) {
        if (x.ndim() != 3 || x.shape(2) != 3) throw std::invalid_argument("x must have shape (M, N, 3)");
        ClusterArgs a;
        a.M = uint32_t(x.shape(0));
        a.N = uint32_t(x.shape(1));
        if (type.ndim() != 1 || uint32_t(type.shape(0)) != a.N) throw std::invalid_argument("type must have N entries");
        if (params.ndim() != 3 || params.shape(0) != params.shape(1)) throw std::invalid_argument("params must have shape (nt, nt, P)");
        a.ntypes = uint32_t(params.shape(0));
        if (rcut.ndim() != 2 || uint32_t(rcut.shape(0)) != a.ntypes || uint32_t(rcut.shape(1)) != a.ntypes)
            throw std::invalid_argument("rcut must have shape (nt, nt)");
        for (uint32_t i = 0; i < a.N; ++i)
            if (type.data()[i] >= a.ntypes) throw std::invalid_argument("type id out of range");
        const size_t n = 3 * size_t(a.N), nt2 = size_t(a.ntypes) * a.ntypes, M = a.M;
        std::vector<double> rcutsq(nt2);
        for (size_t k = 0; k < nt2; ++k) rcutsq[k] = rcut.data()[k] * rcut.data()[k];
        a.x = x.data();
        a.type = type.data();
        a.params = params.data();
        a.rcutsq = rcutsq.data();
        a.shift = shift;
        a.order = order;
        a.wrt = wrt;
        auto zeros = [](std::vector<py::ssize_t> shape) {
            py::array_t<double> r(shape);
            std::fill(r.mutable_data(), r.mutable_data() + r.size(), 0.0);
            return r;
        };
        py::dict out;
        auto E = zeros({py::ssize_t(M)}), G = zeros({py::ssize_t(M), py::ssize_t(n)});
        a.energy = E.mutable_data();
        a.grad = G.mutable_data();
        out["energy"] = E;
        out["gradient"] = G;
        py::array_t<double> H, T, dE, dG, dH;
        if (order >= 2) {
            H = zeros({py::ssize_t(M), py::ssize_t(n), py::ssize_t(n)});
            a.hess = H.mutable_data();
            out["hessian"] = H;
        }
        if (order >= 3) {
            T = zeros({py::ssize_t(M), py::ssize_t(n), py::ssize_t(n), py::ssize_t(n)});
            a.third = T.mutable_data();
            out["third"] = T;
        }
        if (wrt >= 0) {
            const py::ssize_t nt = a.ntypes;
            dE = zeros({py::ssize_t(M), nt, nt});
            dG = zeros({py::ssize_t(M), nt, nt, py::ssize_t(n)});
            a.dE = dE.mutable_data();
            a.dG = dG.mutable_data();
            out["dE"] = dE;
            out["dG"] = dG;
            if (order >= 2) {
                dH = zeros({py::ssize_t(M), nt, nt, py::ssize_t(n), py::ssize_t(n)});
                a.dH = dH.mutable_data();
                out["dH"] = dH;
            }
        }
        {
            py::gil_scoped_release release;
            cluster_derivatives(potential, a);
        }
        return out;
    }, py::arg("potential"), py::arg("x"), py::arg("type"), py::arg("params"), py::arg("rcut"), py::arg("shift") = false,
       py::arg("order") = 1, py::arg("wrt") = -1);

    // one rigid-body rotational half step for M bodies (tests and references): part 1 or 2
    m.def("rotation_step", [](Arr q, Arr p, Arr tau, Arr I, double dt, int part) {
        const py::ssize_t M = q.shape(0);
        if (q.ndim() != 2 || q.shape(1) != 4 || p.ndim() != 2 || p.shape(0) != M || p.shape(1) != 4 || tau.ndim() != 2 ||
            tau.shape(0) != M || tau.shape(1) != 3 || I.ndim() != 2 || I.shape(0) != M || I.shape(1) != 3)
            throw std::invalid_argument("rotation_step: q, p (M, 4), tau, I (M, 3)");
        if (part != 1 && part != 2) throw std::invalid_argument("rotation_step: part must be 1 or 2");
        py::array_t<double> qo({M, py::ssize_t(4)}), po({M, py::ssize_t(4)});
        for (py::ssize_t m = 0; m < M; ++m) {
            const double* a = q.data() + 4 * m;
            const double* b = p.data() + 4 * m;
            Q4<double> qq{a[0], a[1], a[2], a[3]}, pp{b[0], b[1], b[2], b[3]};
            if (part == 1) rotation_step_one(dt, tau.data() + 3 * m, I.data() + 3 * m, qq, pp);
            else rotation_step_two(dt, tau.data() + 3 * m, I.data() + 3 * m, qq, pp);
            double* x = qo.mutable_data() + 4 * m;
            double* y = po.mutable_data() + 4 * m;
            x[0] = qq.s; x[1] = qq.x; x[2] = qq.y; x[3] = qq.z;
            y[0] = pp.s; y[1] = pp.x; y[2] = pp.y; y[3] = pp.z;
        }
        return py::make_tuple(qo, po);
    }, py::arg("q"), py::arg("p"), py::arg("tau"), py::arg("I"), py::arg("dt"), py::arg("part"));

    // --- the engine ---
    py::enum_<Method::Kind>(m, "MethodKind")
        .value("Brownian", Method::Brownian)
        .value("Langevin", Method::Langevin)
        .value("ConstantVolume", Method::ConstantVolume);

    py::class_<System>(m, "System")
        .def(py::init<>())
        .def("resize", [](System& s, uint32_t N, uint32_t ntypes) {
            s.dropPendingVelocities();
            s.pd.resize(N);
            s.pd.ntypes = ntypes;
        })
        .def("set_box", [](System& s, std::array<double, 6> L) { s.pd.box.setL(L[0], L[1], L[2], L[3], L[4], L[5]); })
        .def_property_readonly("N", [](const System& s) { return s.pd.N; })
        .def_property_readonly("ntypes", [](const System& s) { return s.pd.ntypes; })
        .def_readwrite("timestep", &System::timestep)
        .def_readwrite("seed", &System::seed)
        .def_readwrite("dt", &System::dt)
        .def_readwrite("nthreads", &System::nthreads)
        // Threads chosen by timing (ThreadGovernor); off: always nthreads.
        .def_property("adaptive_threads", [](const System& s) { return s.stepGovernor.enabled; },
                      [](System& s, bool on) { s.stepGovernor.enabled = s.adjointGovernor.enabled = on; })
        // {"step"|"adjoint": (threads in use, s/step on one thread, s/step on nthreads)}
        .def_property_readonly("thread_choice", [](const System& s) {
            py::dict d;
            d["step"] = py::make_tuple(s.stepGovernor.preferred(s.nthreads), s.stepGovernor.cost(0), s.stepGovernor.cost(1));
            d["adjoint"] = py::make_tuple(s.adjointGovernor.preferred(s.nthreads), s.adjointGovernor.cost(0), s.adjointGovernor.cost(1));
            return d;
        })
        .def_readwrite("use_gpu", &System::useGPU)
        .def_readwrite("gpu_host_backend", &System::gpuHostBackend)
        .def_property(
            "accel_set", [](const System& s) { return s.pd.accel_set; }, [](System& s, bool v) { s.pd.accel_set = v; })
        .HA_ARRAY_PROPERTY("position", pos, 3)
        .def_property_readonly("velocity",
                               [](py::object self) {
                                   System& s = self.cast<System&>();
                                   s.materializeVelocities();
                                   return view(s.pd.vel, s.pd.N, 3, self);
                               })
        .HA_ARRAY_PROPERTY("acceleration", accel, 3)
        .HA_ARRAY_PROPERTY("image", image, 3)
        .HA_ARRAY_PROPERTY("typeid", typeid_, 1)
        .HA_ARRAY_PROPERTY("mass", mass, 1)
        .HA_ARRAY_PROPERTY("charge", charge, 1)
        .HA_ARRAY_PROPERTY("diameter", diameter, 1)
        .HA_ARRAY_PROPERTY("body", body, 1)
        .HA_ARRAY_PROPERTY("orientation", orientation, 4)
        .HA_ARRAY_PROPERTY("angmom", angmom, 4)
        .HA_ARRAY_PROPERTY("moment_inertia", moment_inertia, 3)
        .HA_ARRAY_PROPERTY("net_force", net_force, 3)
        .HA_ARRAY_PROPERTY("net_energy", net_energy, 1)
        .HA_ARRAY_PROPERTY("net_torque", net_torque, 3)
        .def_readwrite("aniso", &System::aniso)
        // per type: None or (constituent type ids, positions n x 3, orientations n x 4)
        .def("set_bodies", [](System& s, py::list defs) {
            std::vector<RigidBodies::Definition> d(defs.size());
            for (size_t t = 0; t < defs.size(); ++t) {
                if (defs[t].is_none()) continue;
                auto tup = defs[t].cast<py::tuple>();
                d[t].types = tup[0].cast<std::vector<uint32_t>>();
                Arr pos = tup[1].cast<Arr>(), orient = tup[2].cast<Arr>();
                const size_t n = d[t].types.size();
                if (size_t(pos.size()) != 3 * n || size_t(orient.size()) != 4 * n)
                    throw std::invalid_argument("Constituent particle lists (position, orientation, type) are of unequal length");
                d[t].pos.assign(pos.data(), pos.data() + pos.size());
                d[t].orient.assign(orient.data(), orient.data() + orient.size());
            }
            s.setBodies(std::move(d));
        })
        .def_property_readonly("n_bodies", [](const System& s) { return s.rigid.centers.size(); })
        // contact distance per type pair (ntypes^2, 0: none) and what each is, for failure notes
        .def("set_contacts", [](System& s, std::vector<double> c, std::vector<std::string> labels) {
            const size_t n = size_t(s.pd.ntypes) * s.pd.ntypes;
            if (c.size() != n || labels.size() != n)
                throw std::invalid_argument(format("set_contacts: %zu distances and %zu labels for %zu type pairs", c.size(), labels.size(), n));
            s.contact = std::move(c);
            s.contactLabel = std::move(labels);
        })
        .def("failure_note", &System::failureNote)
        .def("place_sites", &System::placeSites)
        .def("set_forces", [](System& s, std::vector<std::shared_ptr<Force>> f) { s.forces = std::move(f); })
        .def("set_position", [](System& s, Arr p) {
            if (size_t(p.size()) != 3 * size_t(s.pd.N)) throw std::invalid_argument("positions must be N x 3");
            std::copy(p.data(), p.data() + p.size(), s.pd.pos.begin());
        })
        .def("clear_methods", [](System& s) {
            s.materializeVelocities();
            s.methods.clear();
        })
        .def(
            "add_method",
            [](System& s, Method::Kind kind, std::vector<uint32_t> members, int variant_kind, double A, double B,
               uint64_t t_start, uint64_t t_ramp, std::vector<double> gamma, std::vector<double> gamma_r) {
                Method mt;
                mt.kind = kind;
                mt.members = std::move(members);
                mt.kT.kind = Variant::Kind(variant_kind);
                mt.kT.A = A; mt.kT.B = B; mt.kT.t_start = t_start; mt.kT.t_ramp = t_ramp;
                mt.gamma = std::move(gamma);
                mt.gamma_r = gamma_r.empty() ? std::vector<double>(3 * s.pd.ntypes, 1.0) : std::move(gamma_r);
                s.methods.push_back(std::move(mt));
            },
            py::arg("kind"), py::arg("members"), py::arg("variant_kind"), py::arg("A"), py::arg("B"), py::arg("t_start"),
            py::arg("t_ramp"), py::arg("gamma"), py::arg("gamma_r") = std::vector<double>())
        .def("prep_run", &System::prepRun, py::call_guard<py::gil_scoped_release>())
        .def("compute_net_force", [](System& s) { s.computeNetForce(s.timestep); })
        // Advance n steps; the GIL is released, and Ctrl-C is honoured between chunks.
        .def("advance", [](System& s, uint64_t n) {
            // (on the device each call sends the particle data and brings it back: far larger
            // chunks, of 1000 to 100000 steps, seconds each)
            const uint64_t N = std::max<uint32_t>(1, s.pd.N);
            const uint64_t chunk = s.useGPU ? std::clamp<uint64_t>(1000000000 / N, 1000, 100000)
                                            : std::max<uint64_t>(1, 2000000 / N);
            for (uint64_t done = 0; done < n;) {
                uint64_t k = std::min(chunk, n - done);
                {
                    py::gil_scoped_release release;
                    s.advance(k);
                }
                done += k;
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
        });
}
