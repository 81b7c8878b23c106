#pragma once

#include "engine/batch_queue.hpp"
#include "engine/dispatcher.hpp"
#include "engine/matcher.hpp"
#include "intel/snapshot.hpp"
#include "sinks/output.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace malfix::engine {

struct PipelineOptions {
    std::size_t matchers = 1;
    Mode mode = Mode::kAlert;
    /// Batches per matcher in the pool; with the per-input share this bounds memory and the
    /// latency a saturated pipeline can build up.
    std::size_t batches_per_matcher = 4;
    std::size_t max_inputs = 4;
};

/// Sums of every thread's counters at one moment, for the stats line and the summary.
struct PipelineStats {
    std::uint64_t messages = 0;
    std::uint64_t messages_rejected = 0;
    std::uint64_t flows_in = 0;
    std::uint64_t flows_matched = 0;
    std::uint64_t flows_with_hits = 0;
    std::uint64_t flows_out = 0;
    std::uint64_t hits_ip = 0;
    std::uint64_t hits_ip_port = 0;
    std::uint64_t hits_dns = 0;
    std::uint64_t options_records = 0;
    std::uint64_t template_records = 0;
    std::uint64_t sequence_gaps = 0;
    std::uint64_t queue_full_drops = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(ipfix::DropReason::kCount)> drops{};
    std::vector<std::uint64_t> matcher_queue_depth;
    std::size_t batches_in_use = 0;
    /// Hits per feed index, summed over the matchers (issue 5; slot kOtherFeed: the rest).
    std::array<std::uint64_t, kFeedSlots + 1> hits_by_feed{};
    std::uint64_t serializer_queue_depth = 0;

    std::uint64_t hits() const { return hits_ip + hits_ip_port + hits_dns; }
};

/// The threads between the inputs and the outputs: N matcher threads, each fed through its
/// own queue, and one serializer thread that writes forwarded flows to every output.
///
/// Inputs obtain a Dispatcher each (make_dispatcher) and feed it from their own thread.
class Pipeline {
public:
    Pipeline(PipelineOptions options, const intel::SnapshotHolder& intel,
             std::vector<std::unique_ptr<sinks::Output>> outputs);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    /// A new Dispatcher for one input thread; the Pipeline keeps it (for stats) and it lives
    /// as long as the Pipeline.
    Dispatcher& make_dispatcher();

    /// Waits until every flow shipped so far has been written, then flushes every output.
    /// Call after the inputs have stopped and flushed their dispatchers.
    void drain();
    /// Drains, then stops and joins the threads. Idempotent.
    void stop();

    PipelineStats stats() const;
    const std::vector<std::unique_ptr<sinks::Output>>& outputs() const { return outputs_; }

private:
    void run_matcher(std::size_t index);
    void run_serializer();

    PipelineOptions options_;
    const intel::SnapshotHolder& intel_;
    std::vector<std::unique_ptr<sinks::Output>> outputs_;
    BatchPool pool_;
    std::vector<std::unique_ptr<BatchQueue>> matcher_queues_;
    BatchQueue serializer_queue_;
    std::vector<std::unique_ptr<MatchCounters>> match_counters_;
    mutable std::mutex dispatchers_mutex_;
    std::vector<std::unique_ptr<Dispatcher>> dispatchers_;

    alignas(64) std::atomic<std::uint64_t> flows_out_{0};
    std::atomic<std::uint64_t> flush_requested_{0};
    std::atomic<std::uint64_t> flush_done_{0};
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> matchers_;
    std::thread serializer_;
    bool stopped_ = false;
};

}  // namespace malfix::engine
