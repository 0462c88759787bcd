// Test kernel: every function of rng.glsl on given inputs, so the C test
// can compare each value with host/anneal/rng.h bit for bit.
//
// Item i reads inputs[i] = (a, b, c, d) and writes RNG_TEST_OUTPUTS words
// at outputs[i * RNG_TEST_OUTPUTS]; tests/c/test_vk.c lists them in the
// same order. One invocation per item, no loops.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "rng.glsl"

#define RNG_TEST_OUTPUTS 9

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Inputs {
  uvec4 inputs[];
};
layout(std430, set = 0, binding = 1) writeonly buffer Outputs {
  uint outputs[];
};
layout(push_constant) uniform Push {
  uint count;
} pc;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= pc.count)
    return;
  uvec4 v = inputs[i];
  uint o = i * RNG_TEST_OUTPUTS;
  outputs[o + 0] = rng_mix(v.x);
  outputs[o + 1] = rng_hash3(v.x, v.y, v.z);
  outputs[o + 2] = rng_mulhi(v.x, v.y);
  outputs[o + 3] = rng_mullo(v.x, v.y);
  outputs[o + 4] = rng_seed_key(v.x, v.y);
  outputs[o + 5] = rng_slot_key(v.x, v.y);
  outputs[o + 6] = rng_sweep_key(v.x, v.y, v.z);
  outputs[o + 7] = rng_draw(v.x, v.y, v.w & 1u);
  outputs[o + 8] = rng_exchange(v.x, v.y, v.z, v.w);
}
