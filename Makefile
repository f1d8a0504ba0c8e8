# Two commands do all set-up on a fresh machine:
#   make demo   - the main job end to end on the embedded default (moto + local Splunk/ServiceNow)
#   make test   - ruff, mypy, bandit, pytest
# Both create and reuse .venv with the pinned dependencies of requirements-dev.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGIN_ID := $(shell $(PYTHON) -c "import json;print(json.load(open('manifest.json'))['id'])")
VERSION := $(shell $(PYTHON) -c "import json;print(json.load(open('manifest.json'))['version'])")
STAGE := build/pkg/$(PLUGIN_ID)
ARCHIVE := dist/$(PLUGIN_ID)-$(VERSION).tar.gz
# Files and folders of this repository that make up the plugin (everything else is dev tooling).
PLUGIN_FILES := __init__.py main.py manifest.json icon.png CHANGELOG.md utils
PYTEST_WORKERS ?= 2

.PHONY: venv demo test lint typecheck security pytest stage package bench soak soak-hostile clean

venv: $(STAMP)

$(STAMP): requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

demo: venv
	$(BIN)/python -m devkit demo

test: lint typecheck security pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv stage
	$(BIN)/mypy -p $(PLUGIN_ID)
	$(BIN)/mypy devkit bench

security: venv
	$(BIN)/bandit -q -c pyproject.toml -r main.py utils

pytest: venv
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

# Copy exactly the plugin's files into build/pkg/<id>/ (no tests, dev tooling or caches).
stage:
	rm -rf build/pkg && mkdir -p $(STAGE)
	cp -r $(PLUGIN_FILES) $(STAGE)/
	find $(STAGE) -name '__pycache__' -prune -exec rm -rf {} +
	find $(STAGE) -name '*.pyc' -delete

package: venv stage
	$(BIN)/python -m devkit vendor --target $(STAGE)/lib
	mkdir -p dist
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' \
	    -C build/pkg -czf $(ARCHIVE) $(PLUGIN_ID)
	@echo "built $(ARCHIVE)"

bench: venv
	$(BIN)/python -m bench

soak: venv
	$(BIN)/python -m devkit soak

soak-hostile: venv
	$(BIN)/python -m devkit soak --hostile

clean:
	rm -rf build dist .state .bench .soak

# The S3 trail reader at 1,000 accounts x 17 Regions (SCALE_S3_ARGS="--accounts 100" for a quick run).
bench-scale-s3: venv
	$(BIN)/python -m bench.scale_s3 $(SCALE_S3_ARGS)
.PHONY: bench-scale-s3

# The SQS source at 1,000 accounts x 17 Regions against an in-process SQS/S3 with 20 ms calls
# (ARGS=--quick for a few seconds at 100 accounts).
.PHONY: bench-scale-sqs
bench-scale-sqs: venv
	$(BIN)/python -m bench.scale_sqs $(ARGS)

# The official CE plugins (ServiceNow, Jira, Webhook receivers; Logs source) beside the repo.
CE_PLUGINS ?= $(shell $(PYTHON) -c "from devkit.loader import official_plugins_dir as d; print(d())")
COMPAT_PYTHONS ?= 3.11 3.12 3.13

.PHONY: plugin-check compat

# Load each official plugin and ours exactly as CE does, offline; a JSON report (exit 1 only
# when a plugin cannot be imported or instantiated the way CE does).
plugin-check: venv
	$(BIN)/python -m devkit plugin-check $(CE_PLUGINS)/servicenow_itsm $(CE_PLUGINS)/jira_itsm \
	    $(CE_PLUGINS)/webhook_cto $(CE_PLUGINS)/logs_itsm .

# The plugin imports and its contract and core suites pass on every CPython CE may run
# (one venv per interpreter under .venv-compat/, msgspec/isal installed where they build).
compat: venv
	$(BIN)/python -m devkit compat $(COMPAT_PYTHONS)
