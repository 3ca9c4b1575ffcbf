"""Generated float kernels, part one: the source of one tick and of one readout, for a block of lanes.

:func:`_tick_source` writes one tick of the network's rows as straight-line
arithmetic over the ``L`` lanes of a block (the generic kernel's operations,
in the same order, with the weights as constants); :func:`_readout_source`
and :func:`_vector_readout_source` write the readout with the network's
constants inlined. :mod:`.fastgen` assembles them into a kernel module.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any


def _float(x: float) -> str:
    """A float literal that reads back as exactly ``x``."""
    return repr(float(x))


class _Writer:
    """Source lines with indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str = "") -> None:
        self.lines.append("    " * self.depth + line if line else "")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _up(x: Fraction) -> float:
    """The least float64 not below ``x``."""
    f = float(x)
    return math.nextafter(f, math.inf) if Fraction(f) < x else f


_CHUNK = 100
"""The most operands in one generated chain: longer ones nest too deep for Python's compiler."""


def _grouped(items: list[str], op: str = " + ") -> str:
    """``items`` joined by ``op``, in groups of at most :data:`_CHUNK` (for sums whose order does not matter)."""
    if len(items) <= _CHUNK:
        return op.join(items)
    groups = [f"({op.join(items[k : k + _CHUNK])})" for k in range(0, len(items), _CHUNK)]
    return _grouped(groups, op)


def _chain(out: _Writer, var: str, first: str, addends: list[str]) -> None:
    """Set ``var`` to ``((first + a1) + a2) + ...`` left to right, one line per :data:`_CHUNK` addends."""
    acc = first
    for k in range(0, len(addends), _CHUNK):
        for term in addends[k : k + _CHUNK]:
            acc = f"({acc} + {term})"
        out(f"{var} = {acc}")
        acc = var
    if not addends:
        out(f"{var} = {first}")


def _head_source(A: dict[str, Any], i: int, terms: list[tuple[int, int]], dt: str) -> str:
    """Row ``i``'s exact head (bias and binary terms ``terms``), one product per distinct weight, the bias last.

    Every partial sum of an exact head is exact in any order (see ``turingrnn.engines.fast._exact_head``), so this
    is the generic kernel's value; rows that share weights on the same inputs share the sum, which LLVM
    then computes once.
    """
    w, b = A["w"], A["b"]
    by_weight: dict[float, list[int]] = {}
    for j, k in terms:
        by_weight.setdefault(float(w[k]), []).append(j)
    parts = []
    for weight, cols in sorted(by_weight.items()):
        total = _grouped([f"x{j}" for j in sorted(cols)])
        total = f"({total})" if len(cols) > 1 else total
        parts.append(total if weight == 1.0 else f"-{total}" if weight == -1.0 else f"{dt}({_float(weight)}) * {total}")
    z = f"{dt}({_float(b[i])})"
    return f"(({_grouped(parts)}) + {z})" if parts else z


