// The `binary` kernel with int64 fields and updates from the CSR rows
// (shaders/binary.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "binary.glsl"
