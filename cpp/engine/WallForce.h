// Wall potentials (hoomd.md.external.wall) as HOOMD-blue 4.8.2's EvaluatorWalls (in its normal
// mode, r_extrap = 0; the extrapolated one in wall_extrapolated): for each wall whose active side the particle is on,
// the pair evaluator E at the wall-to-particle vector d (r^2 = d . d, shifted by V(r_cut)), F += d f, U += V -
// V(r_cut); spheres first, then cylinders, then planes, as HOOMD-blue loops. wall_vector is written once for double
// (the forward map) and dual numbers (the adjoint).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "core/Format.h"
#include "core/Quaternion.h"
#include "engine/Force.h"
#include "engine/evaluators/EvaluatorMath.h"

namespace ha {

struct Wall {
    enum Kind { Sphere = 0, Cylinder = 1, Plane = 2 };  // HOOMD-blue's loop order
    Kind kind = Plane;
    double origin[3] = {0, 0, 0};
    double normal[3] = {0, 0, 1};  // planes: normalised as HOOMD-blue's PlaneWall does; cylinders: the axis
    double r = 0;                  // (spheres, cylinders)
    bool inside = true, open = true;
    Q4<double> to_z = {1, 0, 0, 0};  // (cylinders) the rotation taking the axis to z
};

// [CylinderWall::CylinderWall]: the quaternion that rotates the axis onto z, HOOMD-blue's steps.
inline Q4<double> cylinder_rotation(const double a[3]) {
    const double normVec = std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    double realPart = normVec + (0.0 * a[0] + 0.0 * a[1] + 1.0 * a[2]);
    double w[3];
    if (realPart < 1.0e-6 * normVec) {
        realPart = 0.0;
        w[0] = 0.0, w[1] = -1.0, w[2] = 0.0;
    } else {  // cross((0, 0, 1), a)
        w[0] = 0.0 * a[2] - 1.0 * a[1], w[1] = 1.0 * a[0] - 0.0 * a[2], w[2] = 0.0 * a[1] - 0.0 * a[0];
    }
    const double norm = 1.0 / std::sqrt(realPart * realPart + (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]));
    return {norm * realPart, -(norm * w[0]), -(norm * w[1]), -(norm * w[2])};
}

// [WallData.h distVectorWallToPoint]: the vector from the wall to p, and whether p is on the
// wall's active side.
template <class T>
bool wall_vector(const Wall& w, const T p[3], T d[3]) {
    using std::sqrt;
    if (w.kind == Wall::Plane) {
        const T dist = (w.normal[0] * p[0] + w.normal[1] * p[1] + w.normal[2] * p[2]) -
                       (w.normal[0] * w.origin[0] + w.normal[1] * w.origin[1] + w.normal[2] * w.origin[2]);
        if (value_of(dist) == 0.0) {
            d[0] = d[1] = d[2] = T(0.0);
            return w.open;
        }
        for (int k = 0; k < 3; ++k) d[k] = dist * w.normal[k];
        return value_of(dist) > 0.0;
    }
    T rel[3];
    for (int k = 0; k < 3; ++k) rel[k] = p[k] - w.origin[k];
    if (w.kind == Wall::Cylinder) {  // the radial part in the frame whose z is the axis
        const Q4<T> q = {T(w.to_z.s), T(w.to_z.x), T(w.to_z.y), T(w.to_z.z)};
        T rd[3];
        qrotate(q, rel, rd);
        rd[2] = T(0.0);
        const T e = sqrt(rd[0] * rd[0] + rd[1] * rd[1] + rd[2] * rd[2]);
        if (value_of(e) == 0.0) {
            d[0] = d[1] = d[2] = T(0.0);
            return w.open;
        }
        const T s = 1.0 - w.r / e;
        T dx[3];
        for (int k = 0; k < 3; ++k) dx[k] = s * rd[k];
        qrotate(qconj(q), dx, d);
        const double ev = value_of(e);
        return (ev < w.r && w.inside) || (ev > w.r && !w.inside);
    }
    const T e = sqrt(rel[0] * rel[0] + rel[1] * rel[1] + rel[2] * rel[2]);
    if (value_of(e) == 0.0) {
        d[0] = d[1] = d[2] = T(0.0);
        return w.open;
    }
    const T s = 1.0 - w.r / e;
    for (int k = 0; k < 3; ++k) d[k] = s * rel[k];
    const double ev = value_of(e);
    return (ev < w.r && w.inside) || (ev > w.r && !w.inside);
}

