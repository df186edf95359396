"""The backward pass's checkpoint schedule: binomial checkpointing (Griewank and Walther,
"Algorithm 799: revolve", ACM TOMS 26, 2000), in plain Python that knows nothing of engines.

Steps are numbered 0 .. n-1 from the start of the differentiated window. State k is the state
before step k; state 0, the window's first state, is always stored. Sweeping step k maps the
adjoint after step k to the adjoint before it and reads state k (adjoint.py's engines recompute
the forces from it). :class:`Revolve` says which states the forward run keeps and, after it, in
which order to advance, record, keep, drop and sweep so that every step is swept once, latest
first, with at most ``slots`` states held at once and the fewest steps recomputed.
"""
import math

# The actions of Revolve.backward(), each a tuple (action, step, count):
ADVANCE = "advance"            # load checkpoint `step` and advance `count` steps (nothing kept)
STORE = "store"                # keep the state in hand (state `step`) as a checkpoint
DROP = "drop"                  # checkpoint `step` is no longer needed
RECORD = "record"              # load checkpoint `step`, advance `count` steps keeping the states
                               # after each (states step+1 .. step+count) as one block
SWEEP_BLOCK = "sweep_block"    # sweep steps step+count-1 .. step from that block, then free it
SWEEP_CHECKPOINT = "sweep_checkpoint"  # sweep step `step` from checkpoint `step`
SWEEP_CURRENT = "sweep_current"  # sweep step `step` from the state in hand (just advanced to)
SWEEP_FORWARD = "sweep_forward"  # store-all: sweep steps count-1 .. 0 from the forward run's states


def binomial_reach(s, r):
    """beta(s, r) = C(s + r, s): steps reversible with s checkpoints and r sweeps."""
    return math.comb(s + r, s)


def split(n, s):
    """Where to put the next checkpoint in a segment of n steps whose first state is stored, with
    s more states free: the split of Griewank and Walther that minimises recomputation. With
    c = s + 1 states in all and r the fewest sweeps with beta(c, r) >= n, the right part (which
    keeps c - 1 states) takes at most beta(c - 1, r) steps and the left part at least
    beta(c, r - 2)."""
    c, r = s + 1, 0
    while binomial_reach(c, r) < n:
        r += 1
    return max(1, n - binomial_reach(c - 1, r), binomial_reach(c, r - 2) if r >= 2 else 1)


class Revolve:
    """The schedule reversing ``n`` steps with room for ``slots`` stored states (state 0 among
    them). With ``slots >= n`` every state is stored on the way forward (``full``); otherwise the
    forward run keeps :meth:`checkpoints` (the schedule's right spine, placed while running) and
    :meth:`backward` recomputes the rest from them."""

    def __init__(self, n, slots):
        n, slots = int(n), int(slots)
        if n < 1 or slots < 1:
            raise ValueError(f"Revolve needs n >= 1 steps and slots >= 1 states, got n = {n}, slots = {slots}")
        self.n, self.slots = n, slots
        self.full = slots >= n

    def checkpoints(self):
        """The states the forward run keeps, in order: all n (full), else state 0 and the spine."""
        if self.full:
            return list(range(self.n))
        out, a, s = [0], 0, self.slots - 1
        while s > 0 and a < self.n - 1:
            # the forward run goes on to state n (the loss), which no sweep reads, at no extra
            # cost: the spine is that of n + 1 steps
            a += min(self.n - 1 - a, split(self.n + 1 - a, s))
            out.append(a)
            s -= 1
        return out

    def backward(self):
        """The actions after the forward run (which stored :meth:`checkpoints`), in order; see
        the module's constants. Every step is swept exactly once, latest first."""
        if self.full:
            yield (SWEEP_FORWARD, 0, self.n)
            return
        bounds = self.checkpoints() + [self.n]
        for idx in range(len(bounds) - 2, -1, -1):
            yield from self._reverse(bounds[idx], bounds[idx + 1], self.slots - 1 - idx)
            if idx > 0:
                yield (DROP, bounds[idx], 0)

    def _reverse(self, a, b, s):
        """Reverse steps a .. b-1: state a is stored and s more states may be. (The left part
        is a loop, not a call: the depth is at most s.)"""
        while b > a:
            n = b - a
            if n <= s + 1:  # room for the whole segment: record it, then sweep it
                if n > 1:
                    yield (RECORD, a, n - 1)  # the states a+1 .. b-1
                    yield (SWEEP_BLOCK, a + 1, n - 1)
                yield (SWEEP_CHECKPOINT, a, 1)
                return
            if s == 0:  # no room at all: recompute every state from a
                for t in range(b - 1, a, -1):
                    yield (ADVANCE, a, t - a)
                    yield (SWEEP_CURRENT, t, 1)
                yield (SWEEP_CHECKPOINT, a, 1)
                return
            m = a + split(n, s)
            yield (ADVANCE, a, m - a)
            yield (STORE, m, 0)
            yield from self._reverse(m, b, s - 1)
            yield (DROP, m, 0)
            b = m  # then the left part, with the same room

    def recomputed_steps(self):
        """Steps the backward pass advances (ADVANCE and RECORD), beyond the forward run."""
        return sum(c for act, _, c in self.backward() if act in (ADVANCE, RECORD))

    def forward_steps(self):
        """Steps advanced in all: the forward run's n and the recomputed ones. The fewest there
        are: Griewank and Walther's minimum for n + 1 steps and ``slots`` states (the forward
        run's last step leads to the loss, which no sweep reads)."""
        return self.n + self.recomputed_steps()
