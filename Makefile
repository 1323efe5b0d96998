# netpeek: make demo (run on the shipped capture), make test (what CI runs).

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libpcap-dev tcpdump tshark nginx curl python3 iproute2 nftables wrk libcap2-bin
DEMO_CAPTURE := captures/lecture-http.pcapng

.PHONY: all deps build release demo test bench fuzz fuzz-cmin clean capture-lecture man completions install

all: build

# Installs libpcap's headers, the test oracles (tcpdump, tshark), the live
# tests' peers and tools (nginx, curl, python3, wrk for load, iproute2 and
# nftables for namespaces and loss, libcap2-bin for setcap/getcap) when
# missing.
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

# Benchmarks (not part of make test): criterion micro-benchmarks, then the
# whole-process comparison against tcpdump, tshark and the libpcap read floor
# on a generated capture (2 million packets) and on a recording of wrk
# driving nginx over a veth pair, then live capture under wrk load.
BENCH_RUNS ?= 5
bench: release
	@for p in wrk time; do dpkg -s $$p >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p; done
	$(CARGO) bench --bench tracker --bench pipeline
	mkdir -p bench-data
	[ -f bench-data/wrk.pcap ] || bench/record-wrk.sh bench-data/wrk.pcap 4
	@# Each script fails when a target is missed; all run, then make fails.
	status=0; \
	bench/compare.sh bench-data/wrk.pcap $(BENCH_RUNS) || status=1; \
	bench/compare.sh bench-data/gen.pcap $(BENCH_RUNS) || status=1; \
	bench/live.sh 3 10 50 || status=1; \
	exit $$status

# Runs every fuzz target for FUZZ_SECONDS each (cargo-fuzz on the stable
# toolchain, with RUSTC_BOOTSTRAP for libFuzzer's instrumentation flags).
# New inputs go to fuzz/corpus/<target>; crashes to fuzz/artifacts/<target>
# (fix them, then keep each in fuzz/regressions/<target>, which make test
# replays). read_file also starts from the test corpus
# (tests/fixtures/corpus), with inputs cut to 32 KiB so that it runs at a
# useful speed.
FUZZ_SECONDS ?= 180
FUZZ_TARGETS ?= decode_frame read_file track_segments http_stream
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	@set -e; cd fuzz; for t in $(FUZZ_TARGETS); do \
		extra=""; [ "$$t" = read_file ] && extra=../tests/fixtures/corpus; \
		maxlen=262144; [ "$$t" = read_file ] && maxlen=32768; \
		echo "== $$t ($(FUZZ_SECONDS) s)"; \
		RUSTC_BOOTSTRAP=1 cargo fuzz run -O $$t corpus/$$t $$extra -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=$$maxlen -rss_limit_mb=2048 -timeout=10 2>&1 | \
			grep -E "^(Done|#[0-9]+ *DONE)|SUMMARY|panicked|ERROR" || true; \
	done

# Minimises the corpora before they are committed: the smallest set of
# inputs that keeps every coverage edge (hit counts are not kept, so the
# corpora stay a few MB).
fuzz-cmin:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	@set -e; cd fuzz; for t in $(FUZZ_TARGETS); do \
		maxlen=262144; [ "$$t" = read_file ] && maxlen=32768; \
		tmp=$$(mktemp -d); \
		RUSTC_BOOTSTRAP=1 cargo fuzz run -O $$t $$tmp corpus/$$t -- \
			-merge=1 -use_counters=0 -max_len=$$maxlen -rss_limit_mb=2048 -timeout=10 2>&1 | \
			grep -E "MERGE-OUTER: [0-9]+ new files" || true; \
		rm -rf corpus/$$t; mv $$tmp corpus/$$t; \
		echo "$$t: $$(ls corpus/$$t | wc -l) inputs, $$(du -sh corpus/$$t | cut -f1)"; \
	done

# Re-records the lecture scenario: python3 http.server on 127.0.0.1:8000 and
# one curl, captured by netpeek itself.
capture-lecture: release
	./scripts/record-lecture.sh $(DEMO_CAPTURE)

# The man page and shell completions, generated from the command-line
# definitions.
man: release
	mkdir -p target/man
	./target/release/netpeek --generate-man > target/man/netpeek.1

completions: release
	mkdir -p target/completions
	./target/release/netpeek --completions bash > target/completions/netpeek.bash
	./target/release/netpeek --completions zsh > target/completions/_netpeek
	./target/release/netpeek --completions fish > target/completions/netpeek.fish

PREFIX ?= /usr/local
install: man completions
	$(CARGO) install --path . --root $(PREFIX) --force
	install -Dm644 target/man/netpeek.1 $(DESTDIR)$(PREFIX)/share/man/man1/netpeek.1
	install -Dm644 target/completions/netpeek.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/netpeek
	install -Dm644 target/completions/_netpeek $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_netpeek
	install -Dm644 target/completions/netpeek.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/netpeek.fish

clean:
	$(CARGO) clean
