/* sensors.h - the sensor binaries inlay carries, one per platform. */
#ifndef INLAY_RW_SENSORS_H
#define INLAY_RW_SENSORS_H

#include <stddef.h>

struct rw_sensor {
	const char *architecture; /* OCI name: "amd64", "arm64" */
	const unsigned char *data;
	size_t len;
};

/* How many sensors are embedded, and each of them. */
size_t rw_sensor_count(void);
const struct rw_sensor *rw_sensor_at(size_t i);

/* The embedded sensor for an OCI architecture name, or NULL when inlay has
 * none for it. */
const struct rw_sensor *rw_sensor_embedded(const char *architecture);

#endif
