// Matching: engine::match_batch over full batches of decoded flows, against the sample trails
// and, when MALFIX_FULL_TRAILS names a Maltrail trails directory, the full static trails.

#include "bench/micro_fixtures.hpp"
#include "engine/matcher.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

namespace malfix::bench {
namespace {

/// A batch is matched once in the engine, so every pass refills it (untimed) before matching:
/// the text arena for rendered trails starts empty each time, as it does in the engine.
void match(benchmark::State& state, bool full, FlowMix mix) {
    const Intel* intel = full ? full_intel() : &sample_intel();
    if (intel == nullptr) {
        state.SkipWithError("MALFIX_FULL_TRAILS is not set");
        return;
    }
    const std::unique_ptr<DecodedFlows> decoded =
        decode_file(build_messages(make_flows(*intel, mix, engine::FlowBatch::kMaxFlows)));
    engine::FlowBatch batch;
    engine::MatchCounters counters;
    fill_batch(batch, decoded->views);
    for (auto _ : state) {
        state.PauseTiming();
        batch.clear();
        fill_batch(batch, decoded->views);
        state.ResumeTiming();
        engine::match_batch(batch, intel->snapshot, engine::Mode::kAlert, counters);
    }
    const bool should_hit = mix == FlowMix::kMaliciousIp || mix == FlowMix::kMaliciousDns;
    if ((counters.flows_with_hits.load() != 0) != should_hit) {
        state.SkipWithError("the flows did not match as their mix says");
    }
    report_records(state, batch.size());
}

/// The real yaf capture (DNS names from the subTemplateMultiList), against the sample.
void match_yaf(benchmark::State& state) {
    const std::unique_ptr<DecodedFlows> decoded =
        decode_file(data_file("sample/yaf_mixed_v4v6_dpi.yaf"));
    engine::FlowBatch batch;
    engine::MatchCounters counters;
    for (auto _ : state) {
        state.PauseTiming();
        batch.clear();
        fill_batch(batch, decoded->views);
        state.ResumeTiming();
        engine::match_batch(batch, sample_intel().snapshot, engine::Mode::kAlert, counters);
    }
    report_records(state, batch.size());
}

bool register_all() {
    const char* full = std::getenv("MALFIX_FULL_TRAILS");
    const bool have_full = full != nullptr && *full != '\0';
    for (const bool use_full : {false, true}) {
        if (use_full && !have_full) {
            continue;
        }
        for (FlowMix mix : {FlowMix::kBenignNoName, FlowMix::kBenignName, FlowMix::kMaliciousIp,
                            FlowMix::kMaliciousDns}) {
            const std::string name = std::string("match/") + (use_full ? "full/" : "sample/") +
                                     std::string(mix_name(mix));
            benchmark::RegisterBenchmark(name.c_str(), match, use_full, mix);
        }
    }
    benchmark::RegisterBenchmark("match/sample/yaf_mixed_dpi", match_yaf);
    return true;
}

const bool registered = register_all();

}  // namespace
}  // namespace malfix::bench
