#include "engine/pipeline.hpp"

#include "engine/file_reader.hpp"
#include "intel/feed_loader.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <string>

namespace malfix::engine {
namespace {

const std::string kSample = std::string(MALFIX_TEST_DATA) + "/sample";

/// An output that remembers what it was given; called from the serializer thread only.
class RecordingOutput final : public sinks::Output {
public:
    void write(const FlowBatch& batch) override {
        for (const FlowRecord& flow : batch.flows) {
            if (!flow.forward) {
                continue;
            }
            ++flows;
            for (const Hit& hit : batch.hits_of(flow)) {
                trails.insert(std::string(hit.trail));
            }
        }
    }
    void flush() override { ++flushes; }
    sinks::OutputStats stats() const override { return {}; }
    const std::string& name() const override { return name_; }

    std::size_t flows = 0;
    std::size_t flushes = 0;
    std::set<std::string> trails;

private:
    std::string name_ = "recording";
};

/// Runs the sample through a whole pipeline and keeps what the output saw (the output itself
/// dies with the pipeline).
struct Run {
    intel::SnapshotHolder holder;
    RecordingOutput seen;
    PipelineStats stats;

    Run(Mode mode, std::size_t matchers) {
        intel::LoadOptions load;
        load.intel_paths.push_back(kSample + "/trails");
        holder.publish(intel::load_snapshot(load).snapshot);
        auto recording = std::make_unique<RecordingOutput>();
        RecordingOutput* output = recording.get();
        std::vector<std::unique_ptr<sinks::Output>> outputs;
        outputs.push_back(std::move(recording));
        PipelineOptions options;
        options.matchers = matchers;
        options.mode = mode;
        Pipeline pipeline(options, holder, std::move(outputs));
        Dispatcher& dispatcher = pipeline.make_dispatcher();
        FileReader(kSample + "/yaf_mixed_v4v6_dpi.yaf").run(dispatcher);
        FileReader(kSample + "/softflowd_sample.ipfix").run(dispatcher);
        pipeline.drain();
        pipeline.stop();
        stats = pipeline.stats();
        seen.flows = output->flows;
        seen.flushes = output->flushes;
        seen.trails = output->trails;
    }
};

const std::set<std::string> kExpected{"(ns1).internal.example.org",
                                      "66.42.72.69:1629",
                                      "129.82.138.12",
                                      "35.203.210.0/24",
                                      "31.210.96.152",
                                      "2400:6180:0:d0::1008:2001"};

}  // namespace

TEST_CASE("alert mode forwards exactly the flows with hits, whatever the matcher count",
          "[engine][pipeline]") {
    for (std::size_t matchers : {1, 2, 5}) {
        Run run(Mode::kAlert, matchers);
        INFO("matchers " << matchers);
        CHECK(run.stats.flows_in == 50);
        CHECK(run.stats.flows_matched == 50);
        CHECK(run.stats.flows_with_hits == 9);
        CHECK(run.stats.flows_out == 9);
        CHECK(run.seen.flows == 9);
        CHECK(run.seen.trails == kExpected);
        CHECK(run.seen.flushes >= 1);
        CHECK(run.stats.batches_in_use == 0);
    }
}

TEST_CASE("pipeline mode forwards every flow with its hits", "[engine][pipeline]") {
    Run run(Mode::kPipeline, 2);
    CHECK(run.stats.flows_out == 50);
    CHECK(run.seen.flows == 50);
    CHECK(run.seen.trails == kExpected);
    CHECK(run.stats.hits() == 9);
}

TEST_CASE("a snapshot swapped while the pipeline runs is picked up by the next batch",
          "[engine][pipeline][reload]") {
    intel::SnapshotHolder holder;
    intel::LoadOptions load;
    load.intel_paths.push_back(kSample + "/trails/custom");
    holder.publish(intel::load_snapshot(load).snapshot);
    auto recording = std::make_unique<RecordingOutput>();
    RecordingOutput* output = recording.get();
    std::vector<std::unique_ptr<sinks::Output>> outputs;
    outputs.push_back(std::move(recording));
    Pipeline pipeline(PipelineOptions{}, holder, std::move(outputs));
    Dispatcher& dispatcher = pipeline.make_dispatcher();

    FileReader(kSample + "/softflowd_sample.ipfix").run(dispatcher);
    pipeline.drain();
    CHECK(output->flows == 0);

    load.intel_paths.push_back(kSample + "/trails");
    holder.publish(intel::load_snapshot(load).snapshot);
    FileReader(kSample + "/softflowd_sample.ipfix").run(dispatcher);
    pipeline.drain();
    CHECK(output->flows == 5);
    pipeline.stop();
}

}  // namespace malfix::engine
