"""Transition rates measured by Brownian MD (the PNAS 2021 paper's Figs. 3C, 4B, 4D), to check the
Kramers rates and the designs.

Replicas of the embedded engine (HOOMD's Brownian update) start in state a. Every snapshot is
mapped to the nearest image of the DNEB path, in the space of the 21 labelled pair distances
(rotation- and translation-invariant, so no alignment is needed). The image index is low-pass
filtered (Butterworth, zero phase) and binarised at the transition-state image; rates are
completed transitions per time spent in the state they leave (the maximum-likelihood estimate
for exponential dwell times, censored dwells included in the time), with standard errors
k / sqrt(n). Snapshots farther than ``off_path`` from every image (the cluster visits a third
state, or falls apart) are cut out: the trajectory is split there and each piece analysed alone.
"""

import dataclasses

import numpy as np

__all__ = [
    "trajectories",
    "pair_distances",
    "path_coordinate",
    "count_transitions",
    "MDRates",
    "md_rates",
    "Escapes",
    "escapes",
]


def trajectories(cluster, x0, steps, every, replicas, kT=1.0, gamma=1.0, dt=1e-4, seed=0, threads=2, progress=False):
    """Positions (replicas, frames, N, 3) every ``every`` steps (wrapped into the box; pair
    distances use the minimum image) of Brownian runs from x0, replica r seeded ``seed + r``."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    frames = steps // every
    out = np.empty((replicas, frames, cluster.N, 3))
    bar = tqdm(total=replicas * frames, disable=not progress, desc="MD", unit="frame")

    def one(r):
        sim = cluster.simulation(x0, kT=kT, dt=dt, gamma=gamma, seed=seed + r)
        sim.run(0)
        cpp = sim.state._cpp
        for f in range(frames):
            cpp.advance(every)
            out[r, f] = cpp.position
            if f % 1000 == 999:
                bar.update(1000)
        bar.update(frames % 1000)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
        list(ex.map(one, range(replicas)))
    bar.close()
    return out


def pair_distances(x, box=None):
    """Labelled pair distances (..., N(N-1)/2) of configurations (..., N, 3), minimum image in a
    cubic box of side ``box`` when given."""
    x = np.asarray(x, dtype=np.float64)
    i, j = np.triu_indices(x.shape[-2], 1)
    d = x[..., i, :] - x[..., j, :]
    if box is not None:
        d -= box * np.round(d / box)
    return np.linalg.norm(d, axis=-1)


def path_coordinate(frames, images, box=None):
    """(index of the nearest image, distance to it) for each frame, in pair-distance space."""
    from scipy.spatial import cKDTree

    ref = pair_distances(np.reshape(images, (len(images), -1, 3)))
    dist, idx = cKDTree(ref).query(pair_distances(frames, box).reshape(-1, ref.shape[1]))
    return idx.reshape(np.shape(frames)[:-2]), dist.reshape(np.shape(frames)[:-2])


def count_transitions(state, frame_time):
    """From a binary signal (True = b): (n_ab, n_ba, time in a, time in b)."""
    state = np.asarray(state, dtype=bool)
    flips = np.flatnonzero(state[1:] != state[:-1])
    n_ab = int(np.sum(~state[flips]))
    n_ba = int(len(flips) - n_ab)
    return n_ab, n_ba, float(np.sum(~state) * frame_time), float(np.sum(state) * frame_time)


@dataclasses.dataclass
class MDRates:
    """Rates from MD: ``k_ab``, ``k_ba`` with standard errors ``se_ab``, ``se_ba``; transition
    counts, times, the fraction of snapshots off the path, and the filter cutoff (1/time)."""

    k_ab: float
    k_ba: float
    se_ab: float
    se_ba: float
    n_ab: int
    n_ba: int
    time_a: float
    time_b: float
    off_path: float
    cutoff: float

    def summary(self):
        return dataclasses.asdict(self)


def md_rates(coordinate, distance, ts, frame_time, cutoff, off_path=0.6, order=4):
    """Rates from path coordinates (replicas, frames) and their distances to the path.

    Args:
        ts: image index of the transition state (the binarisation threshold).
        frame_time: time between snapshots.
        cutoff: Butterworth cutoff frequency (1/time), below the Nyquist frequency.
        off_path: largest pair-distance-space distance (sigma) of an on-path snapshot.
        order: Butterworth order.
    """
    from scipy.signal import butter, filtfilt

    nyquist = 0.5 / frame_time
    if not 0 < cutoff < nyquist:
        raise ValueError(f"cutoff = {cutoff} must lie in (0, {nyquist}) (the Nyquist frequency of the snapshots)")
    b, a = butter(order, cutoff / nyquist)
    pad = 3 * (order + 1)
    n_ab = n_ba = 0
    t_a = t_b = 0.0
    off = 0
    for s, d in zip(np.atleast_2d(coordinate), np.atleast_2d(distance)):
        good = d <= off_path
        off += int(np.sum(~good))
        # on-path pieces: runs of consecutive good snapshots
        edges = np.flatnonzero(np.diff(np.r_[0, good.astype(int), 0]))
        for lo, hi in zip(edges[::2], edges[1::2]):
            if hi - lo <= pad:
                continue
            smooth = filtfilt(b, a, s[lo:hi].astype(np.float64))
            c = count_transitions(smooth > ts, frame_time)
            n_ab, n_ba, t_a, t_b = n_ab + c[0], n_ba + c[1], t_a + c[2], t_b + c[3]
    k_ab = n_ab / t_a if t_a else np.nan
    k_ba = n_ba / t_b if t_b else np.nan
    return MDRates(
        k_ab,
        k_ba,
        k_ab / np.sqrt(max(n_ab, 1)),
        k_ba / np.sqrt(max(n_ba, 1)),
        n_ab,
        n_ba,
        t_a,
        t_b,
        off / np.size(distance),
        cutoff,
    )


# aligned RMSD (sigma) below which a relaxed snapshot is in a known state's basin: FIRE to 1e-3
# leaves ~1e-5 at alpha = 5 and 40; distinct states differ by ~0.1 or more
SAME_BASIN = 1e-2


@dataclasses.dataclass
class Escapes:
    """First exits of Brownian replicas from a state: ``times`` (time of each replica's first
    exit, or its whole run when it stayed), ``outcome`` ("target", "other" or "stayed"), and the
    rate to the target, k = n_target / total time (competing exits censor), with standard error
    k / sqrt(n_target)."""

    times: np.ndarray
    outcome: list

    @property
    def n_target(self):
        return sum(o == "target" for o in self.outcome)

    @property
    def n_other(self):
        return sum(o == "other" for o in self.outcome)

    @property
    def rate(self):
        return self.n_target / float(np.sum(self.times))

    @property
    def se(self):
        return self.rate / np.sqrt(max(self.n_target, 1))

    def summary(self):
        return dict(
            rate=self.rate,
            se=self.se,
            replicas=len(self.outcome),
            n_target=self.n_target,
            n_other=self.n_other,
            n_stayed=sum(o == "stayed" for o in self.outcome),
            time=float(np.sum(self.times)),
        )


def escapes(
    cluster,
    start,
    target,
    replicas,
    max_steps,
    every=50,
    kT=1.0,
    gamma=1.0,
    dt=1e-4,
    seed=0,
    threads=2,
    trigger=1.3,
    commit=1000,
    progress=False,
):
    """First exits from state ``start`` by Brownian MD (competing-risk rates).

    Each replica (seed ``seed + r``) runs until its first exit or ``max_steps``. Every ``every``
    steps the contact graph at distance ``trigger`` is compared with the start's; when it
    differs, the snapshot is quenched; when the quench lands in another state, the run goes on
    ``commit`` steps and is quenched again, and the exit counts only if it has not come back
    (overdamped paths recross the dividing surface many times; counting first crossings seen
    at a snapshot interval overestimates the rate). The exit goes to ``target`` (same labelled
    contact graph and handedness) or to another state, at the first snapshot's time
    (resolution every * dt). Returns :class:`Escapes`.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    from ...transitions import geometry
    from .packings import contact_graph, handedness, state_contacts

    def key(x):
        return state_contacts(cluster, x), handedness(x)

    start = np.asarray(start, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    k0, kt = key(start), key(target)

    def basin(x):
        """Where a snapshot relaxes to: "start", "target" or "other". Most triggers are thermal
        stretches that relax back into the start: FIRE to 1e-3 and an aligned RMSD tell them
        apart in one relaxation; anything else is named by full minimisation and its contacts."""
        y = cluster.relax(x)
        for name, ref in (("start", start), ("target", target)):
            if geometry.rmsd(y, ref) < SAME_BASIN:
                return name
        k = key(cluster.minimize(y))
        return "start" if k == k0 else "target" if k == kt else "other"

    g0 = contact_graph(start, trigger)
    times, outcome = np.zeros(replicas), ["stayed"] * replicas
    bar = tqdm(total=replicas, disable=not progress, desc="escapes")
    box = 40.0

    def one(r):
        sim = cluster.simulation(start, kT=kT, dt=dt, gamma=gamma, seed=seed + r, box=box)
        sim.run(0)
        cpp = sim.state._cpp
        steps = 0
        while steps < max_steps:
            cpp.advance(every)
            steps += every
            x = np.array(cpp.position)
            x = x - box * np.round((x - x[0]) / box)  # whole cluster, minimum image
            if contact_graph(x, trigger) == g0:
                continue
            where = basin(x)
            if where == "start":
                continue
            # committed? a snapshot just past the dividing surface often recrosses (overdamped
            # paths cross it many times): run on for `commit` steps and quench again
            cpp.advance(commit)
            y = np.array(cpp.position)
            if basin(y - box * np.round((y - y[0]) / box)) == "start":
                steps += commit
                continue  # it came back: not an exit
            times[r], outcome[r] = steps * dt, where
            break
        else:
            times[r] = steps * dt
        bar.update()

    with ThreadPoolExecutor(max_workers=max(1, threads)) as ex:
        list(ex.map(one, range(replicas)))
    bar.close()
    return Escapes(times, outcome)
