// Assembly of cluster derivatives from pair jets (PairJet.h). For d = x_a - x_b and s = d.d,
// with V_s, V_ss, V_sss the s-derivatives of the pair energy:
//   dV/dd_i           = 2 V_s d_i
//   d2V/dd_i dd_j     = 2 V_s delta_ij + 4 V_ss d_i d_j
//   d3V/dd_i dd_j dd_k = 4 V_ss (delta_ij d_k + delta_ik d_j + delta_jk d_i) + 8 V_sss d_i d_j d_k
// and a derivative with respect to particles p, q, r in {a, b} carries the sign
// sigma_p sigma_q sigma_r (sigma_a = +1, sigma_b = -1).
#include "adjoint/ClusterDerivatives.h"

#include <stdexcept>

#include "adjoint/PairJet.h"
#include "engine/evaluators/All.h"

namespace ha {
namespace {

template <class T>
double slot(const T& x) {
    if constexpr (std::is_same_v<T, double>)
        return 0.0;
    else
        return x.d[0];
}
template <class T>
double val(const T& x) {
    if constexpr (std::is_same_v<T, double>)
        return x;
    else
        return x.v;
}

template <class E, class T, int K>
void run(const ClusterArgs& a) {
    const uint32_t N = a.N, n = 3 * N, nt = a.ntypes;
    for (uint32_t m = 0; m < a.M; ++m) {
        const double* x = a.x + size_t(m) * n;
        for (uint32_t i = 0; i < N; ++i)
            for (uint32_t j = i + 1; j < N; ++j) {
                const uint32_t ti = a.type[i], tj = a.type[j];
                const double d[3] = {x[3 * i] - x[3 * j], x[3 * i + 1] - x[3 * j + 1], x[3 * i + 2] - x[3 * j + 2]};
                const double rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                Jet<T, K> V;
                if (!pair_jet<E, T, K>(rsq, a.rcutsq[ti * nt + tj], a.params + size_t(ti * nt + tj) * E::n_params,
                                       a.wrt, a.shift, V))
                    continue;
                const uint32_t p[2] = {i, j};
                const double sg[2] = {1.0, -1.0};
                const double Vs = val(V.c[1]);
                if (a.energy) a.energy[m] += val(V.c[0]);
                if (a.grad)
                    for (int s = 0; s < 2; ++s)
                        for (int c = 0; c < 3; ++c) a.grad[size_t(m) * n + 3 * p[s] + c] += sg[s] * 2.0 * Vs * d[c];
                const size_t tp = ti <= tj ? ti * nt + tj : tj * nt + ti;
                if (a.wrt >= 0) {
                    if (a.dE) a.dE[size_t(m) * nt * nt + tp] += slot(V.c[0]);
                    if (a.dG) {
                        double* g = a.dG + (size_t(m) * nt * nt + tp) * n;
                        for (int s = 0; s < 2; ++s)
                            for (int c = 0; c < 3; ++c) g[3 * p[s] + c] += sg[s] * 2.0 * slot(V.c[1]) * d[c];
                    }
                }
                if constexpr (K >= 2) {
                    const double Vss = 2.0 * val(V.c[2]);
                    // the 3x3 block and its parameter derivative, placed with signs
                    auto place = [&](double* H, double s1, double s2) {
                        double blk[3][3];
                        for (int u = 0; u < 3; ++u)
                            for (int v = 0; v < 3; ++v)
                                blk[u][v] = 4.0 * s2 * (d[u] * d[v]) +
                                            (u == v ? 2.0 * s1 : 0.0);  // (d_u d_v): exactly symmetric
                        for (int s = 0; s < 2; ++s)
                            for (int t = 0; t < 2; ++t)
                                for (int u = 0; u < 3; ++u)
                                    for (int v = 0; v < 3; ++v)
                                        H[(3 * p[s] + u) * n + 3 * p[t] + v] += sg[s] * sg[t] * blk[u][v];
                    };
                    if (a.hess) place(a.hess + size_t(m) * n * n, Vs, Vss);
                    if (a.wrt >= 0 && a.dH)
                        place(a.dH + (size_t(m) * nt * nt + tp) * n * n, slot(V.c[1]), 2.0 * slot(V.c[2]));
                    if constexpr (K >= 3) {
                        if (a.third) {
                            const double Vsss = 6.0 * val(V.c[3]);
                            double blk[3][3][3];
                            for (int u = 0; u < 3; ++u)
                                for (int v = 0; v < 3; ++v)
                                    for (int w = 0; w < 3; ++w)
                                        blk[u][v][w] =
                                            8.0 * Vsss * d[u] * d[v] * d[w] +
                                            4.0 * Vss *
                                                ((u == v ? d[w] : 0.0) + (u == w ? d[v] : 0.0) + (v == w ? d[u] : 0.0));
                            double* T3 = a.third + size_t(m) * n * n * n;
                            for (int s = 0; s < 2; ++s)
                                for (int t = 0; t < 2; ++t)
                                    for (int r = 0; r < 2; ++r) {
                                        const double sign = sg[s] * sg[t] * sg[r];
                                        for (int u = 0; u < 3; ++u)
                                            for (int v = 0; v < 3; ++v)
                                                for (int w = 0; w < 3; ++w)
                                                    T3[((3 * p[s] + u) * n + 3 * p[t] + v) * n + 3 * p[r] + w] +=
                                                        sign * blk[u][v][w];
                                    }
                        }
                    }
                }
            }
    }
}

template <class E>
void dispatch(const ClusterArgs& a) {
    if (a.wrt >= E::n_params) throw std::invalid_argument("wrt: parameter index out of range");
    const bool p = a.wrt >= 0;
    switch (a.order) {
        case 1:
            return p ? run<E, Dual<1>, 1>(a) : run<E, double, 1>(a);
        case 2:
            return p ? run<E, Dual<1>, 2>(a) : run<E, double, 2>(a);
        case 3:
            return p ? run<E, Dual<1>, 3>(a) : run<E, double, 3>(a);
        default:
            throw std::invalid_argument("order must be 1, 2 or 3");
    }
}

}  // namespace

void cluster_derivatives(const std::string& potential, const ClusterArgs& a) {
#define HA_CLUSTER(E, NAME) \
    if (potential == NAME) return dispatch<E>(a);
    HA_FOR_EACH_PAIR_EVALUATOR(HA_CLUSTER)
#undef HA_CLUSTER
    throw std::invalid_argument("unknown pair potential '" + potential + "'");
}

}  // namespace ha
