# Two commands do everything: `make run` (the main job) and `make test` (the whole suite).
# Both create .venv with a Python >= 3.12 when it is missing (see scripts/bootstrap.sh).
.PHONY: run serve demo test lint lock bench venv

VENV_BIN := .venv/bin

venv:
	@./scripts/bootstrap.sh

run: venv
	@$(VENV_BIN)/jarvis serve-demo

serve: run

demo: venv
	@$(VENV_BIN)/jarvis demo

test: venv lint
	@$(VENV_BIN)/python scripts/run_tests.py

lint: venv
	@$(VENV_BIN)/ruff check .
	@$(VENV_BIN)/ruff format --check .
	@$(VENV_BIN)/mypy

bench: venv
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(VENV_BIN)/python $$b; done

# Regenerate requirements.lock after changing dependencies in pyproject.toml.
lock: venv
	@$(VENV_BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.12 \
		--python-platform x86_64-unknown-linux-gnu -o requirements.lock