def _tick_source(out: _Writer, name: str, A: dict[str, Any], rows: list[int], src: int, dst: int, dt: str) -> None:
    """One tick, buffer ``src`` to ``dst``, of ``rows``, for every lane (see the module docs for the arithmetic).

    One loop over the lanes computes every row, so that each input is loaded once per lane. Binary
    neurons carry the bound 0 (they are snapped to their certified value, and their stored bound stays
    0), so their bound terms are left out; exact rows (``_exact_row``) have no bound at all.

    A binary row stores only its rounded value, so the tick computes just enough to *flag* every lane
    where the generic check (``turingrnn.engines.fast._tick``) could fail, and ``_diagnose`` reruns the tick
    of a flagged lane with the generic kernel, which decides. The generic check fails only where the
    row's error bound ``err`` reaches ``BINARY_LIMIT`` or ``0 < z < 1`` (otherwise ``z`` is clamped to
    0 or 1 and its distance to 0 or 1 is 0). So a lane is flagged where some binary row has ``0 < z <
    1`` (``min(z, 1 - z) > 0``, exactly), or where a bound of ``err`` reaches the limit: rows whose
    rounded terms have the same coefficients share one, the row's formula with ``|z|`` replaced by the
    largest ``|bias| + sum |w|`` of the exact heads in the group (each rounded operation is monotone in
    its operands, so this bounds every row's ``err`` as the float kernel computes it).
    """
    indptr, cols, w, a, aw, b, c0, kap, binary, head, G = (
        A[k] for k in "indptr cols w a aw b c0 kap binary head G".split()
    )
    n = len(b)
    plans: list[tuple[int, list[tuple[int, int]], int]] = []
    groups: dict[tuple[Any, ...], float] = {}
    for i in rows:
        terms = [(int(cols[k]), k) for k in range(indptr[i], indptr[i + 1])]
        cut = max(int(head[i]), 0)
        plans.append((i, terms, cut))
        tail = terms[cut:]
        if binary[i] and (tail or head[i] < 0):
            key = (c0[i], G[i], kap[i], tuple((j, None if binary[j] else a[k], aw[k]) for j, k in tail))
            zmax = _up(abs(Fraction(float(b[i]))) + sum(abs(Fraction(float(w[k]))) for _, k in terms[:cut]))
            groups[key] = max(groups.get(key, 0.0), zmax)
    out("@numba.njit(**OPTS)")
    out(f"def {name}(V, E, ACT, FLAG):")
    out.depth += 1
    out("anyflag = False")
    out("for l in range(L):")
    out.depth += 1
    for j in sorted({j for _, terms, _ in plans for j, _ in terms}):
        out(f"x{j} = V[{src * n + j} * L + l]")
    for j in sorted(
        {j for i, terms, cut in plans if not binary[i] for j, _ in terms[cut:] if not binary[j]}
        | {j for key in groups for j, ak, _ in key[3] if ak is not None}
    ):
        out(f"e{j} = E[{src * n + j} * L + l]")
    bounds = []
    for (c0g, Gg, kapg, terms_g), zmax in groups.items():
        err, size = _float(c0g), _float(zmax)
        for j, ak, awk in terms_g:
            if ak is not None:
                err = f"({err} + {_float(ak)} * e{j})"
            size = f"({size} + {_float(awk)} * x{j})"
        bounds.append(f"({err} + {_float(Gg)} * {size}) * {_float(kapg)}")
    out(f"over = {_grouped([f'({x} >= LIMIT)' for x in bounds], ' | ') or 'False'}")
    acc = 0
    out("acc0 = acc1 = acc2 = acc3 = 0.0")
    for i, terms, cut in plans:
        tail = terms[cut:]
        z = _head_source(A, i, terms[:cut], dt)
        if binary[i]:
            if len(tail) > _CHUNK:
                _chain(out, "z", z, [f"{dt}({_float(w[k])}) * x{j}" for j, k in tail])
                z = "z"
            else:
                for j, k in tail:
                    z = f"({z} + {dt}({_float(w[k])}) * x{j})"
            out(f"zz = np.float64({z})")
            out(f"acc{acc % 4} = max(acc{acc % 4}, min(zz, 1.0 - zz))")
            out(f"V[{dst * n + i} * L + l] = 1.0 if zz > 0.5 else 0.0")
            acc += 1
            continue
        if tail or head[i] < 0:
            out(f"z = {z}")
            if len(tail) > _CHUNK:
                _chain(out, "size", "abs(np.float64(z))", [f"{_float(aw[k])} * x{j}" for j, k in tail])
                _chain(out, "err", _float(c0[i]), [f"{_float(a[k])} * e{j}" for j, k in tail if not binary[j]])
                out(f"err = (err + {_float(G[i])} * size) * {_float(kap[i])}")
                _chain(out, "z", "z", [f"{dt}({_float(w[k])}) * x{j}" for j, k in tail])
            else:
                err, size = _float(c0[i]), "abs(np.float64(z))"
                for j, k in tail:
                    z = f"({z} + {dt}({_float(w[k])}) * x{j})"
                    if not binary[j]:
                        err = f"({err} + {_float(a[k])} * e{j})"
                    size = f"({size} + {_float(aw[k])} * x{j})"
                out(f"err = ({err} + {_float(G[i])} * {size}) * {_float(kap[i])}")
                out(f"z = {z}")
        else:
            out(f"z = {z}")
            out("err = 0.0")
        out("zz = np.float64(z)")
        out("sat = (-zz >= err) | (zz - 1.0 >= err * ONE_PLUS)")
        out(f"V[{dst * n + i} * L + l] = min(max(zz, 0.0), 1.0)")
        out(f"E[{dst * n + i} * L + l] = 0.0 if sat else min(err, 1.0)")
    out("flag = ((max(max(acc0, acc1), max(acc2, acc3)) > 0.0) | over) & ACT[l]")
    out("FLAG[l] = flag")
    out("anyflag = anyflag | flag")
    out.depth -= 1
    out("return anyflag")
    out.depth -= 1
    out()


