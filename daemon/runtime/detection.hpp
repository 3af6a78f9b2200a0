#pragma once
// What the runtime's parts share: the pipeline (a reload replaces it), the step its mentions,
// ticks and commands are building, and the incidents commands changed since the last save.
// Intake and the tick fill the step; the step handler empties it. One thread uses it.
#include <cstdint>
#include <memory>
#include <vector>

#include "pipeline/pipeline.hpp"

namespace crisisd::runtime {

struct detection {
    std::unique_ptr<pipeline::pipeline> pipe;
    pipeline::step_result step;
    std::vector<std::uint64_t> touched;
};

}  // namespace crisisd::runtime
