// Bindings of the device layer: availability and profiling, and the adjoint on the device
// (DeviceAdjoint.h): states in device memory, the sweep there.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>
#include <vector>

#include "core/Format.h"
#include "adjoint/Adjoint.h"
#include "adjoint/RigidAdjoint.h"
#include "device/BatchRun.h"
#include "device/DeviceAdjoint.h"
#include "device/DeviceNeighborList.h"
#include "device/DeviceRun.h"
#include "device/GPU.h"
#include "engine/System.h"
#include "python/Arrays.h"
#include "python/Chunked.h"
#include "python/Exports.h"

namespace ha::python {

RigidAdjointState rigid_adj(System& s, py::handle lr, py::handle lv, py::handle la, py::handle lq, py::handle lp,
                            py::handle lt, py::handle geom, py::handle gI, py::handle ggr);  // (export_adjoint.cc)

namespace {

// Slots k0 .. k0 + n of the states to / from host blocks (one a field, n x N x width, as
// new_states makes them); both directions check the same things.
std::vector<double*> host_blocks(const DeviceStates& st, uint64_t k0, uint64_t n, const py::list& arrays,
                                 const char* what) {
    if (k0 > st.size() || n > st.size() - k0) throw std::out_of_range(format("%s: slots out of range", what));
    if (py::len(arrays) != size_t(st.fields()))
        throw std::invalid_argument(
            format("%s: %zu arrays for states of %d fields", what, size_t(py::len(arrays)), st.fields()));
    std::vector<double*> p;
    for (int f = 0; f < st.fields(); ++f)
        p.push_back(writable(arrays[f], n * st.N(), st.width(f), format("%s: field %d", what, f).c_str(), "steps x N"));
    return p;
}

// The adjoints of rotations (lq, lp, ltau, geometry, inertia, gamma_r), or none (None).
std::optional<RigidAdjointState> rigid_adjoints(System& s, py::handle lr, py::handle lv, py::handle la,
                                                py::handle rigid) {
    if (rigid.is_none()) return std::nullopt;
    const py::tuple r = py::reinterpret_borrow<py::tuple>(rigid);
    if (r.size() != 6) throw std::invalid_argument("rigid: (lq, lp, ltau, geometry, inertia, gamma_r)");
    return rigid_adj(s, lr, lv, la, r[0], r[1], r[2], r[3], r[4], r[5]);
}

void device_advance_recording_py(System& s, DeviceStates& st, uint64_t k0, uint64_t n, bool after) {
    run_chunked(n, chunk_steps(s.pd.N, StepCost::DeviceForward), Order::Forward,
                [&](uint64_t first, uint64_t k) { device_advance_recording(s, st, k0 + first, k, after); });
}

std::pair<int64_t, int64_t> device_adjoint_sweep_py(System& s, uint64_t t_first, const DeviceStates& st, uint64_t k0,
                                                    uint64_t n, py::object lr, py::object lv, py::object la,
                                                    AdjointGrads& g, bool params, bool kT, bool gamma, double clip,
                                                    bool look_back, ParamSelection select, py::object rigid) {
    (void)look_back;  // (the device builds its lists from the state in hand)
    double *r = writable(lr, s.pd.N, 3, "lr"), *vv = writable(lv, s.pd.N, 3, "lv"), *aa = writable(la, s.pd.N, 3, "la");
    const std::optional<RigidAdjointState> L = rigid_adjoints(s, lr, lv, la, rigid);
    const AdjointRequest req{params, kT, gamma, false, std::move(select)};
    SweepStatus res;
    // latest states first, in chunks (Ctrl-C between them); slot k0 + k holds step t_first + k
    run_chunked(n, chunk_steps(s.pd.N, StepCost::DeviceAdjoint), Order::Backward, [&](uint64_t first, uint64_t k) {
        res = device_adjoint_sweep(s, t_first + first, st, k0 + first, k, r, vv, aa, g, req, clip, L ? &*L : nullptr);
        return res.step >= 0;
    });
    return {res.step, res.particle};
}

// batch_advance in chunks (Ctrl-C between them): [(index, message)] of the systems that failed,
// each stopped where its own run stops; the others run every step.
std::vector<std::pair<size_t, std::string>> batch_advance_py(const std::vector<System*>& systems, uint64_t n) {
    std::vector<std::pair<size_t, std::string>> failed;
    std::vector<System*> alive = systems;
    std::vector<size_t> index(systems.size());
    uint32_t N = 0;
    for (size_t r = 0; r < systems.size(); ++r) {
        index[r] = r;
        N += systems[r]->pd.N;
    }
    run_chunked(n, chunk_steps(N, StepCost::DeviceForward), Order::Forward, [&](uint64_t, uint64_t k) {
        std::vector<System*> still;
        std::vector<size_t> still_index;
        std::vector<bool> out(alive.size(), false);
        for (const BatchFailure& f : batch_advance(alive, k)) {
            failed.emplace_back(index[f.index], f.what);
            out[f.index] = true;
        }
        for (size_t q = 0; q < alive.size(); ++q)
            if (!out[q]) still.push_back(alive[q]), still_index.push_back(index[q]);
        alive.swap(still);
        index.swap(still_index);
    });
    return failed;
}

// batch_advance_recording in chunks: system r's states from slot k0[r] on.
std::vector<std::pair<size_t, std::string>> batch_advance_recording_py(const std::vector<System*>& systems,
                                                                       const std::vector<DeviceStates*>& states,
                                                                       const std::vector<uint64_t>& k0, uint64_t n,
                                                                       bool after) {
    if (states.size() != systems.size() || k0.size() != systems.size())
        throw std::invalid_argument("batch_advance_recording: one states block and one k0 per system");
    std::vector<std::pair<size_t, std::string>> failed;
    std::vector<size_t> alive(systems.size());
    uint32_t N = 0;
    for (size_t r = 0; r < systems.size(); ++r) {
        alive[r] = r;
        N += systems[r]->pd.N;
        states[r]->check(k0[r], n, *systems[r], "batch_advance_recording");
    }
    run_chunked(n, chunk_steps(N, StepCost::DeviceForward), Order::Forward, [&](uint64_t first, uint64_t k) {
        std::vector<System*> sys;
        std::vector<DeviceRecorder> recs;
        for (size_t r : alive) {
            sys.push_back(systems[r]);
            recs.push_back(DeviceRecorder{states[r], k0[r] + first, after});
        }
        std::vector<bool> out(alive.size(), false);
        for (const BatchFailure& f : batch_advance_recording(sys, recs, k)) {
            failed.emplace_back(alive[f.index], f.what);
            out[f.index] = true;
        }
        std::vector<size_t> still;
        for (size_t q = 0; q < alive.size(); ++q)
            if (!out[q]) still.push_back(alive[q]);
        alive.swap(still);
    });
    return failed;
}

// batch_adjoint_sweep in chunks (latest first): jobs [(system, t_first, states, k0, lr, lv, la,
// grads[, rigid])], every one n steps; returns (step, particle) per job, (-1, -1) where none
// stopped.
std::vector<std::pair<int64_t, int64_t>> batch_adjoint_sweep_py(py::list jobs, uint64_t n, bool params, bool kT,
                                                                bool gamma, double clip, bool look_back,
                                                                ParamSelection select) {
    (void)look_back;  // (the device builds its lists from the state in hand)
    struct Job {
        System* sys;
        uint64_t t_first;
        DeviceStates* states;
        uint64_t k0;
        double *lr, *lv, *la;
        AdjointGrads* g;
        std::optional<RigidAdjointState> rigid;
    };
    std::vector<Job> js;
    uint32_t N = 0;
    for (py::handle h : jobs) {
        const py::tuple t = py::reinterpret_borrow<py::tuple>(h);
        if (t.size() != 8 && t.size() != 9) throw std::invalid_argument("batch_adjoint_sweep: jobs are 8- or 9-tuples");
        System& s = t[0].cast<System&>();
        js.push_back({&s, t[1].cast<uint64_t>(), &t[2].cast<DeviceStates&>(), t[3].cast<uint64_t>(),
                      writable(t[4], s.pd.N, 3, "lr"), writable(t[5], s.pd.N, 3, "lv"), writable(t[6], s.pd.N, 3, "la"),
                      &t[7].cast<AdjointGrads&>(),
                      rigid_adjoints(s, t[4], t[5], t[6], t.size() == 9 ? py::handle(t[8]) : py::handle(py::none()))});
        N += s.pd.N;
    }
    const AdjointRequest req{params, kT, gamma, false, std::move(select)};
    std::vector<std::pair<int64_t, int64_t>> out(js.size(), {-1, -1});
    std::vector<size_t> alive(js.size());
    for (size_t r = 0; r < js.size(); ++r) alive[r] = r;
    run_chunked(n, chunk_steps(N, StepCost::DeviceAdjoint), Order::Backward, [&](uint64_t first, uint64_t k) {
        std::vector<DeviceSweep> sweeps;
        for (size_t r : alive) {
            const Job& j = js[r];
            sweeps.emplace_back(*j.sys, j.t_first + first, *j.states, j.k0 + first, k, j.lr, j.lv, j.la, *j.g, req,
                                clip, j.rigid ? &*j.rigid : nullptr);
        }
        const std::vector<SweepStatus> st = batch_adjoint_sweep(sweeps);
        std::vector<size_t> still;
        for (size_t q = 0; q < alive.size(); ++q) {
            if (st[q].step >= 0)
                out[alive[q]] = {st[q].step, st[q].particle};
            else
                still.push_back(alive[q]);
        }
        alive.swap(still);
        return alive.empty();
    });
    return out;
}

// The device's settings on the engine's classes (bound in export_engine.cc).
void export_device_settings(py::module_& m) {
    auto system = py::reinterpret_borrow<py::class_<System>>(m.attr("System"));
    system
        // run advance() on the device (DeviceRun.h): the same physics as the host's, bit for bit
        .def_property(
            "use_gpu", [](const System& s) { return s.useGPU; },
            [](System& s, bool on) {
                if (on) device_run(s);
                s.useGPU = on;
            })
        // ... with the device code run on the host (GPU.h's host backend: tests)
        .def_readwrite("gpu_host_backend", &System::gpuHostBackend);
    using NeighborListClass = py::class_<NeighborList, std::shared_ptr<NeighborList>>;
    auto nlist = py::reinterpret_borrow<NeighborListClass>(m.attr("NeighborList"));
    nlist
        // (tests of the GPU path) the device arrays' sizes, and starting them small
        .def_property_readonly("device_stride", [](NeighborList& nl) { return device_list(nl).stride(); })
        .def_property_readonly("device_cell_capacity", [](NeighborList& nl) { return device_list(nl).cellCapacity(); })
        .def("set_device_sizes",
             [](NeighborList& nl, uint32_t stride, uint32_t cap) { device_list(nl).setSizes(stride, cap); })
        .def_property(
            "device_columns", [](NeighborList& nl) { return device_list(nl).columns; },
            [](NeighborList& nl, bool on) { device_list(nl).columns = on; });
}

void export_device_adjoint(py::module_& m) {
    py::class_<DeviceStates, std::shared_ptr<DeviceStates>>(m, "DeviceStates")
        .def(py::init<const System&, uint64_t>(), py::arg("system"), py::arg("n"))
        .def_property_readonly("size", &DeviceStates::size)
        .def_property_readonly("fields", &DeviceStates::fields);
    m.def("device_save", &device_save, py::arg("system"), py::arg("states"), py::arg("k"));
    m.def("device_load", &device_load, py::arg("system"), py::arg("states"), py::arg("k"), py::arg("forces") = false);
    m.def(
        "device_states_download",
        [](const DeviceStates& st, uint64_t k0, uint64_t n, const py::list& arrays) {
            device_states_download(st, k0, n, host_blocks(st, k0, n, arrays, "device_states_download"));
        },
        py::arg("states"), py::arg("k0"), py::arg("n"), py::arg("arrays"));
    m.def(
        "device_states_upload",
        [](DeviceStates& st, uint64_t k0, uint64_t n, const py::list& arrays) {
            const std::vector<double*> p = host_blocks(st, k0, n, arrays, "device_states_upload");
            device_states_upload(st, k0, n, std::vector<const double*>(p.begin(), p.end()));
        },
        py::arg("states"), py::arg("k0"), py::arg("n"), py::arg("arrays"));
    m.def("device_advance_recording", &device_advance_recording_py, py::arg("system"), py::arg("states"), py::arg("k0"),
          py::arg("n"), py::arg("after") = false);
    m.def("device_adjoint_sweep", &device_adjoint_sweep_py, py::arg("system"), py::arg("t_first"), py::arg("states"),
          py::arg("k0"), py::arg("n"), py::arg("lr"), py::arg("lv"), py::arg("la"), py::arg("grads"),
          py::arg("params") = true, py::arg("kT") = false, py::arg("gamma") = false, py::arg("clip") = 0.0,
          py::arg("look_back") = false, py::arg("select") = ParamSelection{}, py::arg("rigid") = py::none());
}

}  // namespace

void export_device(py::module_& m, py::module_&) {
#ifdef HA_HAVE_CUDA
    m.attr("cuda_enabled") = true;
#else
    m.attr("cuda_enabled") = false;
#endif
    m.def("batch_advance", &batch_advance_py, py::arg("systems"), py::arg("steps"),
          "Advance every system (all on the device) steps steps together, each step's launches as one "
          "kernel per op for the whole batch; returns [(index, error)] of those that failed.");
    m.def("batch_advance_recording", &batch_advance_recording_py, py::arg("systems"), py::arg("states"), py::arg("k0"),
          py::arg("steps"), py::arg("after") = false,
          "device_advance_recording of several systems together (one kernel per op for the batch); returns "
          "[(index, error)] of those that failed.");
    m.def("batch_adjoint_sweep", &batch_adjoint_sweep_py, py::arg("jobs"), py::arg("steps"), py::arg("params") = true,
          py::arg("kT") = false, py::arg("gamma") = false, py::arg("clip") = 0.0, py::arg("look_back") = true,
          py::arg("select") = ParamSelection{},
          "device_adjoint_sweep of several systems together: jobs [(system, t_first, states, k0, lr, lv, la, "
          "grads)]; returns [(step, particle)] per job ((-1, -1): it did not stop).");
    m.def("gpu_available", &gpu::available);
    m.def("gpu_name", &gpu::deviceName);
    m.def(
        "gpu_profile_start", [] { gpu::setProfiling(true); },
        "time every device kernel from now on (each waits for the device)");
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
    export_device_settings(m);
    export_device_adjoint(m);
}

}  // namespace ha::python
