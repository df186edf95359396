// How many threads a run of steps uses: all that were asked for, or one, chosen by timing.
//
// Threads pay only when a step's work outweighs waking them and waiting at its barriers, and only
// while the cores are not busy with other processes. Both change (with N, with the load of a
// shared node), so instead of guessing a crossover the governor times blocks of steps, runs with
// the faster choice, and spends a small share of the time re-timing the other: 3% after a change,
// halving (down to 0.1%) each time a re-timing confirms the choice, so a settled run loses little.
// Results never depend on the thread count (every sum has a fixed order), so switching is free.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace ha {

class ThreadGovernor {
  public:
    static constexpr double BLOCK_SECONDS = 1e-2;  // a timed block: long enough to time, short enough to react
    static constexpr double PROBE_SECONDS = 2e-3;  // a re-timing: short, as the other choice may be far slower
    static constexpr double PROBE_SHARE = 0.03;    // time spent re-timing the slower choice, at most
    static constexpr double PROBE_SHARE_SETTLED = 0.001;
    static constexpr double HYSTERESIS = 0.97;  // switch only for a clear gain

    // Run step(k) for k = 0..n-1 with `nthreads` set to the chosen count for each block (and
    // restored afterwards, also on exceptions). step returns true to stop early.
    template <class Step>
    void run(int& nthreads, uint64_t n, Step&& step) {
        const int requested = nthreads;
        if (requested <= 1 || !enabled) {
            for (uint64_t k = 0; k < n; ++k)
                if (step(k)) return;
            return;
        }
        struct Restore {
            int& ref;
            int value;
            ~Restore() { ref = value; }
        } restore{nthreads, requested};
        for (uint64_t k = 0; k < n;) {
            int choice = m_best;
            const int other = 1 - m_best;
            if (m_cost[other] == 0 || m_since_probe * m_share >= m_cost[other] * probeSteps(other)) choice = other;
            const uint64_t want = choice == m_best ? blockSteps(choice) : probeSteps(choice);
            const uint64_t len = std::min<uint64_t>(want, n - k);
            nthreads = choice ? requested : 1;
            const auto t0 = std::chrono::steady_clock::now();
            bool stop = false;
            uint64_t done = 0;
            while (done < len && !stop) stop = step(k + done++);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            record(choice, s, done);
            k += done;
            if (stop) return;
        }
    }

    // The choice in use: 1 (one thread) or the requested count (for diagnostics).
    int preferred(int requested) const { return m_best ? requested : 1; }
    double cost(int one_or_all) const { return m_cost[one_or_all ? 1 : 0]; }
    bool enabled = true;  // off: always the requested count (benchmarks that compare counts)

  private:
    double m_cost[2] = {0, 0};  // seconds per step: [0] one thread, [1] the requested count; 0 = not yet timed
    int m_best = 1;
    double m_since_probe = 0;  // seconds run with the preferred choice since the other was last timed
    double m_share = PROBE_SHARE;
    double m_recent[3] = {0, 0, 0};  // the preferred choice's last blocks, seconds per step
    unsigned m_next = 0;

    uint64_t blockSteps(int c) const {
        return m_cost[c] > 0 ? std::max<uint64_t>(1, uint64_t(BLOCK_SECONDS / m_cost[c])) : 1;
    }
    uint64_t probeSteps(int c) const {
        return m_cost[c] > 0 ? std::max<uint64_t>(1, uint64_t(PROBE_SECONDS / m_cost[c])) : 1;
    }

    void record(int c, double seconds, uint64_t steps) {
        if (steps == 0) return;
        const double per_step = seconds / double(steps);
        // The preferred choice's cost is the least of its last three blocks: a block slowed by a
        // neighbour-list rebuild or a passing process does not flip the choice, while a lasting
        // load raises all three within three blocks. A probe replaces the other's figure.
        if (c == m_best) {
            m_recent[m_next++ % 3] = per_step;
            double least = per_step;
            for (double v : m_recent)
                if (v > 0) least = std::min(least, v);
            m_cost[c] = least;
        } else {
            m_cost[c] = per_step;
        }
        if (c == m_best)
            m_since_probe += seconds;
        else
            m_since_probe = 0;
        const int other = 1 - m_best;
        if (m_cost[other] > 0 && m_cost[other] < HYSTERESIS * m_cost[m_best]) {
            m_best = other;
            m_share = PROBE_SHARE;
            m_recent[0] = m_recent[1] = m_recent[2] = 0;  // its first block replaces the probe's figure
        } else if (c != m_best) {
            m_share = std::max(PROBE_SHARE_SETTLED, 0.5 * m_share);
        }
    }
};

}  // namespace ha
