# The two commands a newcomer needs: `make demo` and `make test`. Both set up everything first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-browser demo test heavy lint ui portal clean reliability lock

setup:
	@./scripts/setup.sh

# The tests also drive the portal in Debian's Chromium.
setup-browser:
	@./scripts/setup.sh --browser

demo: setup
	$(BIN)/kpihub demo

test: setup-browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

# The full-size runs `make test` leaves out: anomaly recall on a second company, and the like.
heavy: setup-browser
	$(BIN)/pytest -q -m heavy

# The reliability suite at full size (hostile demos of the whole company against clean ones):
# about half an hour; `make test` runs its quick part.
reliability: setup
	./scripts/reliability.sh

# requirements.lock anew from pyproject.toml (after changing a dependency); commit the result.
lock:
	./scripts/lock.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ui: setup
	$(BIN)/kpihub ui

portal: setup
	$(BIN)/kpihub portal

clean:
	rm -rf .kpihub
