"""The float core's plan: a network as the kernels' arrays for one dtype, with the constants of its error bounds.

:func:`_plan` writes the rows as CSR arrays of float weights and bound
weights, the exact head of each row (the terms whose float sum is exact), the
rounding constants of each row's bound, the rows live in each phase, the
readout's stacks (terms, bases, powers) and the state table. Plans are cached
per network and dtype (:func:`_cached_plan`). The bounds are explained in
:mod:`turingrnn.engines.fast`.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..compile.encoding import base_of
from ..compile.network import Network
from ..errors import InputError
from .exact_engine import idle_neurons
from .fast_kernels import _INVALID, _ONE_PLUS
from .trace import code_actions


def _up(x: Fraction | float) -> float:
    """A float64 upper bound of ``x >= 0``."""
    return float(x) * _ONE_PLUS + 2.0**-1070 if x else 0.0


def _gamma(m: int, u: float) -> float:
    """Higham's ``gamma_m = m u / (1 - m u)``: the relative error bound of a sum of ``m`` rounded operations."""
    return m * u / (1 - m * u)


def _exact_head(net: Network, i: int, row: Sequence[tuple[int, Fraction]], line: Sequence[Any], dt: np.dtype) -> int:
    """How many leading terms of row ``i`` (binary inputs first) sum exactly in ``dt``, with the bias and input line.

    The head is the bias, the terms of binary inputs (exactly 0 or 1: binary
    neurons are snapped to their certified value) and the input line's weights.
    When all of these are floats of ``dt`` on a grid ``2**-k`` with ``(|b| +
    sum |w|) 2**k < 2**p``, every partial sum of the head is a multiple of
    ``2**-k`` of at most ``p`` bits, so its float sum is the exact sum and only
    the analog terms after it round. Returns the number of binary terms, or -1
    when the head is not exact (then every term counts in the bound).
    """
    binary = [w for j, w in row if net.binary[j]]
    weights = [net.b[i], *binary, *(w for _, w in line)]
    if any(Fraction(float(dt.type(x))) != x for x in weights):
        return -1
    k = max(x.denominator.bit_length() - 1 for x in weights)
    if sum(abs(x) for x in weights) * 2**k >= 2 ** (np.finfo(dt).nmant + 1):
        return -1
    return len(binary)


def _tail_terms(head: int, terms: int, line: bool) -> int:
    """The rounded terms of a row after its exact head (all of them, the input line too, if the head is not exact)."""
    return terms - head if head >= 0 else terms + line


def _row_gamma(terms: int, u: float) -> float:
    """A bound of the relative rounding error of a row's float sum with ``terms`` rounded terms after its head.

    Higham's ``gamma_m = m u / (1 - m u)`` for ``m = 2 terms + 5`` (products and sums,
    with room for the head and the input line), rounded up.
    """
    return _gamma(2 * terms + 5, u) * _ONE_PLUS


@dataclass(frozen=True)
class _StackPlan:
    """How one readout stack is read in the kernel and decoded from its certified code."""

    name: str
    base: int
    terms: tuple[tuple[int, Fraction], ...]
    const: Fraction


@dataclass
class _Plan:
    """A network as the kernels' arrays, for one dtype."""

    net: Network
    dtype: np.dtype
    arrays: dict[str, Any]
    skip_ok: bool
    safe_off_phase: np.ndarray
    stacks: tuple[_StackPlan, ...]
    lines: dict[str, int]
    generated: dict[tuple[bool, int], Any] = field(default_factory=dict)


