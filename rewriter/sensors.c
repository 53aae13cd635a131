/* sensors.c - see sensors.h. The bytes come from sensor-blob/embed.S. */
#include "sensors.h"

#include <string.h>

#include "../sensor-blob/embedded.h"

#define N_SENSORS 2

static const struct rw_sensor *table(void)
{
	/* The sizes are differences of link-time addresses, so the table is
	 * filled at run time. */
	static struct rw_sensor sensors[N_SENSORS];

	if (!sensors[0].architecture) {
		sensors[0] = (struct rw_sensor){"amd64", inlay_sensor_amd64_start,
						(size_t)(inlay_sensor_amd64_end - inlay_sensor_amd64_start)};
		sensors[1] = (struct rw_sensor){"arm64", inlay_sensor_arm64_start,
						(size_t)(inlay_sensor_arm64_end - inlay_sensor_arm64_start)};
	}
	return sensors;
}

size_t rw_sensor_count(void)
{
	return N_SENSORS;
}

const struct rw_sensor *rw_sensor_at(size_t i)
{
	return i < N_SENSORS ? &table()[i] : NULL;
}

const struct rw_sensor *rw_sensor_embedded(const char *architecture)
{
	size_t i;

	for (i = 0; i < N_SENSORS; i++)
		if (strcmp(table()[i].architecture, architecture) == 0)
			return &table()[i];
	return NULL;
}
