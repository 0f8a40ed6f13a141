# The two commands a newcomer needs: `make demo` and `make test`. Both set up everything first.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint ui clean reliability

setup:
	@./scripts/setup.sh

demo: setup
	$(BIN)/kpihub demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

# The reliability suite at full size (hostile demos of the whole company against clean ones):
# about half an hour; `make test` runs its quick part.
reliability: setup
	./scripts/reliability.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ui: setup
	$(BIN)/kpihub ui

clean:
	rm -rf .kpihub
