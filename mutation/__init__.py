"""Mutation testing of the modules a change touches, with their area's tests (`make mutate`).

mutmut (pinned in requirements-mutate.txt) runs in a scratch copy of the checkout outside it, so
neither its `mutants/` folder nor the per-run configuration it reads from pyproject.toml lands in
the repository. Not part of `make test`: a run takes minutes per module.
"""
