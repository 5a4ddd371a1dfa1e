# Vigil — two commands: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-pg lint types bench messages clean

$(BIN)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Vigil needs Python 3.11"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	touch $@

locale/es/LC_MESSAGES/django.mo: locale/es/LC_MESSAGES/django.po $(BIN)/.installed
	msgfmt --check -o $@ $<

run: $(BIN)/.installed locale/es/LC_MESSAGES/django.mo
	VIGIL_DEMO=True PORT=$(PORT) $(BIN)/python manage.py rundemo

test: $(BIN)/.installed locale/es/LC_MESSAGES/django.mo
	$(BIN)/python -m pytest -m "not isolated" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m isolated $(PYTEST_ARGS)

test-pg: $(BIN)/.installed locale/es/LC_MESSAGES/django.mo
	VIGIL_TEST_DATABASE=postgres $(BIN)/python -m pytest -m "not browser and not isolated" $(PYTEST_ARGS)
	VIGIL_TEST_DATABASE=postgres $(BIN)/python -m pytest -m isolated $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(BIN)/.installed
	$(BIN)/mypy

bench: $(BIN)/.installed locale/es/LC_MESSAGES/django.mo
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.board
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.paging
	$(BIN)/python -m bench.cases

messages: $(BIN)/.installed
	VIGIL_DEBUG=True $(BIN)/python manage.py makemessages -l es --ignore=.venv --ignore=var --ignore="*/tests/*" --ignore=tests --ignore=bench --no-obsolete --add-location=file

clean:
	rm -rf $(VENV) var/test*.sqlite3*
