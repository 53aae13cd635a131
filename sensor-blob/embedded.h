/* embedded.h - the sensor binaries linked into inlay by embed.S.
 * Included by rewriter/ only; the sensor itself never sees this. */
#ifndef INLAY_SENSOR_EMBEDDED_H
#define INLAY_SENSOR_EMBEDDED_H

extern const unsigned char inlay_sensor_amd64_start[];
extern const unsigned char inlay_sensor_amd64_end[];
extern const unsigned char inlay_sensor_arm64_start[];
extern const unsigned char inlay_sensor_arm64_end[];

#endif
