# inlay - build, test, install. Plain make + pkg-config; output under build/.
#
#   make                      build/inlay (with both sensors embedded)
#   make deps                 install every Debian package the build and tests need
#   make check                unit + integration tests, ends "N passed, N failed"
#   make SANITIZE=address,undefined check-unit
#   make fuzz                 build and briefly run the fuzz targets
#   make fuzz FUZZ_SECONDS=600 FUZZ_JOBS=2 && make fuzz-corpus   the long campaign
#   make demo                 local registry -> instrument -> runc
#   make install PREFIX=/usr/local DESTDIR=

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS := libarchive jansson libzstd libcurl libcrypto libssl zlib libmicrohttpd yaml-0.1

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD := build
OPT := -O2 -D_FORTIFY_SOURCE=2
else
BUILD := build/san
OPT := -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wvla
CFLAGS ?= -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fstack-protector-strong -fPIE \
	-DINLAY_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lcrypt -lpthread

# The library: everything but the command line, in dependency order
# (cmd -> mirror, deploy -> rewriter -> registry -> manifest, layers).
LIB_SRC := $(wildcard manifest/*.c layers/*.c registry/*.c rewriter/*.c mirror/*.c deploy/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# The `inlay` command: main.c's table and one file per subcommand.
CMD_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard cmd/*.c))

UNIT_SRC := $(filter-out tests/unit/test_sn_%,$(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
# Unit tests of the sensor's own modules (test_sn_*.c): built with the host
# compiler against the sensor sources, which share no code with inlay.
SN_UNIT_SRC := $(wildcard tests/unit/test_sn_*.c)
SN_UNIT_BIN := $(SN_UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

# The sensor: static, libc and kernel headers only, one binary per platform.
SENSOR_SRC := $(wildcard sensor-blob/*.c)
SENSOR_HDR := $(wildcard sensor-blob/*.h)
SENSOR_CFLAGS := -std=c11 -D_GNU_SOURCE -Os -Wall -Wextra -Werror -fno-asynchronous-unwind-tables \
	-ffunction-sections -fdata-sections -DSENSOR_VERSION='"$(VERSION)"'
SENSOR_LDFLAGS := -static -Wl,--gc-sections -s
# musl for both: small static binaries (Debian's musl-dev:arm64 brings the
# aarch64 musl and its gcc specs; the compiler is gcc-aarch64-linux-gnu).
SENSOR_CC_amd64 ?= musl-gcc
SENSOR_CC_arm64 ?= aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs
SENSORS := build/sensor/sensor-amd64 build/sensor/sensor-arm64

.PHONY: all deps check check-unit check-integration fuzz fuzz-corpus demo install clean format sensors bench

all: $(BUILD)/inlay

$(BUILD)/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libinlay.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

sensors: $(SENSORS)

build/sensor/sensor-%: $(SENSOR_SRC) $(SENSOR_HDR)
	@mkdir -p $(dir $@)
	$(SENSOR_CC_$*) $(SENSOR_CFLAGS) $(SENSOR_SRC) -o $@ $(SENSOR_LDFLAGS)

# Both sensors are linked into inlay as data, so one file carries everything.
$(BUILD)/obj/sensor_embed.o: sensor-blob/embed.S $(SENSORS)
	@mkdir -p $(dir $@)
	$(CC) -c -DSENSOR_DIR_AMD64='"$(abspath build/sensor/sensor-amd64)"' -DSENSOR_DIR_ARM64='"$(abspath build/sensor/sensor-arm64)"' $< -o $@

$(BUILD)/inlay: $(CMD_OBJ) $(BUILD)/libinlay.a $(BUILD)/obj/sensor_embed.o
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libinlay.a $(BUILD)/obj/sensor_embed.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-unused-parameter $(shell pkg-config --cflags cmocka) $< \
		$(BUILD)/libinlay.a $(BUILD)/obj/sensor_embed.o $(ALL_LDFLAGS) $(LIBS) -lcmocka -o $@

$(BUILD)/tests/unit/test_sn_%: tests/unit/test_sn_%.c $(SENSOR_SRC) $(SENSOR_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Wno-unused-parameter -g -DSENSOR_VERSION='"$(VERSION)"' \
		$< $(filter-out sensor-blob/main.c,$(SENSOR_SRC)) $(ALL_LDFLAGS) -lcmocka -o $@

deps:
	sh tests/deps.sh

check: all $(UNIT_BIN) $(SN_UNIT_BIN)
	sh tests/run-tests.sh $(BUILD) unit integration

check-unit: all $(UNIT_BIN) $(SN_UNIT_BIN)
	sh tests/run-tests.sh $(BUILD) unit

check-integration: all
	sh tests/run-tests.sh $(BUILD) integration

# Fuzz targets: clang + libFuzzer + ASan, each run briefly over its corpus.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
SN_LIB_SRC := $(filter-out sensor-blob/main.c,$(SENSOR_SRC))
FUZZ_SECONDS ?= 20
FUZZ_JOBS ?= 1
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-DINLAY_VERSION='"$(VERSION)"' $(PKG_CFLAGS)

# fuzz_sn_*: targets for the sensor's parsers, built against the sensor sources.
build/fuzz/fuzz_sn_%: tests/fuzz/fuzz_sn_%.c $(SENSOR_SRC) $(SENSOR_HDR)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -DSENSOR_VERSION='"$(VERSION)"' $< $(SN_LIB_SRC) -o $@

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard */*.h) build/obj/sensor_embed.o
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $< $(LIB_SRC) build/obj/sensor_embed.o $(LIBS) -o $@

fuzz: $(FUZZ_BIN)
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_BIN)

# After a long run: the inputs of the working corpus that reach code the
# committed corpus does not are added to it (libFuzzer's merge; the
# committed inputs, the hand-written seeds among them, stay).
fuzz-corpus: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	  mkdir -p tests/fuzz/corpus/$$n build/fuzz/corpus/$$n; \
	  $$f -merge=1 -max_len=65536 tests/fuzz/corpus/$$n \
	    build/fuzz/corpus/$$n >build/fuzz/$$n.merge.log 2>&1 || exit 1; \
	  echo "$$n: $$(ls tests/fuzz/corpus/$$n | wc -l) inputs"; \
	done

demo: deps all
	sh tests/demo.sh $(BUILD)

bench: all
	sh bench/run.sh $(BUILD)
	sh bench/sensor.sh $(BUILD)

install: $(BUILD)/inlay
	install -D -m 0755 $(BUILD)/inlay $(DESTDIR)$(PREFIX)/bin/inlay
	for m in docs/man/*.1; do [ -f "$$m" ] && install -D -m 0644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$m); done; true

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c)

clean:
	rm -rf build
