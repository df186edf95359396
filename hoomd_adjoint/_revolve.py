"""The backward pass's checkpoint schedule: binomial checkpointing (Griewank and Walther,
"Algorithm 799: revolve", ACM TOMS 26, 2000), in plain Python that knows nothing of engines.

Steps are numbered 0 .. n-1 from the start of the differentiated window. State k is the state
before step k; state 0, the window's first state, is always stored. Sweeping step k maps the
adjoint after step k to the adjoint before it and reads state k (adjoint.py's engines recompute
the forces from it). :class:`Revolve` says which states the forward run keeps and, after it, in
which order to advance, record, keep, drop and sweep so that every step is swept once, latest
first, with at most ``slots`` states held at once.

What a schedule costs is its recomputed steps and its loads: every ADVANCE and RECORD starts by
loading a checkpoint and recomputing its forces, about one step's work. Griewank and Walther's
split (:func:`split`) recomputes the fewest steps, but with much room it does so in many short
advances; the split that keeps one slot spare (:func:`split_spare`) recomputes more with little
room but records whole segments in one pass. :class:`Revolve` takes whichever costs less.
"""

import functools
import math

# The actions of Revolve.backward(), each a tuple (action, step, count):
ADVANCE = "advance"  # load checkpoint `step` and advance `count` steps (nothing kept)
STORE = "store"  # keep the state in hand (state `step`) as a checkpoint
DROP = "drop"  # checkpoint `step` is no longer needed
RECORD = "record"  # load checkpoint `step`, advance `count` steps keeping the states
# after each (states step+1 .. step+count) as one block
SWEEP_BLOCK = "sweep_block"  # sweep steps step+count-1 .. step from that block, then free it
SWEEP_CHECKPOINT = "sweep_checkpoint"  # sweep step `step` from checkpoint `step`
SWEEP_CURRENT = "sweep_current"  # sweep step `step` from the state in hand (just advanced to)
SWEEP_FORWARD = "sweep_forward"  # store-all: sweep steps count-1 .. 0 from the forward run's states


def binomial_reach(s, r):
    """beta(s, r) = C(s + r, s): steps reversible with s checkpoints and r sweeps."""
    return math.comb(s + r, s)


@functools.lru_cache(maxsize=4096)
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


@functools.lru_cache(maxsize=4096)
def split_spare(n, s):
    """Griewank and Walther's split as if the segment had s states in all, its first among them,
    so one of the s free states stays spare: more recomputed steps than :func:`split` when s is
    small (with s = 1 as many as with none), but segments short enough to be recorded whole, one
    load each, when s is large."""
    if s <= 0:
        return 1
    if s == 1:  # beta(1, r) = r + 1 (spelled out: the search below would take n rounds)
        return max(1, n - 1)
    r = 0
    while binomial_reach(s, r) < n:
        r += 1
    return max(1, n - binomial_reach(s - 1, r))


RULES = ("fewest_steps", "spare_slot")  # split, split_spare


class Revolve:
    """The schedule reversing ``n`` steps with room for ``slots`` stored states (state 0 among
    them). With ``slots >= n`` every state is stored on the way forward (``full``); otherwise the
    forward run keeps :meth:`checkpoints` (the schedule's right spine, placed while running) and
    :meth:`backward` recomputes the rest from them. ``rule``: "fewest_steps" (:func:`split`),
    "spare_slot" (:func:`split_spare`) or None, whichever :meth:`cost` says is cheaper."""

    def __init__(self, n, slots, rule=None):
        n, slots = int(n), int(slots)
        if n < 1 or slots < 1:
            raise ValueError(f"Revolve needs n >= 1 steps and slots >= 1 states, got n = {n}, slots = {slots}")
        if rule is not None and rule not in RULES:
            raise ValueError(f"Revolve rule must be one of {RULES}, got {rule!r}")
        self.n, self.slots = n, slots
        self.full = slots >= n
        self.rule = rule if rule is not None else _cheaper_rule(n, slots)

    def _split(self, n, s):
        return split(n, s) if self.rule == "fewest_steps" else split_spare(n, s)

    def _spine_split(self, n, s):
        if self.rule == "fewest_steps":
            # the forward run goes on to state n (the loss), which no sweep reads, at no extra
            # cost: the spine is that of n + 1 steps
            return min(n - 1, split(n + 1, s))
        return split_spare(n, s)

    def checkpoints(self):
        """The states the forward run keeps, in order: all n (full), else state 0 and the spine."""
        if self.full:
            return list(range(self.n))
        out, a, s = [0], 0, self.slots - 1
        while s > 0 and a < self.n - 1:
            a += self._spine_split(self.n - a, s)
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
        """Reverse steps a .. b-1: state a is stored and s more states may be. (A stack of the
        segments still to reverse, not nested calls: each action is one step of a loop.)"""
        todo = [(a, b, s)]  # segments (a, b, s) and DROP actions, the next on top
        while todo:
            item = todo.pop()
            if item[0] == DROP:
                yield item
                continue
            a, b, s = item
            n = b - a
            if n <= 0:
                continue
            if n <= s + 1:  # room for the whole segment: record it, then sweep it
                if n > 1:
                    yield (RECORD, a, n - 1)  # the states a+1 .. b-1
                    yield (SWEEP_BLOCK, a + 1, n - 1)
                yield (SWEEP_CHECKPOINT, a, 1)
            elif s == 0:  # no room at all: recompute every state from a
                for t in range(b - 1, a, -1):
                    yield (ADVANCE, a, t - a)
                    yield (SWEEP_CURRENT, t, 1)
                yield (SWEEP_CHECKPOINT, a, 1)
            else:  # keep the state at m; reverse m .. b-1 with one state less, then a .. m-1
                m = a + self._split(n, s)
                yield (ADVANCE, a, m - a)
                yield (STORE, m, 0)
                todo += [(a, m, s), (DROP, m, 0), (m, b, s - 1)]

    def cost(self):
        """(recomputed steps, loads): the steps the backward pass advances beyond the forward
        run, and how many times it loads a checkpoint to do so (ADVANCE and RECORD)."""
        steps = loads = 0
        for act, _, c in self.backward():
            if act in (ADVANCE, RECORD):
                steps += c
                loads += 1
        return steps, loads

    def recomputed_steps(self):
        """Steps the backward pass advances (ADVANCE and RECORD), beyond the forward run."""
        return self.cost()[0]

    def forward_steps(self):
        """Steps advanced in all: the forward run's n and the recomputed ones. With the rule
        "fewest_steps", the fewest there are: Griewank and Walther's minimum for n + 1 steps and
        ``slots`` states (the forward run's last step leads to the loss, which no sweep reads)."""
        return self.n + self.recomputed_steps()


@functools.lru_cache(maxsize=256)
def _cheaper_rule(n, slots):
    """The rule whose schedule costs less, a load counted as a step; on a tie, the spare slot's
    (the schedule gradient() ran before both were weighed)."""
    if slots >= n:
        return RULES[1]
    costs = {rule: sum(Revolve(n, slots, rule).cost()) for rule in RULES}
    return min(RULES, key=lambda rule: (costs[rule], rule != RULES[1]))
