# thinka: two commands do all the set-up on a fresh machine.
#   make report   builds report/<phase>/ from the shipped data (creates .venv first if missing): the newest
#                 phase 2015-2016 with its comparison to 2013-2014; `make report PHASE=2013-2014` builds the first
#   make test     runs the whole test suite (creates .venv first if missing)
PHASE   ?= 2015-2016
# The phase with a printed edition to compare against (`make compare`).
PRINTED ?= 2013-2014
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: report test validate process compare bench lab clean-build env

env: $(STAMP)

# The environment is rebuilt when pyproject.toml changes. Only PyPI is used; nothing else downloads.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/thinka build --phase $(PHASE)

validate: $(STAMP)
	$(BIN)/thinka validate --phase $(PHASE)

process: $(STAMP)
	$(BIN)/thinka process --phase $(PHASE)

compare: $(STAMP)
	$(BIN)/thinka compare --phase $(PRINTED)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py --phase $(PHASE)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean-build:
	rm -rf build/$(PHASE)
