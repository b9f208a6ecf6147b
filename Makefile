# nextok: the two-command entry. `make demo` and `make test`; see README.md.
BUILD   ?= build
JOBS    ?= 2
PKGS    := gcc make cmake libopenblas-openmp-dev libhdf5-dev hdf5-tools libopenmpi-dev openmpi-bin
CMAKE_FLAGS ?=

.PHONY: all deps build test demo sanitize clean

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

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNT_SANITIZE=ON > build-asan.cmake.log 2>&1 || { cat build-asan.cmake.log; exit 1; }
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && OMP_NUM_THREADS=2 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 NT_SANITIZED=1 ctest --output-on-failure -j 1

# The translator end to end: en-fr number corpus, training from scratch within
# DEMO_MINUTES on 2 threads, evaluation on two held-out test sets, a few
# translations, the report (runs/demo/report.html). See docs/translate.md.
DEMO_RUN     ?= runs/demo
DEMO_MINUTES ?= 10
demo: build
	@sh examples/translate/demo.sh $(BUILD)/bin/nextok-translate $(DEMO_RUN) $(DEMO_MINUTES)

clean:
	rm -rf $(BUILD) build-asan $(BUILD).cmake.log build-asan.cmake.log
