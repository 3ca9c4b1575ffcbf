"""The float core's Numba kernels: one tick, one readout, and the loop over a batch of words.

Private ``@njit`` kernels that take only arrays and scalars (the network as
the CSR arrays of :mod:`.fast_plan`, see ``_NET`` and ``_OUT_NAMES``). Next to
every float value they carry a bound on its distance from the exact run's
value, snap binary neurons to their certified value, and certify every stack
code at a readout; the argument is in :mod:`turingrnn.engines.fast`. A word's
status and the reason it diverged are small ints (below); the generated
kernels of :mod:`.fastgen` use the same values.
"""

from __future__ import annotations

import numba
import numpy as np

from ..config import BINARY_LIMIT, NJIT_OPTIONS, NJIT_PARALLEL_OPTIONS
from .trace import Action

_ONE_PLUS = 1.0 + 2.0**-50
"""Inflates a float64 bound past the rounding of the expression that computed it."""

# Word status.
_RUNNING, _HALTED, _UNDEFINED, _DIVERGED = 0, 1, 2, 3
# State code actions (trace.Action), and the code of no state.
_GO, _HALT, _UNDEF, _INVALID = int(Action.GO), int(Action.HALT), int(Action.UNDEFINED), 3
# Why a word diverged.
_BIN_UNCERTAIN, _BIN_OFF, _CODE_INVALID, _STACK_WIDE, _STACK_OFF, _STACK_DEEP, _STACK_DIGIT = range(1, 8)


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
