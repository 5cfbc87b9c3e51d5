"""``agentnas bench search``: methods, ablations, transfer and budgets in one command.

:mod:`.spec` parses and checks what the user asked for (nothing is written before it
passes), :mod:`.jobs` runs one (method, device, budget, seed) and keeps its evaluated
points, :mod:`.scoring` builds each device's reference front and scores every run,
:mod:`.report` writes ``results.md`` and the HV plots, :mod:`.bench` drives it all
(resume, executor, progress).
"""
