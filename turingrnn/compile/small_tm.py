"""The ``small`` construction: the compact Turing machine network with a searched layout.

The compact construction (:mod:`turingrnn.compile.compact_tm`) gives every working state
``q`` its own detectors ``state:q`` and ``top:R>=j@q``: ``Q k`` phase-1 neurons.
Phase 0 only needs a few linear functions of them: per move the gate, the
written digit, each next-state bit and the scanned index. Write ``f(q, a)`` for
one of them in state ``q`` scanning index ``a``; it is the sum of a *level 0*
part ``f(q, 0)`` and, for ``j = 1 .. k-1``, a *level j* part
``f(q, j) - f(q, j-1)`` that is switched on by "scanned index ``>= j``". A level
needs detectors whose indicator vectors over the working states span its
parts: at least the rank of those parts, and often fewer than ``Q``.

Three choices change the parts and the detectors that are available:

* the digit order of the non-blank symbols (the blank keeps digit 0);
* the binary state codes (code 0 is the undefined-transition code, so the
  network goes quiet on a missing transition, and the idle phase reads it);
* the detectors: at level 0 any threshold function ``[w . code >= t]`` with
  ``t >= 1`` (quiet at code 0); at level ``j`` any face ``{w . code = t}`` of the
  hull of the codes and 0 (the gate ``B (w . code - t)`` is 0 on the face and
  ``<= -B`` elsewhere, which :class:`~turingrnn.compile.compact_tm.Detector` needs).

:func:`search` scores every (digit order, state code) pair by the sum of
the ranks (a lower bound), then for the best pairs finds the fewest detectors
per level: with ``V`` the span a level needs and ``r = dim V``, some ``r + e``
detectors span a space containing ``V`` exactly when, for some ``e`` further
directions ``E``, the detectors inside ``V + E`` span it. The count is exact
up to ``e = MAX_EXTRA`` and ``MAX_COMBOS`` sets of directions per ``e``
(beyond, the level takes one detector per state), and the pairs are counted
in order of their bound until the bound cannot improve on the best, or
``PATIENCE`` pairs in a row did not. The network
is then :func:`turingrnn.compile.compact_tm.build_plan` of the best plan, with
coefficients solved exactly; ``prove`` certifies it like any compact network.

>>> from turingrnn.machines.parsing import load_machine
>>> from turingrnn.compile.compiler import compile_machine
>>> compile_machine(load_machine("minsky_7_4"), construction="small").size
33
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import CompileError
from ..machines.model import TuringMachine
from .compact_tm import Detector, Plan, build_plan, components, tape_alphabet
from .gadgets import StreamHook
from .network import Built

MAX_CONFIGS = 200_000
"""How many (digit order, state code) pairs the rank bound scores; more are sampled (seed 0)."""

MAX_ORDERS = 720
"""How many digit orders are scored (all of them up to 7 symbols; a seeded sample beyond)."""

MAX_COVERS = 400
"""How many of the best-scored pairs get the exact detector count, at most."""

PATIENCE = 50
"""The count stops after this many pairs in a row that do not improve on the best."""

MAX_WEIGHT = 2
"""Detector weights on the code bits range over ``-MAX_WEIGHT .. MAX_WEIGHT``."""

MAX_EXTRA = 3
"""The most directions outside a level's span that the detector count tries; then it takes one detector per state."""

MAX_COMBOS = 2_000
"""How many sets of extra directions the detector count tries per number of directions."""

_TOL = 1e-9


def build(tm: TuringMachine, hook: StreamHook | None = None) -> Built:
    """Build the small network of ``tm``: its neurons, readout, preload and ticks per step."""
    if not isinstance(tm, TuringMachine):
        raise CompileError(f"the small construction needs a TuringMachine, got {type(tm).__name__}")
    return build_plan(tm, search_plan(tm), hook)


