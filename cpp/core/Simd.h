// The switch between the vectorised host loops and their scalar references. Both give the same
// bits; the scalar path stays selectable (HA_SIMD=0 in the environment, or _core.set_simd) so
// tests can hold one against the other.
#pragma once
#include <cstdlib>

namespace ha {

inline bool& simd_flag() {
    static bool on = [] {
        const char* e = std::getenv("HA_SIMD");
        return !(e && e[0] == '0');
    }();
    return on;
}
inline bool simd_enabled() { return simd_flag(); }

}  // namespace ha
