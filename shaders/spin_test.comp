// Test kernel: busy work for a known time, to exercise the dispatch
// timeout. Each invocation mixes its word `rounds` times; keep rounds
// under 65,535 (Mesa llvmpipe ends longer loops early, docs/vulkan.md).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "rng.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) buffer Words {
  uint words[];
};
layout(push_constant) uniform Push {
  uint count;
  uint rounds;
} pc;

void main()
{
  uint i = gl_GlobalInvocationID.x;
  if (i >= pc.count)
    return;
  uint x = words[i];
  for (uint r = 0u; r < pc.rounds; r++)
    x = rng_mix(x + r);
  words[i] = x;
}
