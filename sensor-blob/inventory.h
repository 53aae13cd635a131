/* inventory.h - the image's executables as `inlay instrument --inventory`
 * recorded them (/.inlay/inventory), for drift by inventory: a program
 * that runs but is not listed did not come with the image.
 *
 * The file is text: the line "inlay-inventory 1", then one absolute path
 * per line, sorted in ascending byte order, unique, every line ending in
 * "\n". It is mapped read-only, checked whole once at load, and searched
 * by bisection, so the sensor holds no copy of it and a lookup touches a
 * handful of pages.
 */
#ifndef INLAY_SENSOR_INVENTORY_H
#define INLAY_SENSOR_INVENTORY_H

#include <stddef.h>
#include "sn_err.h"

#define SN_INVENTORY_HEADER "inlay-inventory 1\n"
/* Larger files are refused: inlay writes at most 64 MiB of paths. */
#define SN_INVENTORY_MAX ((size_t)64 * 1024 * 1024 + sizeof(SN_INVENTORY_HEADER))

struct sn_inventory;

/* Map and check the inventory at `path` (a regular file). Refused with a
 * message naming the line: a wrong header, an empty or relative path, a NUL
 * byte, lines out of order or repeated, a missing final newline. *ret is the
 * caller's: sn_inventory_free. */
int sn_inventory_open(const char *path, struct sn_inventory **ret, struct sn_err *e);

/* The same checks on a document held in memory (the caller keeps it alive
 * and unchanged while the inventory is used; it is not copied). */
int sn_inventory_from_memory(const char *data, size_t len, struct sn_inventory **ret,
			     struct sn_err *e);

/* 1 when `path` (absolute, NUL-terminated) is listed, 0 when not. */
int sn_inventory_has(const struct sn_inventory *inv, const char *path);

/* How many paths it lists. */
size_t sn_inventory_count(const struct sn_inventory *inv);

/* Accepts NULL. */
void sn_inventory_free(struct sn_inventory *inv);

#endif
