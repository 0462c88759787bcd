// The `binary` kernel with int32 fields and updates from the dense matrix
// (shaders/binary.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#define BINARY_NARROW 1
#define BINARY_DENSE 1
#include "binary.glsl"
