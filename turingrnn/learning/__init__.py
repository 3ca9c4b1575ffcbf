"""The trained side: the recurrent networks the compiled ones are compared with.

:mod:`.tasks` holds the tasks of Delétang et al. (2023), shared with the
compiled networks (the interface in :mod:`.task_base`, the tasks by class in
:mod:`.regular_tasks`, :mod:`.context_free_tasks`,
:mod:`.context_sensitive_tasks` and :mod:`.next_symbol_tasks`, the registry in
:mod:`.task_registry`, the compiled networks' answers in
:mod:`.compiled_tasks`, the scores in :mod:`.task_metrics`); :mod:`.protocol`
the training and test protocol. The models (:mod:`.models`, built by name
with :func:`~.models.make_model`) are a core, a readout and a loss
(:mod:`.sequence_model`); the cores follow :mod:`.cores` and are those of
:mod:`.cells`, :mod:`.lstm_variants`, :mod:`.clockwork`,
:mod:`.stacked`, :mod:`.memory_rnn` (with :mod:`.controller`),
:mod:`.seq2seq`, :mod:`.reservoir` and :mod:`.window`. :mod:`.training` is
backpropagation through time in numpy, :mod:`.torch_backend` the same in
torch, :mod:`.checkpoint` the saved models (:mod:`.initialisation`: Haiku's
initialisation of an LSTM), :mod:`.diagnostics` the gradient-by-lag analysis,
and :mod:`.excursion` the cycle-navigation probe by walk excursion. The
comparison with the compiled networks is :mod:`.comparison` (models and
tiers), :mod:`.comparison_jobs`, :mod:`.comparison_report` and
:mod:`.comparison_figures`.
"""
