# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nianbao demo

# Debian's packages some tests need: Chromium (browser tests), LibreOffice Writer (DOC/WPS conversion), Tesseract
# with chi_sim and pdftoppm (OCR), redis-server (workers). Each script installs only what is missing (apt-get, as
# root) and returns at once when all is there; where it cannot install, the tests that need it skip and say why.
system-packages:
	@for s in chromium libreoffice ocr redis; do bash scripts/install-$$s.sh || true; done

# The suite as two pytest sessions side by side (tests/parallel.py); `pytest` alone runs it in one session.
test: $(STAMP) system-packages
	$(BIN)/python tests/parallel.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data build *.egg-info
