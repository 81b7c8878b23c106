#pragma once

#include "engine/pipeline.hpp"

#include <chrono>

namespace malfix::apps {

/// Turns pipeline counters into the periodic stats line (rates since the last line) and the
/// closing summary (totals).
class StatsReporter {
public:
    explicit StatsReporter(const engine::Pipeline& pipeline);

    void report();
    void summary() const;

private:
    const engine::Pipeline& pipeline_;
    engine::PipelineStats last_;
    std::chrono::steady_clock::time_point last_time_;
};

}  // namespace malfix::apps
