# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test lint format bench bench-data weight install translations i18n-update migrate seed clean

$(BIN)/activate: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Cần Python 3.11 ($(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate

translations: install
	$(BIN)/pybabel compile -d translations

# After changing UI text: refresh the catalogue, then translate the new entries in
# translations/en/LC_MESSAGES/messages.po (tests/test_i18n.py lists what is missing).
i18n-update: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		-o translations/messages.pot --ignore-dirs=".venv node_modules" .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l en --no-fuzzy-matching

migrate: translations
	mkdir -p instance
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask portal seed-demo

run: seed
	@echo "Cổng kiến nghị: http://127.0.0.1:5000"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# City-sized benchmark (not part of `make test`; needs Debian's wrk and PostgreSQL on
# 127.0.0.1): builds the database "bench" (1M petitions, 100 wards) when it is missing,
# then serves one ward with gunicorn and drives it with wrk. See docs/performance.md.
bench: translations
	@command -v wrk >/dev/null 2>&1 || { echo "wrk is missing: apt-get install wrk"; exit 2; }
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

bench-data: install
	$(BIN)/python scripts/bench_data.py $(BENCH_DATA_ARGS)

# Cold-load weight of the public petition page and the lookup page in Chromium (demo ward).
weight: translations
	$(BIN)/python scripts/page_weight.py --details

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance/portal.sqlite3 .pytest_cache