def _stack_terms_source(out: _Writer, A: dict[str, Any], s: int, carrier: list[str]) -> None:
    """Lines summing stack ``s``'s readout terms of lane ``l`` into ``vs`` (value), ``es`` (bound) and ``size``.

    Each term is followed by the ``carrier`` lines (``{j}``: the term's neuron) that count the nonzero terms.
    """
    ptr, cols, coef, acoef = A["st_ptr"], A["st_cols"], A["st_coef"], A["st_acoef"]
    for line in ("vs = 0.0", "es = 0.0", "size = 0.0", "nonzero = 0", "carrier = -1"):
        out(line)
    for q in range(int(ptr[s]), int(ptr[s + 1])):
        j = int(cols[q])
        out(f"x = np.float64(V[{j} * L + l])")
        out(f"ex = E[{j} * L + l]")
        out(f"vs += {_float(coef[q])} * x")
        out(f"es += {_float(acoef[q])} * ex")
        out(f"size += abs({_float(coef[q])} * x)")
        for line in carrier:
            out(line.format(j=j))


def _readout_source(out: _Writer, A: dict[str, Any]) -> None:
    """The readout of lane ``l`` (buffer 0): :func:`.fast._readout` with the network's constants inlined.

    Same operations in the same order; the bases are constants, so that ``%`` and ``//`` by them compile to
    shifts and multiplications instead of divisions.
    """
    out("@numba.njit(inline='always', **OPTS)")
    out("def _read(V, E, l, lens, wi, rec_N, rec_L, slot):")
    out.depth += 1
    code = str(int(A["sc_const"]))
    for j, c in zip(A["sc_cols"], A["sc_coef"], strict=True):
        code += f" + {int(c)} * np.int64(np.rint(V[{int(j)} * L + l]))"
    out(f"k = {code} - {int(A['code_lo'])}")
    out("act = ACTION[k] if 0 <= k < ACTION.shape[0] else INVALID")
    for s in range(len(A["st_base"])):
        out(f"rec_N[wi, slot, {s}] = -1")
        out(f"rec_L[wi, slot, {s}] = -1")
    out("if act == INVALID:")
    out("    return DIVERGED, CODE_INVALID, -1")
    out("if act == UNDEF:")
    out("    return UNDEFINED, 0, -1")
    for s in range(len(A["st_base"])):
        B, odd, kmax = int(A["st_base"][s]), int(A["st_odd"][s]), int(A["kmax"][s])
        out(f"n = lens[wi, {s}] + 1")
        if odd == 0:
            out("if n == 1:")
            out("    n = 2  # a blank half-tape: the write on the scanned cell, then the move that shifts it")
        out(f"if n > {kmax}:")
        out(f"    return DIVERGED, STACK_DEEP, {s}")
        out(f"P = PW{s}[n]")
        if B & (B - 1) == 0:
            out(f"PI = PINV{s}[n]")
        _stack_terms_source(out, A, s, ["if x != 0.0 or ex != 0.0:", "    nonzero += 1", "    carrier = {j}"])
        out("if nonzero > 1:")
        out(f"    es += {_float(A['st_gam'][s])} * size")
        if B & (B - 1) == 0:
            out("p = vs * P  # exact: P is a power of two")
            out("lo = 0.0")
        else:
            out("p, lo = _two_product(vs, P)")
        out("Nf = np.rint(p)")
        out("r = abs((p - Nf) + lo) * ONE_PLUS")
        out("eP = es * ONE_PLUS * P * ONE_PLUS")
        out("if not r + eP < 1.0:")
        out(f"    return DIVERGED, STACK_WIDE, {s}")
        out("if r > eP * ONE_PLUS:")
        out(f"    return DIVERGED, STACK_OFF, {s}")
        out("N = np.int64(Nf)")
        if B & (B - 1) == 0:  # a power of two: the same floor division and modulo, as shifts and masks
            bits = B.bit_length() - 1
            out(f"while n > 0 and N & {B - 1} == 0:")
            out(f"    N >>= {bits}")
            out("    n -= 1")
            out("if n > 0:")
            out(f"    top = N >> ({bits} * (n - 1))")
        else:
            out(f"while n > 0 and N % {B} == 0:")
            out(f"    N //= {B}")
            out("    n -= 1")
            out("if n > 0:")
            out(f"    top = N // PWI{s}[n - 1]")
        out(f"    if top >= {B} or top % 2 != {odd}:")
        out(f"        return DIVERGED, STACK_DIGIT, {s}")
        out(f"lens[wi, {s}] = n")
        out(f"rec_N[wi, slot, {s}] = N")
        out(f"rec_L[wi, slot, {s}] = n")
        if A["st_carrier"][s]:
            out("if nonzero == 1:")
            scale = "r * PI" if B & (B - 1) == 0 else "r / P"  # 1 / P is exact for a power of two
            out(f"    E[carrier * L + l] = min(E[carrier * L + l], {scale} * ONE_PLUS)")
    out("return (HALTED if act == HALT else RUNNING), 0, -1")
    out.depth -= 1
    out()


