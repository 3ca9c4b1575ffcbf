"""Stage 3 of the pipeline: running a compiled network.

Every engine returns a :class:`~.trace.Trace`: the exact simulator
(:mod:`.exact`, the oracle, in rational arithmetic), the Numba float core
(:mod:`.fast`, with the generated kernels of :mod:`.fastgen`), and the
arbitrary-precision engine (:mod:`.mp`). :mod:`.trace` decodes the neuron
values back into machine configurations.
"""
