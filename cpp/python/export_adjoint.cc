// Bindings of the adjoint (host): recording runs, reverse sweeps, tangents, force Jacobians and
// the rigid-body adjoint.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>

#include "core/Format.h"
#include "adjoint/Adjoint.h"
#include "adjoint/ListMemory.h"
#include "adjoint/RigidAdjoint.h"
#include "engine/System.h"
#include "python/Arrays.h"
#include "python/Chunked.h"
#include "python/Exports.h"

namespace ha::python {

namespace {

// States of n steps: (n, N, 3) C-contiguous float64 arrays (vel, acc: None for Brownian dynamics).
double* host_states(const System& s, py::handle a, uint64_t n, const char* name, bool writes) {
    return states_data(a, n, s.pd.N, 3, name, writes);
}

void advance_recording_py(System& s, py::object pos, py::object vel, py::object acc, bool after) {
    const uint64_t n = steps_in(pos, "pos");
    double *p = host_states(s, pos, n, "pos", true), *v = host_states(s, vel, n, "vel", true),
           *a = host_states(s, acc, n, "acc", true);
    const size_t m3 = 3 * size_t(s.pd.N);
    run_chunked(n, chunk_steps(s.pd.N, StepCost::HostForward), Order::Forward, [&](uint64_t first, uint64_t k) {
        advance_recording(s, k, p + first * m3, v ? v + first * m3 : nullptr, a ? a + first * m3 : nullptr, after);
    });
}

std::pair<int64_t, int64_t> adjoint_sweep_py(System& s, uint64_t t_first, py::object pos, py::object vel,
                                             py::object acc, py::object lr, py::object lv, py::object la,
                                             AdjointGrads& g, bool params, bool kT, bool gamma, double clip,
                                             bool look_back, ParamSelection select) {
    const uint64_t n = steps_in(pos, "pos");
    const double *p = host_states(s, pos, n, "pos", false), *v = host_states(s, vel, n, "vel", false),
                 *a = host_states(s, acc, n, "acc", false);
    const size_t m3 = 3 * size_t(s.pd.N);
    double *r = writable(lr, s.pd.N, 3, "lr"), *vv = writable(lv, s.pd.N, 3, "lv"), *aa = writable(la, s.pd.N, 3, "la");
    const AdjointRequest req{params, kT, gamma, look_back, std::move(select)};
    SweepStatus st;
    // latest states first, in chunks (Ctrl-C between them)
    run_chunked(n, chunk_steps(s.pd.N, StepCost::HostAdjoint), Order::Backward, [&](uint64_t first, uint64_t k) {
        st = adjoint_sweep(s, t_first + first, k, p + first * m3, v ? v + first * m3 : nullptr,
                           a ? a + first * m3 : nullptr, r, vv, aa, g, req, clip);
        return st.step >= 0;
    });
    return {st.step, st.particle};
}

// Forward mode's tangents as the C++ takes them, from tangents [(dr, dv, da, dkT, dgamma or
// None[, dtau])] (dr, dv, da: N x 3, advanced in place; dtau: a ConstantVolume thermostat's tau)
// and ptan [force][tangent] arrays (empty: none).
struct TangentArgs {
    std::vector<Tangent> tan;
    std::vector<Arr> keep_g;  // (the converted dgamma arrays, alive for the call)
    PTan pt;