def _plan(net: Network, dtype: np.dtype) -> _Plan:
    """The arrays of ``net``'s rows, bounds, readout and state table (see the module docs for the bounds)."""
    n, T = net.size, net.ticks_per_step
    u = float(np.finfo(dtype).eps) / 2
    rows, lines = net.rows(), net.input_rows()
    rows = [sorted(row, key=lambda t: not net.binary[t[0]]) for row in rows]  # binary inputs first
    heads = [_exact_head(net, i, rows[i], lines[i], dtype) for i in range(n)]
    indptr, cols, w, a, b, c0, kap = [0], [], [], [], [], [], []
    aw = []
    for i in range(n):
        for j, wt in rows[i]:
            fw = Fraction(float(dtype.type(wt)))
            cols.append(j)
            w.append(fw)
            a.append(_up(abs(wt)))
            aw.append(_up(abs(fw)))
        indptr.append(len(cols))
        fb = Fraction(float(dtype.type(net.b[i])))
        const = abs(fb - net.b[i])
        for _, wt in lines[i]:
            const += abs(Fraction(float(dtype.type(wt))) - wt)
        b.append(fb)
        c0.append(_up(const))
        kap.append(1.0 + (4 * len(rows[i]) + 16) * 2.0**-52)
    uptr, ucols, uw = [0], [], []
    for i in range(n):
        for k, wt in lines[i]:
            ucols.append(k)
            uw.append(float(dtype.type(wt)))
        uptr.append(len(ucols))
    safe = set(idle_neurons(net)) if net.input_mode == "preloaded" else set()
    live = [[i for i, label in enumerate(net.labels) if label not in safe or net.phase[i] == ph] for ph in range(T)]
    lptr = np.cumsum([0] + [len(x) for x in live])
    f64, i64 = np.float64, np.int64
    arrays: dict[str, Any] = {
        "T": T,
        "indptr": np.array(indptr, i64),
        "cols": np.array(cols, i64),
        "w": np.array([float(x) for x in w], dtype),
        "a": np.array(a, f64),
        "b": np.array([float(x) for x in b], dtype),
        "c0": np.array(c0, f64),
        "kap": np.array(kap, f64),
        "binary": np.array(net.binary, np.bool_),
        "uptr": np.array(uptr, i64),
        "ucols": np.array(ucols, i64),
        "uw": np.array(uw, dtype),
        "lptr": np.array(lptr, i64),
        "lrows": np.array([i for x in live for i in x], i64),
        "allrows": np.arange(n, dtype=i64),
        "aw": np.array(aw, f64),
        "head": np.array(heads, np.int64),
        "G": np.array([_row_gamma(_tail_terms(heads[i], len(rows[i]), bool(lines[i])), u) for i in range(n)]),
    }
    stacks = _stack_arrays(net, arrays)
    arrays |= _state_arrays(net)
    safe_off = np.array([label in safe and net.phase[i] != 0 for i, label in enumerate(net.labels)], np.bool_)
    return _Plan(net, dtype, arrays, bool(safe), safe_off, stacks, {x: k for k, x in enumerate(net.inputs)})


