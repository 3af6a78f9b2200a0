#pragma once
// `crisisd replay --chart FILE.svg`: the story of a replay as one hand-written SVG. Per key (a
// rule's detector state), over event time: the window's volume (mentions per minute) with the
// learned baseline and the level at which the rule's volume_ratio condition fires, the negative
// share with its threshold, and the spans from each incident's opening to its clearing.
//
// The recorder samples every live key at a fixed step of event time while replay runs (keys
// retire when idle, which reads as zero volume), keeps at most `max_series` keys, and renders
// the most eventful ones: keys with incidents first, then by peak volume. Plain data; one owner.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "pipeline/pipeline.hpp"

namespace crisisd::report {

struct chart_options {
    core::duration step = std::chrono::seconds(5);  // sampling step in event time
    std::size_t max_series = 200;                    // keys recorded
    std::size_t max_panels = 8;                      // keys drawn
    std::string title;                               // e.g. the input file's name
};

class chart_recorder {
public:
    explicit chart_recorder(chart_options o = {});

    // Samples every live key when a step has passed since the last sample; cheap otherwise.
    void sample(const pipeline::pipeline& p, core::timestamp t);

    // The SVG document. Incidents are read from the pipeline's engine.
    std::string render(const pipeline::pipeline& p) const;

    struct point {
        core::timestamp at{};
        float rate = 0, baseline = 0, negative_ratio = 0, count = 0;
    };

private:
    chart_options options_;
    std::optional<core::timestamp> next_sample_;
    core::timestamp first_{}, last_{};
    std::map<std::pair<std::size_t, std::string>, std::vector<point>> series_;
};

}  // namespace crisisd::report
