/* policy.h - the sensor policy document (DESIGN.md section 5): read from a
 * file, validated, and handed on as canonical JSON text.
 *
 *   {"exec": {"allow": ["/usr/bin/python3", "/bin/busybox[cat]"],
 *             "drift": "alert" | "block"},
 *    "net":  {"listen": ["tcp:8080"], "connect": ["10.0.0.0/8:5432"]},
 *    "files": {"write": ["/tmp/", "/var/log/app/"]}}
 *
 * An absent section restricts nothing. Unknown keys are errors: a typo must
 * not silently turn a rule off. */
#ifndef INLAY_RW_POLICY_H
#define INLAY_RW_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"

#define RW_POLICY_MAX_BYTES (1u << 20)
#define RW_POLICY_MAX_RULES 4096    /* per list */
#define RW_POLICY_MAX_RULE_LEN 4096 /* bytes of one rule */

/* The four rule lists of a policy. */
enum rw_policy_list {
	RW_POLICY_EXEC,	   /* exec.allow */
	RW_POLICY_LISTEN,  /* net.listen */
	RW_POLICY_CONNECT, /* net.connect */
	RW_POLICY_WRITE,   /* files.write */
};

/* Validate a policy held in memory. On success *ret_json is its canonical
 * form (compact, sorted keys; caller frees). Errors are ERR_INPUT and name
 * the field ("net.connect[2]: ..."). */
int rw_policy_parse(const void *data, size_t len, char **ret_json, struct err *e);

/* Read and validate a policy file (bounded by RW_POLICY_MAX_BYTES). */
int rw_policy_load(const char *path, char **ret_json, struct err *e);

/* Whether `rule` is a valid rule of `list` (the same grammar as
 * rw_policy_parse, and as the sensor's sensor-blob/policy.c; docs/POLICY.md
 * describes it). NULL is not. */
bool rw_policy_rule_valid(enum rw_policy_list list, const char *rule);

#endif