def _stack_arrays(net: Network, arrays: dict[str, Any]) -> tuple[_StackPlan, ...]:
    """The readout's stacks: terms, bases, digit parity and the powers of each base."""
    plans, ptr, cols, coef, acoef, gam, carrier, bases, odd, kmax = [], [0], [], [], [], [], [], [], [], []
    for readout in net.readout.stacks:
        terms = tuple((net.index(label), c) for label, c in readout.value.terms)
        for _, c in terms:
            if Fraction(float(c)) != c:
                raise InputError(f"run_float needs float readout coefficients; stack {readout.name!r} has {c}")
        if readout.value.const:
            raise InputError(f"run_float needs readouts without a constant; stack {readout.name!r} has one")
        plans.append(_StackPlan(readout.name, base_of(readout.alphabet), terms, readout.value.const))
        cols += [j for j, _ in terms]
        coef += [float(c) for _, c in terms]
        acoef += [_up(abs(c)) * _ONE_PLUS for _, c in terms]
        ptr.append(len(cols))
        gam.append(_gamma(2 * len(terms) + 2, 2.0**-53))
        carrier.append(all(c == 1 for _, c in terms))
        bases.append(base_of(readout.alphabet))
        odd.append(1 if readout.kind == "stack" else 0)
        k = 0
        while bases[-1] ** (k + 1) < 2**62 and float(bases[-1] ** (k + 1)) == bases[-1] ** (k + 1):
            k += 1
        kmax.append(k)
    K = max(kmax, default=0) + 1
    pw = np.ones((len(bases), K), np.float64)
    pwi = np.ones((len(bases), K), np.int64)
    for s, B in enumerate(bases):
        for k in range(kmax[s] + 1):
            pw[s, k], pwi[s, k] = float(B**k), B**k
    arrays |= {
        "st_ptr": np.array(ptr, np.int64),
        "st_cols": np.array(cols, np.int64),
        "st_coef": np.array(coef, np.float64),
        "st_acoef": np.array(acoef, np.float64),
        "st_gam": np.array(gam, np.float64),
        "st_carrier": np.array(carrier, np.bool_),
        "st_base": np.array(bases, np.int64),
        "st_odd": np.array(odd, np.int64),
        "pw": pw,
        "pwi": pwi,
        "kmax": np.array(kmax, np.int64),
    }
    return tuple(plans)


def _state_arrays(net: Network) -> dict[str, Any]:
    """The state code as integer terms over binary neurons, and what each code means (go on, halt, undefined)."""
    readout = net.readout
    terms = [(net.index(label), c) for label, c in readout.state_code.terms]
    for j, _ in terms:
        if not net.binary[j]:
            raise InputError(f"run_float reads the state code from binary neurons; {net.labels[j]!r} is analog")
    M = math.lcm(readout.state_code.const.denominator, *(c.denominator for _, c in terms))
    meaning = {c * M: int(action) for c, action in code_actions(net).items()}
    lo, hi = min(meaning, default=0), max(meaning, default=0)
    action = np.full(hi - lo + 1, _INVALID, np.int64)
    for c, act in meaning.items():
        action[c - lo] = act
    return {
        "sc_cols": np.array([j for j, _ in terms], np.int64),
        "sc_coef": np.array([int(c * M) for _, c in terms], np.int64),
        "sc_const": int(readout.state_code.const * M),
        "code_lo": lo,
        "action": action,
    }


_PLANS: dict[tuple[int, str], tuple[weakref.ref[Network], _Plan]] = {}


def _cached_plan(net: Network, dtype: np.dtype) -> _Plan:
    key = (id(net), dtype.name)
    hit = _PLANS.get(key)
    if hit is not None and hit[0]() is net:
        return hit[1]
    if len(_PLANS) > 64:
        for k in [k for k, (ref, _) in _PLANS.items() if ref() is None]:
            del _PLANS[k]
    plan = _plan(net, dtype)
    _PLANS[key] = (weakref.ref(net), plan)
    return plan


GENERATED_MAX_WEIGHTS = 20_000
"""The most recurrent weights a network may have for the generated kernel.

The generated kernel is straight-line code, one operation per weight; past about this size its
Numba/LLVM compilation takes minutes and gigabytes (a 4,454-neuron, 74,479-weight ss95 network ran
out of 24 GB), while the generic kernel runs any size. ``auto`` then keeps the generic kernel.
"""


def kernel_for(plan: _Plan, kernel: str) -> str:
    """``kernel``, with ``auto`` kept generic for a network too large to generate.

    Raises:
        InputError: ``kernel="generated"`` for a network over :data:`GENERATED_MAX_WEIGHTS`.
    """
    weights = len(plan.net.W)
    if weights <= GENERATED_MAX_WEIGHTS or kernel == "generic":
        return kernel
    if kernel == "generated":
        raise InputError(
            f"the network has {weights:,} recurrent weights, more than the generated kernel takes "
            f"({GENERATED_MAX_WEIGHTS:,}); use kernel='generic' (or 'auto')"
        )
    return "generic"