def _vector_readout_source(out: _Writer, A: dict[str, Any]) -> None:
    """The readout of every lane at once, without branches, for networks whose stack bases are powers of two.

    The arithmetic of ``_read`` written as selects, so that LLVM can vectorize the loop over the lanes,
    for the usual step only: a lane whose state code is not a running state's, whose stack fails a
    check, or whose code drops more than two trailing zero digits in one step (a blank half-tape erased
    at its end) is marked slow, and ``_read`` reads it again (and names the reason). For the other
    lanes it writes the status (running or halted), the certified codes and lengths, and commits the
    lengths and the bounds of the neurons carrying a code.
    """
    S = len(A["st_base"])
    out("@numba.njit(inline='always', **OPTS)")
    out("def _vread(V, E, LENS, RSTAT, RSLOW, NEWN, NEWLEN, CARR, CVAL, ACT, BAD):")
    out.depth += 1
    out("for l in range(L):")
    out.depth += 1
    code = str(int(A["sc_const"]))
    for j, c in zip(A["sc_cols"], A["sc_coef"], strict=True):
        code += f" + {int(c)} * np.int64(V[{int(j)} * L + l])"  # binary neurons hold exactly 0.0 or 1.0
    out(f"k = {code} - {int(A['code_lo'])}")
    out("inside = (k >= 0) & (k < ACTION.shape[0])")
    out("act = ACTION[min(max(k, 0), ACTION.shape[0] - 1)] if inside else INVALID")
    out("slow = (act == INVALID) | (act == UNDEF)")
    for s in range(S):
        B, odd, kmax = int(A["st_base"][s]), int(A["st_odd"][s]), int(A["kmax"][s])
        bits = B.bit_length() - 1
        out(f"n = LENS[{s} * L + l] + 1")
        if odd == 0:
            out("n = 2 if n == 1 else n")
        out(f"m = min(n, {kmax})")
        out(f"P = np.float64(np.int64(1) << ({bits} * m))  # = PW{s}[m], without a gather")
        _stack_terms_source(
            out, A, s, ["hot = (x != 0.0) | (ex != 0.0)", "nonzero += hot", "carrier = {j} if hot else carrier"]
        )
        out(f"es = es + {_float(A['st_gam'][s])} * size if nonzero > 1 else es")
        out("p = vs * P")
        out("Nf = np.rint(p)")
        out("r = abs((p - Nf) + 0.0) * ONE_PLUS")
        out("eP = es * ONE_PLUS * P * ONE_PLUS")
        out(f"ok = (n <= {kmax}) & (r + eP < 1.0) & (r <= eP * ONE_PLUS)")
        out("N = np.int64(Nf) if ok else 0")
        for _ in range(2):
            out(f"t = (n > 0) & ((N & {B - 1}) == 0)")
            out(f"N = N >> {bits} if t else N")
            out("n = n - 1 if t else n")
        out(f"top = N >> ({bits} * (n - 1)) if n > 0 else {odd}")
        out(f"slow = slow | (not ok) | ((n > 0) & ((N & {B - 1}) == 0)) | (top >= {B}) | ((top & 1) != {odd})")
        out(f"NEWN[{s} * L + l] = N")
        out(f"NEWLEN[{s} * L + l] = n")
        out(f"CARR[{s} * L + l] = carrier if nonzero == 1 else -1")
        top_bits = bits * kmax  # < 62: B ** kmax < 2 ** 62
        out(f"PI = np.float64(np.int64(1) << ({top_bits} - {bits} * m)) * {_float(2.0**-top_bits)}  # = PINV{s}[m]")
        out(f"CVAL[{s} * L + l] = r * PI * ONE_PLUS")
    out("RSTAT[l] = HALTED if act == HALT else RUNNING")
    out("RSLOW[l] = slow")
    out.depth -= 1
    # Commit what the lanes that take this path change: lengths and the bounds of the neurons carrying a code.
    ptr, cols = A["st_ptr"], A["st_cols"]
    out("for l in range(L):")
    out.depth += 1
    out("go = ACT[l] & (BAD[l] == 0) & (not RSLOW[l])")
    for s_ in range(S):
        out(f"LENS[{s_} * L + l] = NEWLEN[{s_} * L + l] if go else LENS[{s_} * L + l]")
        for q in range(int(ptr[s_]), int(ptr[s_ + 1])) if A["st_carrier"][s_] else ():
            j = int(cols[q])
            out(f"e = E[{j} * L + l]")
            out(f"E[{j} * L + l] = min(e, CVAL[{s_} * L + l]) if go & (CARR[{s_} * L + l] == {j}) else e")
    out.depth -= 2
    out()
