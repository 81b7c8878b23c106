#pragma once

#include "engine/flow_batch.hpp"
#include "intel/snapshot.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace malfix::engine {

/// alert: only flows with hits leave malfix. pipeline: every flow leaves, hits attached.
enum class Mode : std::uint8_t { kAlert, kPipeline };

/// Feeds with their own hit counter; hits of feeds past the last slot share kOtherFeed.
constexpr std::size_t kFeedSlots = 64;
constexpr std::size_t kOtherFeed = kFeedSlots;

/// Counters of one matcher thread. Only that thread writes them; readers load relaxed.
/// alignas keeps each thread's counters on their own cache line, so matchers on adjacent
/// cores never bounce a line between them while counting.
struct alignas(64) MatchCounters {
    std::atomic<std::uint64_t> flows{0};
    std::atomic<std::uint64_t> flows_with_hits{0};
    std::atomic<std::uint64_t> hits_ip{0};
    std::atomic<std::uint64_t> hits_ip_port{0};
    std::atomic<std::uint64_t> hits_dns{0};
    std::atomic<std::uint64_t> batches{0};
    /// Hits per feed (Snapshot::feeds() index), the last slot for every feed past kFeedSlots.
    /// Indexes follow the snapshot in use: a reload that reorders feeds moves counts with them.
    std::array<std::atomic<std::uint64_t>, kFeedSlots + 1> hits_by_feed{};
};

/// Looks up every observable of every flow in the batch (source and destination address,
/// address:port, each DNS name), appends the hits to batch.hits and sets each flow's forward
/// flag for mode. The batch keeps snapshot alive, since the hits point into it.
void match_batch(FlowBatch& batch, std::shared_ptr<const intel::Snapshot> snapshot, Mode mode,
                 MatchCounters& counters);

}  // namespace malfix::engine
