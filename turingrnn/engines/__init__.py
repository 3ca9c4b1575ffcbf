"""Stage 3 of the pipeline: running a compiled network.

:func:`run` runs a network on any registered engine and returns a
:class:`~.trace.Trace`; :func:`register` plugs a new engine in (the contract is
in :mod:`.dispatch` and docs/simulation.md). Every engine starts from
:func:`~.inputs.prepare` (the input modes) and returns a :class:`~.trace.Trace`:

* ``exact``: the exact simulator, the oracle, in rational arithmetic
  (:mod:`.exact`; its code generator :mod:`.exact_codegen`, per-network
  kernels :mod:`.exact_engine`, runner :mod:`.exact_runner`);
* ``float64``, ``float32``: the Numba float core (:mod:`.fast`; kernels
  :mod:`.fast_kernels`, plan and error bounds :mod:`.fast_plan`, generated
  kernels :mod:`.fastgen` and :mod:`.fastgen_tick`);
* ``mp``: binary floating point of any precision (:mod:`.mp`).

:mod:`.trace` decodes the neuron values back into machine configurations and
classifies state codes (go on, halt, undefined transition).
"""

from .dispatch import ENGINES, Engine, engine_names, lookup, register, run, run_many, unregister
from .inputs import Start, prepare
from .trace import Trace

__all__ = [
    "ENGINES",
    "Engine",
    "Start",
    "Trace",
    "engine_names",
    "lookup",
    "prepare",
    "register",
    "run",
    "run_many",
    "unregister",
]
