/* config.h - the sensor's configuration: /.inlay/sensor.json plus the
 * INLAY_MODE / INLAY_OUTPUT environment overrides (DESIGN.md section 5).
 *
 *   {"version":1, "mode":"monitor|learn|enforce", "fail":"open|closed",
 *    "output":"stderr|file:PATH|fd:N", "learn_interval":SECONDS,
 *    "inventory":"/.inlay/inventory", "policy":{...}}
 *
 * Every key is optional; unknown keys are ignored so a newer inlay can add
 * settings without breaking an older sensor. Known keys are checked strictly.
 * The policy is kept twice for the capture stage: as the parsed tree and as
 * its verbatim source text. The config owns both.
 */
#ifndef INLAY_SENSOR_CONFIG_H
#define INLAY_SENSOR_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "json.h"
#include "sn_err.h"

#define SN_CONFIG_PATH "/.inlay/sensor.json"
#define SN_CONFIG_MAX (1024 * 1024) /* bytes; a larger file is refused, not truncated */
#define SN_CONFIG_VERSION 1
#define SN_LEARN_INTERVAL_MAX (7 * 24 * 3600) /* seconds */

enum sn_mode {
	SN_MODE_MONITOR, /* report, never block (the default) */
	SN_MODE_LEARN,	 /* monitor and build a profile */
	SN_MODE_ENFORCE, /* deny what the policy does not allow */
};

enum sn_fail {
	SN_FAIL_OPEN,	/* run the application unmonitored when the sensor cannot work */
	SN_FAIL_CLOSED, /* refuse to start it */
};

enum sn_output_kind {
	SN_OUTPUT_STDERR,
	SN_OUTPUT_FILE, /* path: appended to, created 0644 when missing */
	SN_OUTPUT_FD,	/* fd: a descriptor the application's launcher opened */
};

struct sn_output_spec {
	enum sn_output_kind kind;
	int fd;		     /* SN_OUTPUT_FD */
	char path[PATH_MAX]; /* SN_OUTPUT_FILE, absolute */
};

struct sn_config {
	int version;
	enum sn_mode mode;
	enum sn_fail fail;
	struct sn_output_spec output;
	/* learn mode: seconds between "sensor profile" events (0: only when the
	 * application exits). */
	unsigned learn_interval;
	/* The image's executables (inventory.h), an absolute path; NULL when the
	 * image was instrumented without --inventory. Lives as long as the config. */
	const char *inventory;
	/* Where the settings came from: the file's path, or NULL for the defaults.
	 * Points into the caller's string passed to sn_config_load. */
	const char *source;
	/* The "policy" object (NULL when absent or null) and its exact source
	 * text (policy_text is NOT NUL-terminated; policy_len bytes). Both live
	 * as long as the config. */
	const struct sn_json *policy;
	const char *policy_text;
	size_t policy_len;
	/* private */
	char *text;
	struct sn_json_doc *doc;
};

/* Fill *c with the defaults: version 1, monitor, fail open, stderr, no policy.
 * Owns nothing afterwards; sn_config_free() is still safe. */
void sn_config_defaults(struct sn_config *c);

/* Parse a config document held in memory into *c (which must hold defaults or
 * an earlier config, and is freed first). The text is copied. On failure *c
 * holds the defaults, except that c->fail is the document's own "fail" value
 * when it could be found (see sn_config_load). */
int sn_config_parse(struct sn_config *c, const char *text, size_t len, struct sn_err *e);

/* Read and parse the file at `path` into *c. The file is opened O_CLOEXEC and
 * closed before returning, so nothing leaks into the application. A missing
 * file is not an error when `required` is 0: *c keeps the defaults and
 * c->source stays NULL. The file must be a regular file of at most
 * SN_CONFIG_MAX bytes.
 *
 * On failure *c holds the defaults, except c->fail: when the file could be read
 * but not parsed, it is still scanned for "fail":"closed" so that a damaged
 * fail-closed config refuses instead of silently running unmonitored. */
int sn_config_load(struct sn_config *c, const char *path, int required, struct sn_err *e);

/* Apply INLAY_MODE and INLAY_OUTPUT from the environment (empty means unset).
 * The environment itself is only read, never changed. On failure (an invalid
 * value) *c is unchanged and e names the variable. */
int sn_config_apply_env(struct sn_config *c, struct sn_err *e);

/* Parse "stderr", "file:/abs/path" or "fd:N" into *ret. *ret is untouched on
 * failure. */
int sn_output_spec_parse(const char *s, struct sn_output_spec *ret, struct sn_err *e);

/* Parse a mode name ("monitor", "learn", "enforce"). */
int sn_mode_parse(const char *s, enum sn_mode *ret, struct sn_err *e);

/* Static names for log lines and events. */
const char *sn_mode_name(enum sn_mode m);
const char *sn_fail_name(enum sn_fail f);

/* Release what *c owns and reset it to the defaults. Accepts NULL. */
void sn_config_free(struct sn_config *c);

#endif