// [onWallForceDirection]: the force's direction for a particle exactly on the wall (r_extrap > 0).
template <class T>
void wall_on_direction(const Wall& w, const T p[3], T d[3]) {
    if (w.kind == Wall::Plane) {
        for (int k = 0; k < 3; ++k) d[k] = T(-w.normal[k]);
        return;
    }
    T rel[3];
    for (int k = 0; k < 3; ++k) rel[k] = w.origin[k] - p[k];
    if (w.kind == Wall::Sphere) {
        for (int k = 0; k < 3; ++k) d[k] = rel[k] / w.r;
        return;
    }
    const Q4<T> q = {T(w.to_z.s), T(w.to_z.x), T(w.to_z.y), T(w.to_z.z)};
    T s[3];
    qrotate(q, rel, s);
    s[2] = T(0.0);
    qrotate(qconj(q), s, d);
    for (int k = 0; k < 3; ++k) d[k] = d[k] / w.r;
}

// [EvaluatorWalls::extrapEvaluator]: within r_extrap of the wall, or past it, the potential
// continued linearly from r_extrap: V(r_x) - V(r_cut) + f(r_x) r_x r', force f(r_x) r_x / r' along
// d, where r' = r_x - r on the active side and r_x + r past the wall.
template <class E, class T, class P, class S>
void wall_extrapolated(const Wall& w, const T p[3], bool active, T d[3], const P* derived, double rcutsq,
                       const S& eshift, double rextrap, T F[3], T& U) {
    using std::sqrt;
    const T rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    T r = sqrt(rsq);
    if (value_of(rsq) == 0.0) {
        active = true;
        wall_on_direction(w, p, d);
    } else {
        const T inv = 1.0 / r;
        for (int k = 0; k < 3; ++k) d[k] = d[k] * inv;
    }
    r = active ? rextrap - r : rextrap + r;
    for (int k = 0; k < 3; ++k) d[k] = d[k] * (active ? r : -r);
    const double rxsq = rextrap * rextrap;
    T f, V;
    if (!(rxsq < rcutsq) || !E::eval(T(rxsq), T(rcutsq), derived, f, V)) return;
    const T energy = (V - eshift) + f * rextrap * r;
    f = f * (rextrap / r);
    if (!std::isfinite(value_of(f))) return;  // (HOOMD-blue adds zeros)
    for (int k = 0; k < 3; ++k) F[k] += d[k] * f;
    U += energy;
}

// One particle's force and energy from every wall: params/derived per its type; with r_extrap > 0,
// HOOMD-blue's extrapolated mode (wall_extrapolated) within r_extrap of a wall and past it.
template <class E, class T, class P, class S>
void wall_particle(const std::vector<Wall>& walls, const T p[3], const P* derived, double rcutsq, const S& eshift,
                   double rextrap, T F[3], T& U) {
    F[0] = F[1] = F[2] = T(0.0);
    U = T(0.0);
    if (!(rcutsq > 0)) return;
    for (int pass = 0; pass < 3; ++pass)  // spheres, cylinders, then planes
        for (const Wall& w : walls) {
            if (int(w.kind) != pass) continue;
            T d[3];
            const bool active = wall_vector(w, p, d);
            if (rextrap > 0.0 && !(active && value_of(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) >= rextrap * rextrap)) {
                wall_extrapolated<E>(w, p, active, d, derived, rcutsq, eshift, rextrap, F, U);
                continue;
            }
            if (!active) continue;
            const T rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if (!(value_of(rsq) < rcutsq)) continue;
            T f, V;
            if (!E::eval(rsq, T(rcutsq), derived, f, V)) continue;
            if (!std::isfinite(value_of(f))) continue;  // a particle on the wall: no force (HOOMD-blue)
            for (int k = 0; k < 3; ++k) F[k] += d[k] * f;
            U += V - eshift;
        }
}

