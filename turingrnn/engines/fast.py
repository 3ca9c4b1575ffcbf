"""The float core: run a network in float64 or float32 with Numba, and never be silently wrong.

:func:`run_float` runs one word or many (in parallel over the cores) and
returns the same :class:`~turingrnn.engines.trace.Trace` as
:func:`~turingrnn.engines.exact.run_exact`, extended by ``diverged_at``: the first
machine step at which the float state could no longer be shown to hold the
exact run's configuration (``None`` if never). The run stops there. Every step
before it decodes to exactly the exact engine's configuration.

The check, a running error bound:
    Next to every float value ``v`` the kernel keeps a bound ``e`` with
    ``|v - x| <= e``, ``x`` the exact run's value (weights, biases and start
    values as exact rationals). A row's pre-activation ``z`` is a float sum,
    so ``|z - z_exact| <= sum |w| e_j + gamma_m (|b| + sum |w v_j|) +
    (rounding of the weights)``; sigma is 1-Lipschitz, so ``e' = that``, and
    ``e' = 0`` when ``z`` clears 0 or 1 by more than the bound (the exact
    value is clamped too). Two facts of the construction reset the bounds:

    * a neuron flagged binary is exactly 0 or 1 in the exact run, so once its
      bound is below ``BINARY_LIMIT`` (1/4, :mod:`turingrnn.config`) the exact
      value is ``round(v)``: the neuron is set to it, with bound 0; a larger
      bound, or ``v`` farther from ``round(v)`` than the bound, is a divergence;
    * a row whose inputs are all binary neurons, with weights on a grid that
      its float sum cannot leave, is computed exactly (bound 0, see
      ``_exact_row``);
    * at a readout tick every stack (half-tape) code is a multiple of
      ``1/B**n`` with ``n`` at most one more than the length read at the last
      step (a machine step changes a stack by at most one symbol; the first
      readout takes the start word's length). The kernel writes ``v B**n =
      N + r`` exactly (Dekker's product) and accepts ``N / B**n`` only when
      ``|r| + e B**n < 1`` (no other multiple lies within the bound) and
      ``|r| <= e B**n`` (this one does), and the top digit is a digit of the
      code. Then the exact code is ``N / B**n``; the new length is ``n`` less
      the trailing zero digits of ``N``, and the bound of the neuron holding
      the code becomes ``|r| / B**n``.

    The state code is read from the rounded binary neurons and must be in the
    state table. So a value that leaves the code is flagged at the readout of
    the step where it no longer determines one configuration, before any
    wrong configuration is decoded; the trace decodes the certified codes
    ``N / B**n``, which are the exact engine's.

Kernels:
    Private ``@njit`` kernels take only arrays and scalars: the rows as CSR
    arrays of float weights (``w``) and bound weights (``a``), one run per word
    over ``ticks_per_step`` value buffers, so that neurons idle outside their
    phase (:func:`turingrnn.engines.exact.idle_neurons`) are neither computed nor read
    there. A batch runs its words with ``numba.prange``; words stop at
    different steps.

>>> from turingrnn.compile.compiler import compile_machine
>>> from turingrnn.machines.parsing import load_machine
>>> from turingrnn.engines.exact import run_exact
>>> net = compile_machine(load_machine("bb4"))
>>> run = run_float(net, "")
>>> run.steps, run.diverged_at, run.first_divergence(run_exact(net, ""))
(107, None, None)
>>> [(t.steps, t.diverged_at) for t in run_float(net, ["", "1", "11"], dtype="float32", record="final")]
[(61, 61), (19, None), (59, 59)]
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numba
import numpy as np

from ..compile.encoding import DecodeError, base_of
from ..compile.network import Network
from ..config import BINARY_LIMIT, NJIT_OPTIONS, NJIT_PARALLEL_OPTIONS
from ..errors import InputError, TuringRNNError
from ..machines.interpreter import check_max_steps
from ..machines.model import StackMachine, TuringMachine
from .exact import idle_neurons, start_values, stream_inputs
from .trace import Getter, Trace, reduction_of

DTYPES = ("float32", "float64")
"""The float types the kernels run in."""

RECORD_MODES = ("steps", "final")
"""``steps``: float values at every readout tick; ``final``: the last two readouts only."""

_ONE_PLUS = 1.0 + 2.0**-50
"""Inflates a float64 bound past the rounding of the expression that computed it."""

_CHUNK_BYTES = 64 * 2**20
"""With ``record="steps"``, one kernel call records at most about this many bytes of values."""

# Word status.
_RUNNING, _HALTED, _UNDEFINED, _DIVERGED = 0, 1, 2, 3
# State code actions.
_GO, _HALT, _UNDEF, _INVALID = 0, 1, 2, 3
# Why a word diverged.
_BIN_UNCERTAIN, _BIN_OFF, _CODE_INVALID, _STACK_WIDE, _STACK_OFF, _STACK_DEEP, _STACK_DIGIT = range(1, 8)


# ---------------------------------------------------------------- kernels


@numba.njit(**NJIT_OPTIONS)
def _two_product(a, b):  # noqa: ANN001, ANN202
    """``a * b = p + q`` exactly (Dekker; float64, no fused multiply-add)."""
    p = a * b
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    q = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, q


@numba.njit(**NJIT_OPTIONS)
def _tick(V, E, src, dst, rows, r0, r1, line, net):  # noqa: ANN001, ANN202
    """Rows ``rows[r0:r1]`` of buffer ``dst`` from buffer ``src`` (input line ``line`` on, ``-1``: none).

    ``V`` holds values, ``E`` their error bounds, ``net`` the rows (see
    ``_NET``). Returns ``(why, neuron)`` of the first binary neuron that left
    the code, ``(0, -1)`` if none did.
    """
    indptr, cols, w, a, aw, b, c0, kap, binary, uptr, ucols, uw, head, G = net[:14]
    Vs, Es = V[src], E[src]
    why = 0
    where = -1
    for q in range(r0, r1):
        i = rows[q]
        z = b[i]
        k0 = indptr[i]
        if head[i] >= 0:  # bias, binary terms and input line: an exact sum (see _exact_head)
            k0 += head[i]
            for k in range(indptr[i], k0):
                z += w[k] * Vs[cols[k]]
            if line >= 0:
                for k in range(uptr[i], uptr[i + 1]):
                    if ucols[k] == line:
                        z += uw[k]
        err = 0.0
        if k0 < indptr[i + 1] or head[i] < 0:
            err = c0[i]
            size = abs(np.float64(z))
            for k in range(k0, indptr[i + 1]):
                j = cols[k]
                x = Vs[j]
                z += w[k] * x
                err += a[k] * Es[j]
                size += aw[k] * x
            if line >= 0 and head[i] < 0:
                for k in range(uptr[i], uptr[i + 1]):
                    if ucols[k] == line:
                        z += uw[k]
                        size += abs(np.float64(uw[k]))
            err = (err + G[i] * size) * kap[i]
        zz = np.float64(z)
        if -zz >= err:
            v = 0.0
            e = 0.0
        elif zz - 1.0 >= err * _ONE_PLUS:
            v = 1.0
            e = 0.0
        else:
            v = min(max(zz, 0.0), 1.0)
            e = min(err, 1.0)
            if binary[i]:
                d = abs(v - np.rint(v))
                if why == 0 and e >= BINARY_LIMIT:
                    why, where = _BIN_UNCERTAIN, i
                elif why == 0 and d > e:
                    why, where = _BIN_OFF, i
                v = np.rint(v)  # the exact value, certified: |v - x| <= e < 1/4 and x is 0 or 1
                e = 0.0
        V[dst, i] = v
        E[dst, i] = e
    return why, where


@numba.njit(**NJIT_OPTIONS)
def _readout(V, E, c, lens, grow, out, rec_N, rec_L):  # noqa: ANN001, ANN202
    """Check and read the readout tick in buffer ``c``; returns ``(status, why, where)``.

    ``out`` is the readout (see ``_OUT``). ``lens`` are the stack lengths read
    at the last step (``grow``: 1 if a step was taken since); they are updated,
    and the certified codes are written to ``rec_N`` and ``rec_L`` (``-1``: not read).
    """
    st_ptr, st_cols, st_coef, st_acoef, st_gam, st_carrier, st_base, st_odd, pw, pwi, kmax = out[:11]
    sc_cols, sc_coef, sc_const, code_lo, action = out[11:]
    code = sc_const
    for q in range(sc_cols.shape[0]):
        code += sc_coef[q] * np.int64(np.rint(V[c, sc_cols[q]]))
    k = code - code_lo
    act = action[k] if 0 <= k < action.shape[0] else _INVALID
    rec_N[:] = -1
    rec_L[:] = -1
    if act == _INVALID:
        return _DIVERGED, _CODE_INVALID, -1
    if act == _UNDEF:
        return _UNDEFINED, 0, -1
    for s in range(st_base.shape[0]):
        n = lens[s] + grow
        if grow and n == 1 and st_odd[s] == 0:
            n = 2  # a blank half-tape: the write on the scanned cell, then the move that shifts it
        if n > kmax[s]:
            return _DIVERGED, _STACK_DEEP, s
        P = pw[s, n]
        vs = 0.0
        es = 0.0
        size = 0.0
        nonzero = 0
        carrier = -1
        for q in range(st_ptr[s], st_ptr[s + 1]):
            j = st_cols[q]
            x = np.float64(V[c, j])
            vs += st_coef[q] * x
            es += st_acoef[q] * E[c, j]
            size += abs(st_coef[q] * x)
            if x != 0.0 or E[c, j] != 0.0:
                nonzero += 1
                carrier = j
        if nonzero > 1:
            es += st_gam[s] * size
        p, lo = _two_product(vs, P)
        Nf = np.rint(p)
        r = abs((p - Nf) + lo) * _ONE_PLUS
        eP = es * _ONE_PLUS * P * _ONE_PLUS
        if not r + eP < 1.0:
            return _DIVERGED, _STACK_WIDE, s
        if r > eP * _ONE_PLUS:
            return _DIVERGED, _STACK_OFF, s
        N = np.int64(Nf)
        B = st_base[s]
        while n > 0 and N % B == 0:
            N //= B
            n -= 1
        if n > 0:
            top = N // pwi[s, n - 1]
            if top >= B or top % 2 != st_odd[s]:
                return _DIVERGED, _STACK_DIGIT, s
        lens[s] = n
        rec_N[s] = N
        rec_L[s] = n
        if nonzero == 1 and st_carrier[s]:
            E[c, carrier] = min(E[c, carrier], r / P * _ONE_PLUS)
    return (_HALTED if act == _HALT else _RUNNING), 0, -1


@numba.njit(**NJIT_OPTIONS)
def _run_word(wi, state, net, out, rec):  # noqa: ANN001, ANN202
    """Run word ``wi`` for up to ``chunk`` machine steps (its step 0 first, if ``steps[wi] < 0``).

    ``state`` is the words' state (see ``_run``), ``rec`` the recording ring.
    """
    V, E, seq, first, lens, status, steps, cur, why, where, max_steps, chunk, skip = state
    T, lptr, lrows, allrows = net[14:]
    rec_V, rec_N, rec_L = rec
    Vw, Ew = V[wi], E[wi]
    NB = Vw.shape[0]
    n = Vw.shape[1]
    R = rec_V.shape[1]
    c = cur[wi]
    if steps[wi] < 0:  # stream the word in, then read step 0
        bad, bad_at = 0, -1
        for t in range(first[wi]):
            nxt = (c + 1) % NB
            y, at = _tick(Vw, Ew, c, nxt, allrows, 0, n, seq[wi, t], net)
            if bad == 0 and y != 0:
                bad, bad_at = y, at
            c = nxt
        steps[wi] = 0
        rec_V[wi, 0] = Vw[c]
        if bad != 0:
            status[wi], why[wi], where[wi] = _DIVERGED, bad, bad_at
        else:
            status[wi], why[wi], where[wi] = _readout(Vw, Ew, c, lens[wi], 0, out, rec_N[wi, 0], rec_L[wi, 0])
    done = 0
    while status[wi] == _RUNNING and done < chunk and steps[wi] < max_steps:
        bad, bad_at = 0, -1
        for sub in range(1, T + 1):
            nxt = (c + 1) % NB
            if skip:
                ph = sub % T
                y, at = _tick(Vw, Ew, c, nxt, lrows, lptr[ph], lptr[ph + 1], -1, net)
            else:
                y, at = _tick(Vw, Ew, c, nxt, allrows, 0, n, -1, net)
            if bad == 0 and y != 0:
                bad, bad_at = y, at
            c = nxt
        done += 1
        steps[wi] += 1
        slot = steps[wi] % R
        rec_V[wi, slot] = Vw[c]
        if bad != 0:
            rec_N[wi, slot] = -1
            rec_L[wi, slot] = -1
            status[wi], why[wi], where[wi] = _DIVERGED, bad, bad_at
        else:
            status[wi], why[wi], where[wi] = _readout(Vw, Ew, c, lens[wi], 1, out, rec_N[wi, slot], rec_L[wi, slot])
    cur[wi] = c


@numba.njit(**NJIT_OPTIONS)
def _run_serial(state, net, out, rec):  # noqa: ANN001, ANN202
    """Every running word in turn, on one core."""
    status = state[5]
    for wi in range(status.shape[0]):
        if status[wi] == _RUNNING:
            _run_word(wi, state, net, out, rec)


@numba.njit(**NJIT_PARALLEL_OPTIONS)
def _run_parallel(state, net, out, rec):  # noqa: ANN001, ANN202
    """The running words spread over the cores (each word's run is independent)."""
    status = state[5]
    for wi in numba.prange(status.shape[0]):
        if status[wi] == _RUNNING:
            _run_word(wi, state, net, out, rec)


_NET = "indptr cols w a aw b c0 kap binary uptr ucols uw head G T lptr lrows allrows".split()
"""The kernels' ``net`` tuple: CSR rows (float weights ``w``; ``|w|`` as ``a`` and ``aw``), biases,
bound constants, binary flags, input lines, the exact head of each row (``_exact_head``), each row's ``gamma``,
ticks per step and the rows live in each phase."""

_OUT_NAMES = (
    "st_ptr st_cols st_coef st_acoef st_gam st_carrier st_base st_odd pw pwi kmax "
    "sc_cols sc_coef sc_const code_lo action"
).split()
"""The kernels' ``out`` tuple: the readout's stacks (terms, bases, digit parity, powers) and the state table."""


# ---------------------------------------------------------------- the network as arrays


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
    halting: frozenset[str] = frozenset()
    machine = net.machine
    if readout.kind == "reduced" and isinstance(machine, TuringMachine):
        halting = reduction_of(machine).machine.halting_states
    elif isinstance(machine, TuringMachine | StackMachine):
        halting = machine.halting_states
    meaning = {c * M: (_HALT if q in halting else _GO) for c, q in readout.state_table}
    meaning |= {c * M: _UNDEF for c in readout.undefined_codes}
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


# ---------------------------------------------------------------- the trace


class _FloatRecording:
    """Float values at readout ticks, with the certified stack codes ``N / B**n`` of each row.

    ``column`` gives the float values. ``getter`` gives exact fractions for
    decoding: binary neurons rounded, and the neurons of each stack readout
    summing to the certified code (the neuron holding the code carries it; the
    others, exactly 0 in the compiled constructions, keep their float value).
    The row of a divergence does not decode.
    """

    def __init__(
        self, plan: _Plan, values: np.ndarray, codes: np.ndarray, lengths: np.ndarray, bad_row: int | None, why: str
    ) -> None:
        self.plan, self.values, self.codes, self.lengths = plan, values, codes, lengths
        self.bad_row, self.why = bad_row, why

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def column(self, neuron: int) -> list[float]:
        return [float(x) for x in self.values[:, neuron]]

    def getter(self, row: int) -> Getter:
        if row < 0:
            row += len(self)
        if row == self.bad_row:
            raise DecodeError(self.why)
        net, vals = self.plan.net, self.values[row]
        exact: dict[int, Fraction] = {}
        for s, stack in enumerate(self.plan.stacks):
            if self.lengths[row, s] < 0:
                continue  # not read (an undefined transition's code)
            code = Fraction(int(self.codes[row, s]), stack.base ** int(self.lengths[row, s]))
            carrier = max(stack.terms, key=lambda t: abs(float(vals[t[0]])))
            rest = sum((c * Fraction(float(vals[j])) for j, c in stack.terms if j != carrier[0]), Fraction(0))
            exact |= {j: Fraction(float(vals[j])) for j, _ in stack.terms}
            exact[carrier[0]] = (code - stack.const - rest) / carrier[1]

        def get(label: str) -> Fraction:
            i = net.index(label)
            if i in exact:
                return exact[i]
            return Fraction(round(float(vals[i]))) if net.binary[i] else Fraction(float(vals[i]))

        return get


def _divergence_text(plan: _Plan, why: int, where: int, step: int) -> str:
    net, kind = plan.net, plan.dtype.name
    if why in (_BIN_UNCERTAIN, _BIN_OFF):
        label = net.labels[where]
        if why == _BIN_UNCERTAIN:
            return f"step {step}: {kind} left the code: binary neuron {label!r} has an error bound >= {BINARY_LIMIT}"
        return f"step {step}: {kind} left the code: binary neuron {label!r} is farther from 0 and 1 than its bound"
    if why == _CODE_INVALID:
        return f"step {step}: {kind} left the code: the state code is not in the state table"
    name = plan.stacks[where].name
    return (
        f"step {step}: {kind} left the code: stack {name!r} "
        + {
            _STACK_WIDE: "is no longer pinned to one code by its error bound (precision exhausted)",
            _STACK_OFF: "holds no code of the expected depth within its error bound",
            _STACK_DEEP: "is deeper than the int64 lattice of the kernel",
            _STACK_DIGIT: "has a top digit that is not a digit of its code",
        }[why]
    )


# ---------------------------------------------------------------- the run


def _check_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return dt


def _check_words(words: object) -> list[str]:
    if isinstance(words, str):
        return [words]
    if not isinstance(words, list | tuple) or not all(isinstance(x, str) for x in words):
        raise InputError(f"words must be a str or a list of str; got {type(words).__name__}")
    return list(words)


def _depth(code: Fraction, base: int) -> int:
    """The number of base-``base`` digits of ``code`` (its last nonzero digit's position)."""
    n, power = 0, 1
    while power % code.denominator:
        n, power = n + 1, power * base
    return n


def _start(plan: _Plan, word: str, head: int) -> tuple[np.ndarray, np.ndarray, list[int], int, list[int]]:
    """Values, bounds, input lines by tick (streamed), first readout tick, and stack lengths at step 0."""
    net, n = plan.net, plan.net.size
    v = np.zeros(n, plan.dtype)
    e = np.zeros(n, np.float64)
    if net.input_mode == "streamed":
        inputs, first = stream_inputs(net, word, head)
        seq = [next((k for k, x in enumerate(inputs(t)) if x), -1) for t in range(first)]
        return v, e, seq, first, [len(word) + 1] * len(plan.stacks)
    if net.input_mode != "preloaded":
        raise InputError(f"input mode {net.input_mode!r} is unknown (allowed: preloaded, streamed)")
    start = start_values(net, word, head)
    for i, x in enumerate(start):
        v[i] = float(x)
        e[i] = _up(abs(Fraction(float(v[i])) - x))
    lengths = [_depth(sum((c * start[j] for j, c in s.terms), s.const), s.base) for s in plan.stacks]
    return v, e, [], 0, lengths


def run_float(
    net: Network,
    words: str | Sequence[str] = "",
    *,
    dtype: Any = np.float64,
    max_steps: int = 1_000_000,
    head: int = 0,
    record: str = "steps",
    parallel: bool | None = None,
    kernel: str = "auto",
) -> Trace | list[Trace]:
    """Run ``net`` on one word or many in float arithmetic, flagging the step where a float state leaves the code.

    Args:
        net: A compiled network (``input_mode`` ``"preloaded"`` or ``"streamed"``).
        words: One input word (a trace is returned) or a list of them (a list of traces).
        dtype: ``float64`` or ``float32``.
        max_steps: The most machine steps per word.
        head: The Turing machine head's start index (preloaded networks), the same for every word.
        record: ``"steps"`` keeps the float values at every readout tick, ``"final"`` the last two.
        parallel: Spread the words over the cores (default: when there is more than one word).
        kernel: ``"generic"``, ``"generated"`` or ``"auto"`` (see :data:`KERNELS`); all three give the same
            results, bit for bit.

    Returns:
        A :class:`Trace` per word. Its configurations are the exact run's
        up to ``diverged_at`` (excluded), where the run stopped.

    Raises:
        InputError: A word, the head, ``dtype``, ``max_steps`` or ``record`` is invalid.
        TuringRNNError: The first readout holds the undefined-transition code.
    """
    dt = _check_dtype(dtype)
    check_max_steps(max_steps)
    if record not in RECORD_MODES:
        raise InputError(f"record must be one of {', '.join(RECORD_MODES)}; got {record!r}")
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")
    word_list = _check_words(words)
    plan = _cached_plan(net, dt)
    parallel = len(word_list) > 1 if parallel is None else parallel
    traces = _run(plan, word_list, head, max_steps, record, parallel, kernel)
    return traces[0] if isinstance(words, str) else traces


KERNELS = ("auto", "generic", "generated")
"""``generic``: CSR kernels shared by every network; ``generated``: the network's own straight-line kernel
(:mod:`turingrnn.engines.fastgen`, compiled once per network and cached on disk); ``auto``: generic, switching to
generated when more than ``AUTO_WORK`` machine steps may remain after a first chunk."""

AUTO_WORK = 30_000_000
"""Machine steps (summed over the running words, to their step limit) above which ``auto`` generates a kernel.

Generating and compiling a kernel takes from about ten seconds (a ~40-neuron network, idle machine) to
minutes (a loaded machine), once per network, dtype and block width; Numba's cache keeps it afterwards.
The generic kernel does about 0.6M steps/s, so 30M steps is the better part of a minute of work."""

_AUTO_FIRST = 1 << 18
"""Machine steps (summed over the words) the generic kernel runs in ``auto`` mode before deciding."""

_GEN_CHUNK = 1 << 16
"""Machine steps per word per generated kernel call with ``record="final"`` (blocks are repacked between calls)."""


@dataclass
class _State:
    """The words' run state, per word (see ``_run_word``), and the recording ring."""

    V: np.ndarray
    E: np.ndarray
    seq: np.ndarray
    first: np.ndarray
    lens: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    cur: np.ndarray
    why: np.ndarray
    where: np.ndarray
    rec: tuple[np.ndarray, np.ndarray, np.ndarray]
    kept: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]]

    def running(self, max_steps: int) -> np.ndarray:
        return (self.status == _RUNNING) & (self.steps < max_steps)

    def keep(self, before: np.ndarray) -> None:
        """Move the rows recorded since ``before`` out of the ring."""
        rec_V, rec_N, rec_L = self.rec
        R = rec_V.shape[1]
        for k in range(len(self.kept)):
            rows = np.arange(before[k] + 1, self.steps[k] + 1) % R
            self.kept[k].append((rec_V[k, rows].copy(), rec_N[k, rows].copy(), rec_L[k, rows].copy()))


