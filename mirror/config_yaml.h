/* config_yaml.h - a YAML configuration read as the JSON value it stands for, so
 * that one parser (config.c, jansson) checks both forms.
 *
 * One document; mappings with scalar keys (a key twice is an error, as in
 * the JSON form); aliases are their anchor's value. Plain scalars resolve
 * as YAML 1.2's core schema does: null, ~ and nothing are null, true/false
 * booleans, decimal integers numbers; everything else, and every quoted
 * scalar, is a string. Bounded: depth 64, 100,000 nodes. */
#ifndef INLAY_MR_YAML_H
#define INLAY_MR_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "../manifest/err.h"

/* ERR_INPUT naming `what` and the line when text is no such document. */
int mr_yaml_to_json(const char *text, size_t len, const char *what, json_t **ret, struct err *e);

#endif
