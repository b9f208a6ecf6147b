# nextok: the two-command entry. `make demo` and `make test`; see README.md.
BUILD   ?= build
JOBS    ?= 2
PKGS    := gcc g++ make cmake libopenblas-openmp-dev libhdf5-dev hdf5-tools libsentencepiece-dev libopenmpi-dev openmpi-bin
CMAKE_FLAGS ?=

.PHONY: all deps build test test-portable demo multi30k sanitize fuzz clean

all: build

# Installs the Debian packages the build needs when they are missing. As root
# it runs apt-get (update first: a fresh machine has no package lists);
# otherwise it prints the exact command and stops.
deps:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "nextok: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing || exit 1; \
	  else \
	    echo "nextok: missing packages. Run:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > $(BUILD).cmake.log 2>&1 || { cat $(BUILD).cmake.log; exit 1; }
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && OMP_NUM_THREADS=2 ctest --output-on-failure -j 1

# The suite again with every kernel on its portable code (NT_ISA, core/isa.h):
# the paths a CPU without AVX2 takes, on any machine.
test-portable: build
	cd $(BUILD) && OMP_NUM_THREADS=2 NT_ISA=portable ctest --output-on-failure -j 1

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNT_SANITIZE=ON > build-asan.cmake.log 2>&1 || { cat build-asan.cmake.log; exit 1; }
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && OMP_NUM_THREADS=2 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 NT_SANITIZED=1 ctest --output-on-failure -j 1

# libFuzzer harnesses (tests/fuzz/): built with clang + ASan/UBSan in
# build-fuzz, each run FUZZ_SECONDS over a copy of its seeds (FUZZ_TARGETS to
# pick some). Needs clang only here, not for `make test`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_PKGS    := clang libclang-rt-14-dev libomp-14-dev
fuzz:
	@$(MAKE) --no-print-directory deps PKGS="$(PKGS) $(FUZZ_PKGS)"
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNT_FUZZ=ON > build-fuzz.cmake.log 2>&1 || { cat build-fuzz.cmake.log; exit 1; }
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_tsv fuzz_text fuzz_tokenizer fuzz_ckpt_raw fuzz_ckpt_edit fuzz_cli
	@sh tests/fuzz/run.sh build-fuzz/bin $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The translator end to end: a number corpus (DEMO_TASK=en-fr, fr-en,
# digits-en, ...), training from scratch within DEMO_MINUTES on 2 threads
# (DEMO_STEPS=N: N updates instead), evaluation on two held-out test sets, the
# numbers people type and all 1,000,000 numbers, a few translations, the time
# to accuracy, the report (runs/demo/report.html; runs/demo-TASK for another
# task). DEMO_TASK, not TASK: an environment may set TASK for its own ends.
# See docs/translate.md.
DEMO_TASK    ?= en-fr
DEMO_RUN     ?= $(if $(filter en-fr,$(DEMO_TASK)),runs/demo,runs/demo-$(DEMO_TASK))
DEMO_MINUTES ?= 10
demo: build
	@sh examples/translate/demo.sh $(BUILD)/bin/nextok-translate $(DEMO_RUN) $(DEMO_MINUTES) $(DEMO_TASK)

# Real translation: Multi30k de->en (or MULTI30K_SRC/TGT) with SentencePiece
# subwords, trained MULTI30K_MINUTES into MULTI30K_RUN, BLEU/chrF on test2016
# and test2017, a few translations. The corpus is read from MULTI30K (never
# copied into the repository). See docs/multi30k.md.
MULTI30K         ?= ../shared/data/multi30k
MULTI30K_SRC     ?= de
MULTI30K_TGT     ?= en
MULTI30K_RUN     ?= runs/multi30k-$(MULTI30K_SRC)-$(MULTI30K_TGT)
MULTI30K_MINUTES ?= 30
multi30k: build
	@sh examples/translate/multi30k.sh $(BUILD)/bin/nextok-translate $(MULTI30K) $(MULTI30K_RUN) \
	  $(MULTI30K_MINUTES) $(MULTI30K_SRC) $(MULTI30K_TGT)

clean:
	rm -rf $(BUILD) build-asan build-fuzz $(BUILD).cmake.log build-asan.cmake.log build-fuzz.cmake.log