// What Python sets on any wall force.
class WallForce : public Force {
  public:
    virtual void setWalls(std::vector<Wall> walls) = 0;
    virtual void setParams(uint32_t type, const std::vector<double>& p, double rcut, double rextrap) = 0;
};

template <class E>
class WallForceT : public WallForce {
  public:
    void setWalls(std::vector<Wall> walls) override { m_walls = std::move(walls); }
    void setParams(uint32_t type, const std::vector<double>& p, double rcut, double rextrap) override {
        if (p.size() != size_t(E::n_params))
            throw std::invalid_argument(format("wall force: %zu parameters, %d expected", p.size(), E::n_params));
        if (m_params.size() < size_t(type + 1) * E::n_params) {
            m_params.resize(size_t(type + 1) * E::n_params, 0.0);
            m_rcut.resize(type + 1, 0.0);
            m_rextrap.resize(type + 1, 0.0);
        }
        for (int k = 0; k < E::n_params; ++k) m_params[size_t(type) * E::n_params + k] = p[k];
        m_rcut[type] = rcut;
        m_rextrap[type] = rextrap;
        m_dirty = true;
    }
    void prepare(const ParticleData& pd) override {
        if (m_rcut.size() < pd.ntypes) {
            m_params.resize(size_t(pd.ntypes) * E::n_params, 0.0);
            m_rcut.resize(pd.ntypes, 0.0);
            m_rextrap.resize(pd.ntypes, 0.0);
            m_dirty = true;
        }
        if (m_dirty) updateTables();
    }
    void compute(const ParticleData& pd, uint64_t, int) override {
        resize(pd.N);
        prepare(pd);
        for (uint32_t i = 0; i < pd.N; ++i) {
            const uint32_t t = pd.typeid_[i];
            const double* p = &pd.pos[3 * size_t(i)];
            double* F = &force[3 * size_t(i)];
            wall_particle<E>(m_walls, p, &m_derived[size_t(t) * E::n_derived], m_rcutsq[t], m_eshift[t], m_rextrap[t],
                             F, energy[i]);
            if (computeVirial) {
                double* w = &virial[6 * size_t(i)];
                w[0] = F[0] * p[0];
                w[1] = F[0] * p[1];
                w[2] = F[0] * p[2];
                w[3] = F[1] * p[1];
                w[4] = F[1] * p[2];
                w[5] = F[2] * p[2];
            }
        }
    }
    const char* kind() const override { return "wall forces"; }

  protected:
    void updateTables() {
        const size_t nt = m_rcut.size();
        m_derived.assign(nt * E::n_derived, 0.0);
        m_rcutsq.assign(nt, 0.0);
        m_eshift.assign(nt, 0.0);
        for (size_t t = 0; t < nt; ++t) {
            E::derive(&m_params[t * E::n_params], &m_derived[t * E::n_derived]);
            m_rcutsq[t] = m_rcut[t] > 0 ? m_rcut[t] * m_rcut[t] : 0.0;
            double fr = 0, vc = 0;  // HOOMD-blue evaluates walls with energy_shift = true
            if (m_rcutsq[t] > 0 && E::eval(m_rcutsq[t], m_rcutsq[t], &m_derived[t * E::n_derived], fr, vc))
                m_eshift[t] = vc;
        }
        m_dirty = false;
    }
    std::vector<Wall> m_walls;
    std::vector<double> m_params, m_rcut, m_rextrap, m_rcutsq, m_derived, m_eshift;
    bool m_dirty = true;
};

}  // namespace ha
