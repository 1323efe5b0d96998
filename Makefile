# netpeek: make demo (run on the shipped capture), make test (what CI runs).

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libpcap-dev tcpdump tshark nginx curl python3
DEMO_CAPTURE := captures/lecture-http.pcapng

.PHONY: all deps build release demo test bench fuzz clean capture-lecture

all: build

# Installs libpcap's headers, the test oracles (tcpdump, tshark) and the live
# HTTP tests' peers (nginx, curl, python3) when missing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		echo "wireshark-common wireshark-common/install-setuid boolean false" | $(SUDO) debconf-set-selections && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(CARGO) build

release: deps
	$(CARGO) build --release

demo: release
	./target/release/netpeek -r $(DEMO_CAPTURE)

test: deps
	$(CARGO) test --all-targets
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) fmt --check

bench: release
	@echo "benchmarks arrive with the performance issue; nothing to run yet"

fuzz:
	@echo "fuzz targets arrive with the robustness issue; nothing to run yet"

# Re-records the lecture scenario: python3 http.server on 127.0.0.1:8000 and
# one curl, captured by netpeek itself.
capture-lecture: release
	./scripts/record-lecture.sh $(DEMO_CAPTURE)

clean:
	$(CARGO) clean