@dataclass(frozen=True)
class Search:
    """What :func:`search` found: the plan and how far it is from the rank bound.

    ``layouts`` (digit order, state code) pairs were scored; ``bound`` is the
    smallest rank sum among them, a lower bound on the detectors of *any*
    network of this family over those layouts (each level needs at least the
    rank of its parts); ``ranks`` and ``counts`` are the per-level rank and
    detector count of the chosen plan; ``covered`` layouts got the exact count.
    """

    plan: Plan
    layouts: int
    bound: int
    ranks: tuple[int, ...]
    counts: tuple[int, ...]
    covered: int


def search_plan(tm: TuringMachine) -> Plan:
    """The plan with the fewest detectors found (deterministic; cached per machine)."""
    return search(tm).plan


@functools.lru_cache(maxsize=64)
def search(tm: TuringMachine, max_configs: int = MAX_CONFIGS, max_covers: int = MAX_COVERS) -> Search:
    """Score every layout by its rank bound, then count detectors exactly for the best ones."""
    working = [q for q in tm.states if q not in tm.halting_states]
    nbits = len(tm.states).bit_length()
    missing = any(tm.rule(q, a) is None for q in working for a in tm.symbols)
    undefined = 0 if missing else None
    if not working:  # every state halts: nothing to detect
        plan = Plan(tape_alphabet(tm), tuple((q, i + 1) for i, q in enumerate(tm.states)), undefined, nbits, ())
        return Search(plan, 1, 0, (0,) * len(plan.symbols), (0,) * len(plan.symbols), 0)
    scored: list[tuple[int, int, tuple[str, ...], tuple[int, ...]]] = []
    for order in _orders(tm, max_configs):
        assignments = _assignments(len(tm.states), nbits, max(1, max_configs // _count_orders(tm, max_configs)))
        fixed = _fixed_parts(tm, order, working)
        bounds = _rank_bounds(assignments, nbits, fixed)
        scored.extend((int(s), len(scored) + i, order, tuple(assignments[i])) for i, s in enumerate(bounds))
    scored.sort(key=lambda t: (t[0], t[1]))
    best: Plan | None = None
    covered = since = 0
    for bound, _, order, assignment in scored[:max_covers]:
        if best is not None and (bound >= len(best.detectors) or since >= PATIENCE):
            break
        codes = tuple(zip(tm.states, (int(c) for c in assignment), strict=True))
        plan = _cover_plan(tm, Plan(order, codes, undefined, nbits, ()), working)
        covered += 1
        since += 1
        if best is None or len(plan.detectors) < len(best.detectors):
            best, since = plan, 0
    assert best is not None
    ranks = tuple(_rank(part) for part in _level_parts(plan_values(tm, best, working)))
    counts = tuple(sum(d.level == j for d in best.detectors) for j in range(len(best.symbols)))
    return Search(best, len(scored), scored[0][0], ranks, counts, covered)


def _count_orders(tm: TuringMachine, max_configs: int) -> int:
    return min(math.factorial(len(tm.symbols) - 1), max_configs, MAX_ORDERS)


def _orders(tm: TuringMachine, max_configs: int) -> Iterator[tuple[str, ...]]:
    """Digit orders with the blank first: all of them, or a seeded sample when there are too many."""
    base = tape_alphabet(tm)
    count = _count_orders(tm, max_configs)
    if count == math.factorial(len(base) - 1):
        for rest in itertools.permutations(base[1:]):
            yield (base[0], *rest)
        return
    rng = np.random.default_rng(0)
    yield base
    for _ in range(count - 1):
        yield (base[0], *(base[1:][i] for i in rng.permutation(len(base) - 1)))


def _assignments(states: int, nbits: int, cap: int) -> np.ndarray:
    """Injective maps of the states to the nonzero ``nbits``-bit codes (all, or a seeded sample)."""
    codes = range(1, 2**nbits)
    total = math.perm(len(codes), states)
    if total <= cap:
        return np.array(list(itertools.permutations(codes, states)), dtype=np.int64).reshape(-1, states)
    rng = np.random.default_rng(0)
    rows = [np.arange(1, states + 1)] + [rng.permutation(len(codes))[:states] + 1 for _ in range(cap - 1)]
    return np.array(rows, dtype=np.int64)


def _fixed_parts(tm: TuringMachine, order: tuple[str, ...], working: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code-independent components per (working state, index), and the next state's position (-1: none)."""
    plan = Plan(order, tuple((q, 1) for q in tm.states), 0, 1, ())
    names, table = components(tm, plan)
    keep = [c for c, name in enumerate(names) if not name.startswith("bit:")]
    where = {q: i for i, q in enumerate(tm.states)}
    k = len(order)
    values = np.array([[[table[q, a][c] for q in working] for a in range(k)] for c in keep], dtype=np.float64)
    nxt = np.full((k, len(working)), -1, dtype=np.int64)
    for s, q in enumerate(working):
        for a, sym in enumerate(order):
            rule = tm.rule(q, sym)
            if rule is not None:
                nxt[a, s] = where[rule.next]
    return values, nxt


def _level_parts(values: np.ndarray) -> list[np.ndarray]:
    """Per level, the parts (``[..., component, index, state]`` -> ``[..., component, state]``)."""
    parts = [values[..., 0, :]]
    parts += [values[..., j, :] - values[..., j - 1, :] for j in range(1, values.shape[-2])]
    return parts


def _all_values(fixed: tuple[np.ndarray, np.ndarray], assignments: np.ndarray, nbits: int) -> np.ndarray:
    """Every component per assignment: ``[assignment, component, index, state]``."""
    values, nxt = fixed
    codes = np.where(nxt[None] >= 0, assignments[:, np.maximum(nxt, 0)], 0)  # undefined code 0
    bits = np.stack([(codes >> b) & 1 for b in range(nbits)], axis=1).astype(np.float64)
    head = np.broadcast_to(values[None, :-1], (len(assignments), *values[:-1].shape))
    index = np.broadcast_to(values[None, -1:], (len(assignments), 1, *values.shape[1:]))
    return np.concatenate([head, bits, index], axis=1)


def _rank_bounds(assignments: np.ndarray, nbits: int, fixed: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per assignment, the sum over levels of the rank of the level's parts."""
    total = np.zeros(len(assignments), dtype=np.int64)
    for part in _level_parts(_all_values(fixed, assignments, nbits)):
        total += np.linalg.matrix_rank(part)
    return total


def plan_values(
    tm: TuringMachine, plan: Plan, working: list[str], missing: Mapping[tuple[str, str], tuple[str, str]] | None = None
) -> np.ndarray:
    """The components (:func:`~.compact_tm.components`) of ``plan``'s layout: ``[component, index, state]``."""
    names, table = components(tm, plan, missing)
    k = len(plan.symbols)
    return np.array([[[table[q, a][c] for q in working] for a in range(k)] for c in range(len(names))], float)


def _cover_plan(tm: TuringMachine, plan: Plan, working: list[str]) -> Plan:
    """``plan`` with the fewest detectors per level for its order and codes."""
    values = plan_values(tm, plan, working)
    codes = dict(plan.codes)
    vecs = _bits([codes[q] for q in working], plan.nbits)
    hull = _bits([0, *codes.values()], plan.nbits)
    options = (_thresholds(vecs, plan.nbits), _faces(vecs, hull, plan.nbits))
    detectors: list[Detector] = []
    for level, part in enumerate(_level_parts(values)):
        found = options[min(level, 1)]
        for i in _fewest(part, [vec for vec, _ in found]):
            vec, (w, t) = found[i]
            states = tuple(q for q, on in zip(working, vec, strict=True) if on)
            detectors.append(Detector(level, w, t, states))
    return Plan(plan.symbols, plan.codes, plan.undefined, plan.nbits, tuple(detectors))


def _bits(codes: list[int], nbits: int) -> np.ndarray:
    return np.array([[(c >> b) & 1 for b in range(nbits)] for c in codes], dtype=np.int64)


@functools.cache
def _weights(nbits: int) -> np.ndarray:
    """Weight vectors, smallest first (so the first detector found for a set has the smallest weights)."""
    ws = itertools.product(range(-MAX_WEIGHT, MAX_WEIGHT + 1), repeat=nbits)
    return np.array(sorted(ws, key=lambda w: (sum(map(abs, w)), [-x for x in w])), dtype=np.int64)


Options = list[tuple[tuple[int, ...], tuple[tuple[int, ...], int]]]


def _thresholds(vecs: np.ndarray, nbits: int) -> Options:
    """Level-0 detectors: distinct nonempty sets ``[w . code >= t]``, ``t >= 1``, with their ``(w, t)``."""
    ws = _weights(nbits)
    dots = ws @ vecs.T
    seen: dict[tuple[int, ...], tuple[tuple[int, ...], int]] = {}
    for w, row in zip(ws, dots, strict=True):
        for t in range(1, int(row.max()) + 1):
            seen.setdefault(tuple((row >= t).astype(int).tolist()), (tuple(w.tolist()), t))
    return list(seen.items())


def _faces(vecs: np.ndarray, hull: np.ndarray, nbits: int) -> Options:
    """Level-j detectors: distinct nonempty faces ``w . code = t`` (``t`` the maximum over ``hull``)."""
    ws = _weights(nbits)
    tops = (ws @ hull.T).max(axis=1)
    on = (ws @ vecs.T) == tops[:, None]
    seen: dict[tuple[int, ...], tuple[tuple[int, ...], int]] = {}
    for w, t, row in zip(ws, tops, on, strict=True):
        if row.any():
            seen.setdefault(tuple(row.astype(int).tolist()), (tuple(w.tolist()), int(t)))
    return list(seen.items())


def _rank(rows: Sequence[Sequence[float]] | np.ndarray) -> int:
    return int(np.linalg.matrix_rank(np.asarray(rows, dtype=np.float64))) if len(rows) else 0


def _fewest(part: np.ndarray, options: list[tuple[int, ...]]) -> list[int]:
    """Indices of the fewest options whose span contains every row of ``part``."""
    r = _rank(part)
    if r == 0:
        return []
    feats = np.array(options, dtype=np.float64)
    basis = np.linalg.svd(part)[2][:r]
    proj = feats - feats @ basis.T @ basis  # the part of each option outside V
    norms = np.linalg.norm(proj, axis=1)
    inside = [i for i in range(len(options)) if norms[i] <= _TOL]
    # options outside V, grouped by the line their projection spans
    lines: dict[tuple[float, ...], list[int]] = {}
    for i in np.flatnonzero(norms > _TOL):
        u = proj[i] / norms[i]
        u = u if u[np.flatnonzero(np.abs(u) > _TOL)[0]] > 0 else -u
        lines.setdefault(tuple(np.round(u, 9).tolist()), []).append(int(i))
    keys = list(lines)
    units = np.array(keys, dtype=np.float64).reshape(len(keys), part.shape[1])
    dims = part.shape[1]
    for extra in range(min(dims - r, MAX_EXTRA + 1)):
        for combo in itertools.islice(itertools.combinations(range(len(keys)), extra), MAX_COMBOS):
            members = list(inside)
            if extra:
                q, sv, _ = np.linalg.svd(units[list(combo)].T, full_matrices=False)
                if sv[-1] <= _TOL:
                    continue  # the directions are dependent
                rest = np.linalg.norm(units - units @ q @ q.T, axis=1)
                members += [i for c in np.flatnonzero(rest <= 1e-7) for i in lines[keys[c]]]
            if _rank(feats[members]) == r + extra:
                return _independent(feats, sorted(members), r + extra)
    return _independent(feats, list(range(len(options))), dims)  # the point detectors span everything


def _independent(feats: np.ndarray, members: list[int], size: int) -> list[int]:
    """The first ``size`` independent rows among ``members``, in order."""
    chosen: list[int] = []
    for i in members:
        if _rank(feats[chosen + [i]]) > len(chosen):
            chosen.append(i)
        if len(chosen) == size:
            break
    return chosen
