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
inline bool simd_enabled() {
    return simd_flag();
}

// Above this many particles the vectorised force pass evaluates every pair from both sides
// rather than once through a pair buffer (HA_FULL_LIST_ABOVE overrides; for measurements).
inline uint32_t env_count(const char* name, uint32_t fallback) {
    const char* e = std::getenv(name);
    return e ? uint32_t(std::strtoul(e, nullptr, 10)) : fallback;
}
inline uint32_t& full_list_above() {
    static uint32_t n = env_count("HA_FULL_LIST_ABOVE", 4000);
    return n;
}

// Above this many particles the full-list force pass runs over a copy in the neighbour list's
// spatial order (HA_SPATIAL_ABOVE overrides; for measurements).
inline uint32_t& spatial_above() {
    static uint32_t n = env_count("HA_SPATIAL_ABOVE", 30000);
    return n;
}

}  // namespace ha