def _run(
    plan: _Plan, words: list[str], head: int, max_steps: int, record: str, parallel: bool, kernel: str = "auto"
) -> list[Trace]:
    net, A = plan.net, plan.arrays
    n, T, W, S = net.size, net.ticks_per_step, len(words), len(plan.stacks)
    distinct = {word: _start(plan, word, head) for word in dict.fromkeys(words)}  # the setup is per distinct word
    starts = [distinct[word] for word in words]
    NB = max(T, 2)
    V = np.zeros((W, NB, n), plan.dtype)
    E = np.zeros((W, NB, n), np.float64)
    seq = np.full((W, max((len(s[2]) for s in starts), default=0)), -1, np.int64)
    for k, (v, e, lines, _, _) in enumerate(starts):
        V[k, 0], E[k, 0] = v, e
        seq[k, : len(lines)] = lines
    skip = plan.skip_ok and not V[:, 0, plan.safe_off_phase].any()
    if record == "final":
        chunk, R = max_steps, 2
    else:
        chunk = int(min(4096, max(16, _CHUNK_BYTES // max(1, W * n * plan.dtype.itemsize))))
        R = chunk + 1
    st = _State(
        V=V,
        E=E,
        seq=seq,
        first=np.array([s[3] for s in starts], np.int64),
        lens=np.array([s[4] for s in starts], np.int64).reshape(W, S),
        status=np.zeros(W, np.int64),
        steps=np.full(W, -1, np.int64),
        cur=np.zeros(W, np.int64),
        why=np.zeros(W, np.int64),
        where=np.full(W, -1, np.int64),
        rec=(np.zeros((W, R, n), plan.dtype), np.zeros((W, R, S), np.int64), np.zeros((W, R, S), np.int64)),
        kept=[[] for _ in range(W)],
    )
    generic = _run_parallel if parallel else _run_serial
    model, out = tuple(A[k] for k in _NET), tuple(A[k] for k in _OUT_NAMES)

    def call_generic(steps_per_word: int) -> None:
        state = (V, E, seq, st.first, st.lens, st.status, st.steps, st.cur, st.why, st.where, max_steps,
                 steps_per_word, skip)  # fmt: skip
        before = st.steps.copy()
        generic(state, model, out, st.rec)
        if record == "steps":
            st.keep(before)

    if kernel == "generated":
        call_generic(0)  # step 0 (and the streamed input) in the generic kernel
    elif kernel == "auto":
        call_generic(max(1, min(chunk, _AUTO_FIRST // W)))
        remaining = int((max_steps - st.steps)[st.running(max_steps)].sum())
        kernel = "generated" if remaining > AUTO_WORK else "generic"
    if kernel == "generated":
        _run_generated(plan, st, skip, max_steps, record, chunk, parallel)
    while st.running(max_steps).any():
        call_generic(chunk)
    traces = []
    if record == "final":  # the last two readouts of every word at once (one, for a word that took no step)
        rows = (st.steps[:, None] + np.array([-1, 0])) % R
        kept = tuple(x[np.arange(W)[:, None], rows] for x in st.rec)
    name = plan.dtype.name
    ends = zip(*(x.tolist() for x in (st.first, st.steps, st.status, st.why, st.where)), strict=True)
    for k, (first, count, status, why, where) in enumerate(ends):
        if record == "final":
            values, codes, lengths = (x[k, 1:] if count == 0 else x[k] for x in kept)
        else:
            values, codes, lengths = (np.concatenate([x[m] for x in st.kept[k]]) for m in range(3))
        traces.append(_trace(plan, name, words[k], first, count, status, why, where, values, codes, lengths))
    return traces


def _lanes(plan: _Plan, words: int) -> int:
    """Words per generated block: a SIMD register's worth or two (one for a single word)."""
    if words == 1:
        return 1
    return 32


def _generated(plan: _Plan, skip: bool, lanes: int) -> Any:
    key = (skip, lanes)
    module = plan.generated.get(key)
    if module is None:
        from . import fastgen

        module = fastgen.load_kernels(fastgen.generate_source(plan.arrays, plan.dtype, skip, lanes))
        plan.generated[key] = module
    return module


def _to_blocks(words: np.ndarray, blocks: int, L: int) -> np.ndarray:
    """Per-word arrays ``(word, buffer, neuron)`` as blocks of ``L`` lanes side by side (padding lanes are 0)."""
    padded = np.zeros((blocks * L, *words.shape[1:]), words.dtype)
    padded[: len(words)] = words
    flat = padded.reshape(blocks, L, -1).transpose(0, 2, 1)
    return np.ascontiguousarray(flat).reshape(blocks, -1)


def _run_generated(
    plan: _Plan, st: _State, skip: bool, max_steps: int, record: str, chunk: int, parallel: bool
) -> None:
    """Run the words still running in blocks of the generated kernel, repacking the blocks between calls."""
    n = plan.net.size
    NB = st.V.shape[1]
    L = _lanes(plan, int(st.running(max_steps).sum()))
    module = _generated(plan, skip, L)
    model = tuple(plan.arrays[k] for k in _NET)  # the generic tick diagnoses flagged lanes
    step_chunk = chunk if record == "steps" else min(chunk, _GEN_CHUNK)
    while True:
        live = np.flatnonzero(st.running(max_steps))
        if len(live) == 0:
            return
        blocks = -(-len(live) // L)
        wid = np.full(blocks * L, -1, np.int64)
        wid[: len(live)] = live
        # Every word's current buffer becomes buffer 0; lanes side by side: (block, buffer, neuron, lane).
        idx = (st.cur[live, None] + np.arange(NB)[None, :]) % NB
        Vb, Eb = (_to_blocks(x[live[:, None], idx], blocks, L) for x in (st.V, st.E))
        before = st.steps.copy()
        run = module.run_parallel if parallel and blocks > 1 else module.run_serial
        rec_V, rec_N, rec_L = st.rec
        run(Vb, Eb, wid.reshape(blocks, L), st.status, st.steps, st.why, st.where, st.lens, max_steps, step_chunk,
            rec_V, rec_N, rec_L, record == "final", model)  # fmt: skip
        if record == "steps":
            st.keep(before)
        # Back to the per-word layout (current buffer 0).
        st.V[live] = Vb.reshape(blocks, NB * n, L).transpose(0, 2, 1).reshape(blocks * L, NB, n)[: len(live)]
        st.E[live] = Eb.reshape(blocks, NB * n, L).transpose(0, 2, 1).reshape(blocks * L, NB, n)[: len(live)]
        st.cur[live] = 0


def _trace(
    plan: _Plan,
    name: str,
    word: str,
    first: int,
    steps: int,
    status: int,
    why: int,
    where: int,
    values: np.ndarray,
    codes: np.ndarray,
    lengths: np.ndarray,
) -> Trace:
    T = plan.net.ticks_per_step
    if status == _UNDEFINED and steps == 0:
        raise TuringRNNError("the first readout holds the 'undefined transition' code: nothing ran before it")
    diverged = steps if status == _DIVERGED else None
    text = _divergence_text(plan, why, where, steps) if diverged is not None else ""
    kept = len(values)
    recording = _FloatRecording(plan, values, codes, lengths, kept - 1 if diverged is not None else None, text)
    return Trace(
        network=plan.net,
        engine=name,
        record="final" if kept < steps + 1 else "steps",
        recording=recording,
        row_ticks=range(first + (steps - kept + 1) * T, first + steps * T + 1, T),
        first_readout=first,
        ticks=first + steps * T,
        steps=steps,
        stop={_HALTED: "halting state", _UNDEFINED: "undefined transition"}.get(status),
        info={"dtype": name, "word": word, "divergence": text or None},
        diverged_at=diverged,
    )
