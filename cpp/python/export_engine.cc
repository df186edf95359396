// Bindings of the engine (the forward map): neighbour lists, forces, the system and its steps.
// The forces made here carry their adjoint and device paths too (adjoint/, device/), which
// export_adjoint.cc and export_device.cc use; the device's settings are bound there.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "core/Format.h"
#include "core/Simd.h"
#include "adjoint/ExternalFieldAdjoint.h"
#include "adjoint/TableForceAdjoint.h"
#include "adjoint/WallForceAdjoint.h"
#include "device/BarForceDevice.h"
#include "device/PairForces.h"
#include "engine/Force.h"
#include "engine/evaluators/All.h"
#include "engine/NeighborList.h"
#include "engine/RotationStep.h"
#include "engine/System.h"
#include "python/Arrays.h"
#include "python/Chunked.h"
#include "python/Exports.h"

namespace ha::python {

namespace {

#define HA_ARRAY_PROPERTY(NAME, MEMBER, WIDTH)         \
    def_property_readonly(NAME, [](py::object self) {  \
        System& s = self.cast<System&>();              \
        return view(s.pd.MEMBER, s.pd.N, WIDTH, self); \
    })

// Pairs i < j closer than r_max (cell list), and d_ij = minImage(r_j - r_i): the neighbour
// query of the analysis code (order parameters). Points must lie in the box.
py::tuple neighbor_pairs(std::array<double, 6> L, Arr pts, double r_max) {
    if (pts.ndim() != 2 || pts.shape(1) != 3) throw std::invalid_argument("points must be an (N, 3) array");
    if (!(r_max > 0) || !std::isfinite(r_max))
        throw std::invalid_argument("r_max must be positive and finite, got " + std::to_string(r_max));
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
        keep.push_back(i);
        keep.push_back(j);
        d.push_back(v.x);
        d.push_back(v.y);
        d.push_back(v.z);
    }
    return py::make_tuple(copy_of(keep, keep.size() / 2, 2), copy_of(d, d.size() / 3, 3));
}

void export_neighbor_list(py::module_& m) {
    py::class_<NeighborList, std::shared_ptr<NeighborList>>(m, "NeighborList")
        .def(py::init<double>())
        .def_property("buffer", &NeighborList::buffer, &NeighborList::setBuffer)
        .def_readwrite("rebuild_check_delay", &NeighborList::rebuildCheckDelay)
        .def_readwrite("check_dist", &NeighborList::checkDist)
        .def_property(
            "filter_body", [](const NeighborList& nl) { return nl.filterBody; },
            [](NeighborList& nl, bool on) {
                if (on != nl.filterBody) nl.forceRebuild();
                nl.filterBody = on;
            })
        .def_property_readonly("num_builds", &NeighborList::numBuilds)
        .def("set_rcut", &NeighborList::setRcut)
        .def("build", [](NeighborList& nl, System& s) { nl.build(s.pd, s.nthreads); })
        .def("is_symmetric", &NeighborList::isSymmetric)
        .def("pairs", [](const NeighborList& nl) {
            auto p = nl.pairs();
            return copy_of(p, p.size() / 2, 2);
        });
}

void export_forces(py::module_& m) {
    py::class_<Force, std::shared_ptr<Force>>(m, "Force")
        .def("compute",
             [](Force& f, System& s) {
                 f.prepare(s.pd);
                 s.pd.packPositions();
                 f.compute(s.pd, s.timestep, s.nthreads);
             })
        // Recompute at the current positions with virials on; returns them (N, 6).
        .def("compute_virials",
             [](Force& f, System& s) {
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
        .def("set_rcut", &PairForce::setRcut)
        .def_property("shift", &PairForce::shift, &PairForce::setShift)
        .def_property_readonly("n_params", &PairForce::nParams);
    m.def("make_pair_force", &make_pair_force);
    py::class_<TableForce, PairForce, std::shared_ptr<TableForce>>(m, "TableForce")
        .def(py::init([](std::shared_ptr<NeighborList> nl, uint32_t ntypes) {
                 return std::shared_ptr<TableForce>(std::make_shared<TableForceAdjoint>(std::move(nl), ntypes));
             }),
             py::arg("nlist"), py::arg("ntypes"))
        .def("set_table", &TableForce::setTable, py::arg("a"), py::arg("b"), py::arg("r_min"), py::arg("U"),
             py::arg("F"))
        .def_property_readonly("width", &TableForce::width)
        .def("energy_forces", [](TableForce& f, System& s) {
            f.prepare(s.pd);
            s.pd.packPositions();
            return copy_of(f.energyForces(s.pd, s.nthreads), s.pd.N, 3);
        });
    m.def(
        "pair_parameters",
        [] {
            py::dict out;  // {evaluator name: its parameters' names, in order} (evaluators/All.h)
#define HA_PAIR_PARAMETERS(E, NAME) \
    out[NAME] = std::vector<std::string>(std::begin(E::param_names), std::end(E::param_names));
            HA_FOR_EACH_PAIR_EVALUATOR(HA_PAIR_PARAMETERS)
            HA_FOR_EACH_XPLOR_EVALUATOR(HA_PAIR_PARAMETERS)
#undef HA_PAIR_PARAMETERS
            return out;
        },
        "{evaluator name: [parameter names, in the evaluator's order]}: the one list of the names, "
        "declared by each evaluator (cpp/engine/evaluators)");
    py::class_<ElectricField, Force, std::shared_ptr<ElectricField>>(m, "ElectricField")
        .def(py::init([] { return std::shared_ptr<ElectricField>(std::make_shared<ElectricFieldAdjoint>()); }))
        .def("set_field", &ElectricField::setField, py::arg("type"), py::arg("E"));
    py::class_<WallForce, Force, std::shared_ptr<WallForce>>(m, "WallForce")
        // walls: [(kind 0 sphere / 1 cylinder / 2 plane, origin, normal or axis, r, inside, open)]
        .def("set_walls",
             [](WallForce& f,
                const std::vector<std::tuple<int, std::array<double, 3>, std::array<double, 3>, double, bool, bool>>&
                    walls) {
                 std::vector<Wall> out;
                 for (const auto& [kind, o, n, r, inside, open] : walls) {
                     Wall w;
                     w.kind = Wall::Kind(kind);
                     for (int k = 0; k < 3; ++k) w.origin[k] = o[k], w.normal[k] = n[k];
                     w.r = r;
                     w.inside = inside;
                     w.open = open;
                     if (w.kind == Wall::Cylinder) w.to_z = cylinder_rotation(w.normal);
                     out.push_back(w);
                 }
                 f.setWalls(std::move(out));
             })
        .def("set_params", &WallForce::setParams, py::arg("type"), py::arg("values"), py::arg("r_cut"),
             py::arg("r_extrap") = 0.0);
    m.def("make_wall_force", &make_wall_force);
    py::class_<PeriodicField, Force, std::shared_ptr<PeriodicField>>(m, "PeriodicField")
        .def(py::init([] { return std::shared_ptr<PeriodicField>(std::make_shared<PeriodicFieldAdjoint>()); }))
        .def("set_params", &PeriodicField::setParams, py::arg("type"), py::arg("A"), py::arg("i"), py::arg("w"),
             py::arg("p"));
    py::class_<BarForce, Force, std::shared_ptr<BarForce>>(m, "BarForce")
        .def(py::init([] { return std::shared_ptr<BarForce>(std::make_shared<BarForceDevice>()); }))
        .def("set_bars", &BarForce::setBars, py::arg("ends"), py::arg("points"))
        .def("set_params", &BarForce::setParams, py::arg("epsilon"), py::arg("sigma"), py::arg("alpha"));
}

// The host loops' switches (docs/performance.md): all give the same bits.
void export_switches(py::module_& m) {
    m.def(
        "set_simd", [](bool on) { simd_flag() = on; }, py::arg("on"),
        "Use the vectorised host loops (default) or their scalar references (same bits).");
    m.def("simd_enabled", &simd_enabled);
    m.def(
        "set_full_list_above", [](uint32_t n) { full_list_above() = n; }, py::arg("n"),
        "Particles above which the vectorised force pass evaluates pairs from both sides (same bits).");
    m.def("full_list_above", [] { return full_list_above(); });
    m.def(
        "set_spatial_above", [](uint32_t n) { spatial_above() = n; }, py::arg("n"),
        "Particles above which the full-list force pass runs in the list's spatial order (same bits).");
    m.def("spatial_above", [] { return spatial_above(); });
}

using SystemClass = py::class_<System>;

// The particles: sizes, box, run settings and the per-particle arrays (numpy views).
void def_system_state(SystemClass& c) {
    c.def(py::init<>())
        .def("resize",
             [](System& s, uint32_t N, uint32_t ntypes) {
                 s.dropPendingVelocities();
                 s.pd.resize(N);
                 s.pd.ntypes = ntypes;
             })
        .def("set_box", [](System& s, std::array<double, 6> L) { s.pd.box.setL(L[0], L[1], L[2], L[3], L[4], L[5]); })
        .def("resize_box", &System::resizeBox, py::arg("L"), py::arg("members"))
        .def_property_readonly("N", [](const System& s) { return s.pd.N; })
        .def_property_readonly("ntypes", [](const System& s) { return s.pd.ntypes; })
        .def("thermalize_momenta", &System::thermalizeMomenta, py::arg("tags"), py::arg("kT"))
        .def_readwrite("timestep", &System::timestep)
        .def_readwrite("seed", &System::seed)
        .def_readwrite("dt", &System::dt)
        .def_readwrite("nthreads", &System::nthreads)
        // Threads chosen by timing (ThreadGovernor); off: always nthreads.
        .def_property(
            "adaptive_threads", [](const System& s) { return s.stepGovernor.enabled; },
            [](System& s, bool on) { s.stepGovernor.enabled = s.adjointGovernor.enabled = on; })
        // {"step"|"adjoint": (threads in use, s/step on one thread, s/step on nthreads)}
        .def_property_readonly("thread_choice",
                               [](const System& s) {
                                   py::dict d;
                                   const ThreadGovernor &st = s.stepGovernor, &ad = s.adjointGovernor;
                                   d["step"] = py::make_tuple(st.preferred(s.nthreads), st.cost(0), st.cost(1));
                                   d["adjoint"] = py::make_tuple(ad.preferred(s.nthreads), ad.cost(0), ad.cost(1));
                                   return d;
                               })
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
        .def("set_position", [](System& s, Arr p) {
            if (size_t(p.size()) != 3 * size_t(s.pd.N)) throw std::invalid_argument("positions must be N x 3");
            std::copy(p.data(), p.data() + p.size(), s.pd.pos.begin());
        });
}

// What acts on the particles: rigid bodies, contacts, forces, integration methods.
void def_system_model(SystemClass& c) {
    c.def_readwrite("aniso", &System::aniso)
        // per type: None or (constituent type ids, positions n x 3, orientations n x 4)
        .def("set_bodies",
             [](System& s, py::list defs) {
                 std::vector<RigidBodies::Definition> d(defs.size());
                 for (size_t t = 0; t < defs.size(); ++t) {
                     if (defs[t].is_none()) continue;
                     auto tup = defs[t].cast<py::tuple>();
                     d[t].types = tup[0].cast<std::vector<uint32_t>>();
                     Arr pos = tup[1].cast<Arr>(), orient = tup[2].cast<Arr>();
                     const size_t n = d[t].types.size();
                     if (size_t(pos.size()) != 3 * n || size_t(orient.size()) != 4 * n)
                         throw std::invalid_argument(
                             "Constituent particle lists (position, orientation, type) are of unequal length");
                     d[t].pos.assign(pos.data(), pos.data() + pos.size());
                     d[t].orient.assign(orient.data(), orient.data() + orient.size());
                 }
                 s.setBodies(std::move(d));
             })
        .def_property_readonly("n_bodies", [](const System& s) { return s.rigid.centers.size(); })
        // contact distance per type pair (ntypes^2, 0: none) and what each is, for failure notes
        .def("set_contacts",
             [](System& s, std::vector<double> c, std::vector<std::string> labels) {
                 const size_t n = size_t(s.pd.ntypes) * s.pd.ntypes;
                 if (c.size() != n || labels.size() != n)
                     throw std::invalid_argument(format("set_contacts: %zu distances and %zu labels for %zu type pairs",
                                                        c.size(), labels.size(), n));
                 s.contact = std::move(c);
                 s.contactLabel = std::move(labels);
             })
        .def("failure_note", &System::failureNote)
        .def("set_forces", [](System& s, std::vector<std::shared_ptr<Force>> f) { s.forces = std::move(f); })
        .def("clear_methods",
             [](System& s) {
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
                mt.kT.A = A;
                mt.kT.B = B;
                mt.kT.t_start = t_start;
                mt.kT.t_ramp = t_ramp;
                mt.gamma = std::move(gamma);
                mt.gamma_r = gamma_r.empty() ? std::vector<double>(3 * s.pd.ntypes, 1.0) : std::move(gamma_r);
                s.methods.push_back(std::move(mt));
            },
            py::arg("kind"), py::arg("members"), py::arg("variant_kind"), py::arg("A"), py::arg("B"),
            py::arg("t_start"), py::arg("t_ramp"), py::arg("gamma"), py::arg("gamma_r") = std::vector<double>())
        // method k's thermostat (ConstantVolume): kind (0 none, 1 Bussi, 2 Berendsen, 3 MTTK), tau,
        // the group's degrees of freedom and MTTK's variables (xi, eta, xi_rot, eta_rot)
        .def("set_thermostat",
             [](System& s, size_t k, int kind, double tau, double trans_dof, double rot_dof, std::array<double, 4> v) {
                 if (k >= s.methods.size()) throw std::out_of_range("set_thermostat: no such method");
                 Thermostat& th = s.methods[k].thermostat;
                 th.kind = Thermostat::Kind(kind);
                 th.tau = tau;
                 th.trans_dof = trans_dof;
                 th.rot_dof = rot_dof;
                 th.xi = v[0];
                 th.eta = v[1];
                 th.xi_rot = v[2];
                 th.eta_rot = v[3];
             })
        // MTTK's variables kept per step while a gradient runs (System::thermostatLog); switching
        // it either way forgets what was kept
        .def_property(
            "keep_thermostat_log", [](const System& s) { return s.thermostatLogOn; },
            [](System& s, bool on) {
                s.thermostatLogOn = on;
                s.thermostatLog.clear();
            })
        .def("restore_thermostats", &System::restoreThermostats, py::arg("timestep"))
        // another engine's MTTK variables at a step ({method index: (xi, eta, xi_rot, eta_rot)}), into the log
        .def("log_thermostats",
             [](System& s, uint64_t t, const std::map<size_t, std::array<double, 4>>& vars) {
                 std::vector<Thermostat> at;
                 for (const Method& m : s.methods) at.push_back(m.thermostat);
                 for (const auto& [k, v] : vars) {
                     if (k >= at.size()) throw std::out_of_range("log_thermostats: no such method");
                     at[k].xi = v[0], at[k].eta = v[1], at[k].xi_rot = v[2], at[k].eta_rot = v[3];
                 }
                 s.thermostatLog[t] = std::move(at);
             })
        .def("thermostat_variables", [](const System& s, size_t k) {
            if (k >= s.methods.size()) throw std::out_of_range("thermostat_variables: no such method");
            const Thermostat& th = s.methods[k].thermostat;
            return std::array<double, 4>{th.xi, th.eta, th.xi_rot, th.eta_rot};
        });
}

// Running: preparation, forces, steps.
void def_system_run(SystemClass& c) {
    c.def("prep_run", &System::prepRun, py::call_guard<py::gil_scoped_release>())
        .def("compute_net_force", &System::updateNetForce)
        // Advance n steps; the GIL is released, and Ctrl-C is honoured between chunks.
        .def("advance", [](System& s, uint64_t n) {
            const uint64_t chunk = chunk_steps(s.pd.N, s.useGPU ? StepCost::DeviceForward : StepCost::HostForward);
            run_chunked(n, chunk, Order::Forward, [&](uint64_t, uint64_t k) { s.advance(k); });
        });
}

// (tests and references) one rigid-body rotational half step for M bodies: part 1 or 2
py::tuple rotation_step(Arr q, Arr p, Arr tau, Arr I, double dt, int part) {
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
        if (part == 1)
            rotation_step_one(dt, tau.data() + 3 * m, I.data() + 3 * m, qq, pp);
        else
            rotation_step_two(dt, tau.data() + 3 * m, I.data() + 3 * m, qq, pp);
        double* x = qo.mutable_data() + 4 * m;
        double* y = po.mutable_data() + 4 * m;
        x[0] = qq.s, x[1] = qq.x, x[2] = qq.y, x[3] = qq.z;
        y[0] = pp.s, y[1] = pp.x, y[2] = pp.y, y[3] = pp.z;
    }
    return py::make_tuple(qo, po);
}

}  // namespace

void export_engine(py::module_& m, py::module_& testing) {
    m.def("neighbor_pairs", &neighbor_pairs, py::arg("box"), py::arg("points"), py::arg("r_max"));
    export_neighbor_list(m);
    export_forces(m);
    export_switches(m);
    py::enum_<Method::Kind>(m, "MethodKind")
        .value("Brownian", Method::Brownian)
        .value("Langevin", Method::Langevin)
        .value("ConstantVolume", Method::ConstantVolume);
    SystemClass system(m, "System");
    def_system_state(system);
    def_system_model(system);
    def_system_run(system);

    testing.def("rotation_step", &rotation_step, py::arg("q"), py::arg("p"), py::arg("tau"), py::arg("I"),
                py::arg("dt"), py::arg("part"));
    testing.def(
        "set_chunk_steps", [](uint64_t n) { chunk_steps_override() = n; }, py::arg("n"),
        "Steps per chunk of every long call from now on (0: the chunk rule), to test that chunking "
        "leaves the bits.");
    testing.def(
        "chunk_steps",
        [](uint32_t N, const std::string& cost) {
            if (cost == "host_forward") return chunk_steps(N, StepCost::HostForward);
            if (cost == "host_adjoint") return chunk_steps(N, StepCost::HostAdjoint);
            if (cost == "device_forward") return chunk_steps(N, StepCost::DeviceForward);
            if (cost == "device_adjoint") return chunk_steps(N, StepCost::DeviceAdjoint);
            throw std::invalid_argument("chunk_steps: unknown cost '" + cost + "'");
        },
        py::arg("N"), py::arg("cost"),
        "Steps per chunk for N particles and a step cost (host_/device_ forward/adjoint).");
}

}  // namespace ha::python
