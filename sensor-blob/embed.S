/* embed.S - links both static sensors into inlay as read-only data, so the
 * one inlay binary carries everything it appends to images. SENSOR_DIR is
 * set by the Makefile to the folder holding sensor-amd64 and sensor-arm64. */


	.section .rodata.inlay_sensors, "a"
	.balign 64
	.globl inlay_sensor_amd64_start
inlay_sensor_amd64_start:
	.incbin SENSOR_DIR_AMD64
	.globl inlay_sensor_amd64_end
inlay_sensor_amd64_end:

	.balign 64
	.globl inlay_sensor_arm64_start
inlay_sensor_arm64_start:
	.incbin SENSOR_DIR_ARM64
	.globl inlay_sensor_arm64_end
inlay_sensor_arm64_end:

	.section .note.GNU-stack, "", @progbits
