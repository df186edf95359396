// printf-style formatting for error messages (no iostreams: a message must never be the thing
// that fails, whatever C++ runtime the extension ends up loaded beside).
#pragma once
#include <cstdio>
#include <string>

namespace ha {

template <class... A>
std::string format(const char* fmt, A... args) {
    int n = std::snprintf(nullptr, 0, fmt, args...);
    std::string s(size_t(n > 0 ? n : 0), '\0');
    if (n > 0) std::snprintf(&s[0], size_t(n) + 1, fmt, args...);
    return s;
}

}  // namespace ha