    TangentArgs(const System& s, const py::list& tangents, const std::vector<std::vector<Arr>>& ptan) {
        keep_g.reserve(tangents.size());
        for (auto h : tangents) {
            auto tup = h.cast<py::tuple>();
            if (tup.size() != 5 && tup.size() != 6)
                throw std::invalid_argument("each tangent is (dr, dv, da, dkT, dgamma or None[, dtau])");
            Tangent d;
            d.dr = writable(tup[0], s.pd.N, 3, "dr");
            d.dv = writable(tup[1], s.pd.N, 3, "dv");
            d.da = writable(tup[2], s.pd.N, 3, "da");
            d.dkT = tup[3].cast<double>();
            if (tup.size() == 6) d.dtau = tup[5].cast<double>();
            if (!tup[4].is_none()) {
                keep_g.push_back(tup[4].cast<Arr>());
                if (size_t(keep_g.back().size()) != s.pd.ntypes)
                    throw std::invalid_argument(format("dgamma has %zd entries, one per type (%u) expected",
                                                       keep_g.back().size(), s.pd.ntypes));
                d.dgamma = keep_g.back().data();
            }
            tan.push_back(d);
        }
        if (ptan.size() != s.forces.size())
            throw std::invalid_argument(format("ptan: %zu lists for %zu forces", ptan.size(), s.forces.size()));
        pt.resize(ptan.size());
        for (size_t f = 0; f < ptan.size(); ++f) {
            if (ptan[f].size() > tan.size())
                throw std::invalid_argument(
                    format("ptan[%zu]: %zu arrays for %zu tangents", f, ptan[f].size(), tan.size()));
            for (auto& a : ptan[f]) pt[f].push_back(a.size() ? a.data() : nullptr);
            pt[f].resize(tan.size(), nullptr);
        }
    }
};

// n steps of forward mode (tangent_advance), in chunks (Ctrl-C between them): a step carries
// every tangent, so a chunk counts each particle once per tangent at an adjoint step's cost.
void tangent_advance_py(System& s, uint64_t n, py::list tangents, std::vector<std::vector<Arr>> ptan,
                        const ParamSelection& select) {
    TangentArgs a(s, tangents, ptan);
    check_selection(s, select);
    s.checkAdvance(n);
    const uint64_t weight = uint64_t(s.pd.N) * std::max<size_t>(1, a.tan.size());
    const uint64_t chunk = chunk_steps(uint32_t(std::min<uint64_t>(weight, UINT32_MAX)), StepCost::HostAdjoint);
    run_chunked(n, chunk, Order::Forward, [&](uint64_t, uint64_t k) { tangent_advance(s, k, a.tan, a.pt, select); });
}

// (J_F w, [w . dF/dtheta per force], [dE/dtheta per force]) at the current state;
// ptan: per force, a parameter tangent to add (dF/dtheta) . ptan; select: the parameters (Adjoint.h)
py::tuple force_jacobian_py(System& s, Arr w, py::object ptan, const ParamSelection& select) {
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
    force_jacobian(s, 1, &wp, &op, &g, &e, ptan.is_none() ? nullptr : &pt, &select);
    py::list gp, ep;
    for (auto& v : g.params) gp.append(copy_of(v, v.size(), 1));
    for (auto& v : e) ep.append(copy_of(v, v.size(), 1));
    return py::make_tuple(out, gp, ep);
}

// The neighbour lists' memory for the adjoint (ListMemory.h), on the engine's NeighborList class.
void export_list_memory(py::module_& m) {
    using NeighborListClass = py::class_<NeighborList, std::shared_ptr<NeighborList>>;
    auto nlist = py::reinterpret_borrow<NeighborListClass>(m.attr("NeighborList"));
    nlist
        .def(
            "set_earlier_states",
            [](NeighborList& nl, const System& s, const std::vector<py::array>& states) {
                // (pointers, not copies: the caller keeps the arrays alive while they are set)
                std::vector<const double*> ptrs;
                for (size_t k = 0; k < states.size(); ++k) {
                    const py::array& a = states[k];
                    if (!py::isinstance<py::array_t<double>>(a) || !(a.flags() & py::array::c_style) ||
                        size_t(a.size()) != 3 * size_t(s.pd.N))
                        throw std::invalid_argument(format(
                            "earlier state %zu: expected a C-contiguous float64 array of %u x 3 positions", k, s.pd.N));
                    ptrs.push_back(static_cast<const double*>(a.data()));
                }
                list_memory(nl).setEarlierStates(std::move(ptrs));
            },
            py::arg("system"), py::arg("states"))
        .def_property_readonly("num_builds_from_earlier",
                               [](NeighborList& nl) { return list_memory(nl).numBuildsFromEarlier(); })
        .def(
            "start_recording",
            [](NeighborList& nl, size_t max_bytes) { list_memory(nl).startRecording(nl, max_bytes); },
            py::arg("max_bytes"))
        .def("stop_recording", [](NeighborList& nl) { list_memory(nl).stopRecording(); })
        .def_property_readonly("recorded_bytes", [](NeighborList& nl) { return list_memory(nl).recordedBytes(); })
        .def_property_readonly("num_recorded", [](NeighborList& nl) { return list_memory(nl).numRecorded(); })
        .def_property_readonly("num_restores", [](NeighborList& nl) { return list_memory(nl).numRestores(); });
}

void export_host_adjoint(py::module_& m) {
    py::class_<AdjointGrads>(m, "AdjointGrads")
        .def(py::init<>())
        .def_property_readonly("params",
                               [](const AdjointGrads& g) {
                                   py::list out;
                                   for (auto& v : g.params) out.append(copy_of(v, v.size(), 1));
                                   return out;
                               })
        .def_readwrite("kT", &AdjointGrads::kT)
        .def_readwrite("tau", &AdjointGrads::tau)
        .def_readwrite("xi", &AdjointGrads::xi)
        .def_readwrite("xi_rot", &AdjointGrads::xi_rot)
        .def_property_readonly("gamma", [](const AdjointGrads& g) { return copy_of(g.gamma, g.gamma.size(), 1); });
    m.def("advance_recording", &advance_recording_py, py::arg("system"), py::arg("pos"), py::arg("vel") = py::none(),
          py::arg("acc") = py::none(), py::arg("after") = false);
    m.def("adjoint_sweep", &adjoint_sweep_py, py::arg("system"), py::arg("t_first"), py::arg("pos"), py::arg("vel"),
          py::arg("acc"), py::arg("lr"), py::arg("lv"), py::arg("la"), py::arg("grads"), py::arg("params") = true,
          py::arg("kT") = false, py::arg("gamma") = false, py::arg("clip") = 0.0, py::arg("look_back") = true,
          py::arg("select") = ParamSelection{});
    m.def("tangent_advance", &tangent_advance_py, py::arg("system"), py::arg("n"), py::arg("tangents"), py::arg("ptan"),
          py::arg("select") = ParamSelection{});
    m.def("force_jacobian", &force_jacobian_py, py::arg("system"), py::arg("w"), py::arg("ptan") = py::none(),
          py::arg("select") = ParamSelection{});
}

}  // namespace

// --- rigid bodies: packed states (n, N, W) and the adjoint arrays (N x 3/4, geometry flat) ---
// (rigid_adj: also the device sweep's, export_device.cc)
RigidAdjointState rigid_adj(System& s, py::handle lr, py::handle lv, py::handle la, py::handle lq, py::handle lp,
                            py::handle lt, py::handle geom, py::handle gI, py::handle ggr) {
    const size_t n = s.pd.N;
    size_t ng = 0;
    for (const auto& d : s.rigid.defs) ng += 3 * d.size();
    return RigidAdjointState{writable(lr, n, 3, "lr"),
                             writable(lv, n, 3, "lv"),
                             writable(la, n, 3, "la"),
                             writable(lq, n, 4, "lq"),
                             writable(lp, n, 4, "lp"),
                             writable(lt, n, 3, "ltau"),
                             writable(geom, ng / 3, 3, "geometry adjoint", "sum(n_t)"),
                             writable(gI, n, 3, "inertia gradient"),
                             writable(ggr, s.pd.ntypes, 3, "gamma_r gradient", "ntypes")};
}

namespace {

// The adjoint arrays a pullback does not use (scratch, of the right sizes).
struct RigidScratch {
    py::array_t<double> v3, v4, t3;
    explicit RigidScratch(const System& s)
        : v3({py::ssize_t(s.pd.N), py::ssize_t(3)}),
          v4({py::ssize_t(s.pd.N), py::ssize_t(4)}),
          t3({py::ssize_t(s.pd.ntypes), py::ssize_t(3)}) {}
};

void rigid_advance_recording_py(System& s, py::object states, bool after) {
    const uint64_t n = steps_in(states, "states");
    const size_t W = rigid_state_width(s), stride = W * s.pd.N;
    double* p = states_data(states, n, s.pd.N, W, "rigid states", true);
    run_chunked(n, chunk_steps(s.pd.N, StepCost::HostForward), Order::Forward,
                [&](uint64_t first, uint64_t k) { rigid_advance_recording(s, k, p + first * stride, after); });
}

std::pair<int64_t, int64_t> rigid_adjoint_sweep_py(System& s, uint64_t t_first, py::object states, py::object lr,
                                                   py::object lv, py::object la, py::object lq, py::object lp,
                                                   py::object lt, py::object geom, py::object gI, py::object ggr,
                                                   AdjointGrads& g, bool params, bool kT, bool gamma,
                                                   ParamSelection select) {
    RigidAdjointState L = rigid_adj(s, lr, lv, la, lq, lp, lt, geom, gI, ggr);
    const uint64_t n = steps_in(states, "states");
    const size_t W = rigid_state_width(s), stride = W * s.pd.N;
    const double* p = states_data(states, n, s.pd.N, W, "rigid states", false);
    const AdjointRequest req{params, kT, gamma, true, std::move(select)};
    SweepStatus st;
    run_chunked(n, chunk_steps(s.pd.N, StepCost::HostAdjoint), Order::Backward, [&](uint64_t first, uint64_t k) {
        st = rigid_adjoint_sweep(s, t_first + first, k, p + first * stride, L, g, req);
        return st.step >= 0;
    });
    return {st.step, st.particle};
}

void export_rigid_adjoint(py::module_& m) {
    m.def("rigid_state_width", &rigid_state_width);
    m.def("rigid_save", [](System& s) {
        py::array_t<double> a({py::ssize_t(s.pd.N), py::ssize_t(rigid_state_width(s))});
        rigid_save(s, a.mutable_data());
        return a;
    });
    m.def(
        "rigid_load",
        [](System& s, Arr a, bool forces) {
            if (size_t(a.size()) != rigid_state_width(s) * s.pd.N)
                throw std::invalid_argument("rigid state has the wrong size");
            rigid_load(s, a.data(), forces);
        },
        py::arg("system"), py::arg("state"), py::arg("forces"));
    m.def("rigid_advance_recording", &rigid_advance_recording_py, py::arg("system"), py::arg("states"),
          py::arg("after") = false);
    m.def("rigid_adjoint_sweep", &rigid_adjoint_sweep_py, py::arg("system"), py::arg("t_first"), py::arg("states"),
          py::arg("lr"), py::arg("lv"), py::arg("la"), py::arg("lq"), py::arg("lp"), py::arg("ltau"),
          py::arg("geometry"), py::arg("inertia"), py::arg("gamma_r"), py::arg("grads"), py::arg("params") = true,
          py::arg("kT") = false, py::arg("gamma") = false, py::arg("select") = ParamSelection{});
    m.def(
        "rigid_force_pullback",
        [](System& s, Arr lF, Arr ltau, py::object lr, py::object lq, py::object geom, AdjointGrads& g,
           const ParamSelection& select) {
            if (size_t(lF.size()) != 3 * size_t(s.pd.N) || size_t(ltau.size()) != 3 * size_t(s.pd.N))
                throw std::invalid_argument("lF and ltau must be N x 3");
            RigidScratch d(s);
            RigidAdjointState L = rigid_adj(s, lr, d.v3, d.v3, lq, d.v4, d.v3, geom, d.v3, d.t3);
            rigid_force_pullback(s, lF.data(), ltau.data(), L, &g, select);
        },
        py::arg("system"), py::arg("lF"), py::arg("ltau"), py::arg("lr"), py::arg("lq"), py::arg("geometry"),
        py::arg("grads"), py::arg("select") = ParamSelection{});
    m.def("rigid_position_pullback", [](System& s, Arr dpos, py::object lr, py::object lq, py::object geom) {
        if (size_t(dpos.size()) != 3 * size_t(s.pd.N)) throw std::invalid_argument("dpos must be N x 3");
        RigidScratch d(s);
        RigidAdjointState L = rigid_adj(s, lr, d.v3, d.v3, lq, d.v4, d.v3, geom, d.v3, d.t3);
        rigid_position_pullback(s, dpos.data(), L);
    });
}

}  // namespace

void export_adjoint(py::module_& m, py::module_&) {
    export_list_memory(m);
    export_host_adjoint(m);
    export_rigid_adjoint(m);
}

}  // namespace ha::python
