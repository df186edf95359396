// Counter-based random numbers, bit-compatible with HOOMD-blue v4.8.2 (hoomd/RandomNumbers.h):
// Philox4x32-10, keyed by (id, seed, timestep) and counted by particle tag. Nothing is stored:
// the adjoint regenerates the noise of any (seed, timestep, tag) on demand.
#pragma once
#include <cmath>
#include <cstdint>
#include "HostDevice.h"

namespace ha {

namespace rng_id {
constexpr uint8_t TwoStepBD = 24;
constexpr uint8_t TwoStepLangevin = 25;
constexpr uint8_t ParticleGroupThermalize = 35;
constexpr uint8_t BussiThermostat = 45;
}  // namespace rng_id

struct U4 {
    uint32_t v[4];
};

HA_HOSTDEVICE void mulhilo32(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
    uint64_t p = uint64_t(a) * uint64_t(b);
    hi = uint32_t(p >> 32);
    lo = uint32_t(p);
}

// Philox4x32 with 10 rounds (random123).
HA_HOSTDEVICE U4 philox4x32_10(U4 ctr, uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo32(0xD2511F53u, ctr.v[0], hi0, lo0);
        mulhilo32(0xCD9E8D57u, ctr.v[2], hi1, lo1);
        ctr = U4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    }
    return ctr;
}

// HOOMD's RandomGenerator(Seed(id, timestep, seed), Counter(tag)).
class RandomGenerator {
  public:
    HA_HOSTDEVICE RandomGenerator(uint8_t id, uint64_t timestep, uint16_t seed, uint32_t tag) {
        m_k0 = (uint32_t(id) << 24) | (uint32_t(seed) << 8) | uint32_t((timestep >> 32) & 0xff);
        m_k1 = uint32_t(timestep & 0xffffffffu);
        // Counter(a=tag, b=0, c=0, d=0) -> (d<<16, c, b, a)
        m_ctr = U4{{0u, 0u, 0u, tag}};
    }

    HA_HOSTDEVICE U4 operator()() {
        U4 r = philox4x32_10(m_ctr, m_k0, m_k1);
        m_ctr.v[0] += 1;
        return r;
    }

    // Uniform on (a, b]: one block, only its first 64 bits.
    HA_HOSTDEVICE double uniform(double a, double b) {
        U4 u = (*this)();
        uint64_t u64a = (uint64_t(u.v[0]) << 32) | u.v[1];
        return a + (b - a) * u01(u64a);
    }

    // Normal(sigma, mu) by Box-Muller on one block; the cosine is discarded.
    HA_HOSTDEVICE double normal(double sigma, double mu = 0.0) {
        U4 u = (*this)();
        uint64_t u64a = (uint64_t(u.v[0]) << 32) | u.v[1];
        uint64_t u64b = (uint64_t(u.v[2]) << 32) | u.v[3];
        double x = std::sin(M_PI * uneg11(u64a));
        double r = std::sqrt(-2.0 * std::log(u01(u64b)));
        return (x * r) * sigma + mu;
    }

    // Uniform on (0, 1]: HOOMD's detail::generate_canonical<double> (one block, its first 64 bits).
    HA_HOSTDEVICE double canonical() {
        U4 u = (*this)();
        return u01((uint64_t(u.v[0]) << 32) | u.v[1]);
    }

    // Gamma(alpha, b): HOOMD's GammaDistribution<double> (Marsaglia-Tsang with its squeeze test,
    // alpha < 1 boosted by alpha + 1 and a power of a uniform), draw for draw. alpha > 0.
    HA_HOSTDEVICE double gamma(double alpha_in, double b) {
        double alpha = alpha_in;
        if (alpha_in < 1.0) alpha += 1.0;
        const double d = alpha - 1. / 3.;
        const double c = (1.0 / std::sqrt(d)) / 3.;
        double v;
        while (true) {
            double x;
            do {
                x = normal(1.0);
                v = 1.0 + c * x;
            } while (v <= 0.);
            v = v * v * v;
            const double x2 = x * x;
            const double u = canonical();
            if (u < 1.0 - 0.0331 * x2 * x2) break;
            if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) break;
        }
        v *= d * b;
        if (alpha_in < 1.0) v *= std::pow(canonical(), 1.0 / alpha_in);
        return v;
    }

    HA_HOSTDEVICE static double u01(uint64_t u) {
        return double(u) * 5.421010862427522170037264004349708557128906250000000000000000000000e-20  // 2^-64
               + 2.710505431213761085018632002174854278564453125000000000000000000000e-20;           // 2^-65
    }
    HA_HOSTDEVICE static double uneg11(uint64_t u) {
        return double(int64_t(u)) * 1.084202172485504434007452800869941711425781250000000000000000000000e-19  // 2^-63
               + 5.421010862427522170037264004349708557128906250000000000000000000000e-20;                    // 2^-64
    }

    uint32_t key0() const { return m_k0; }
    uint32_t key1() const { return m_k1; }

  private:
    uint32_t m_k0, m_k1;
    U4 m_ctr;
};

}  // namespace ha
