#pragma once

#include "engine/capture_reader.hpp"
#include "engine/file_reader.hpp"
#include "engine/listener.hpp"
#include "engine/pipeline.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace malfix::apps {

/// Drops that happen before a Message reaches the decoder: lost framing in files and TCP
/// streams, datagrams that are no IPFIX, capture packets that cannot carry it. The readers
/// report them per input; this tally sums them for the stats line and the summary.
class InputDrops {
public:
    enum Reason : std::size_t {
        kFramingLost,        ///< file or TCP stream: header unusable, resynchronised or closed
        kTruncated,          ///< TCP session ended inside a Message
        kNotIpfix,           ///< datagram or stream that is no IPFIX at all
        kNetflow,            ///< NetFlow v5/v9: not supported, counted
        kUdpMalformed,       ///< datagram whose Messages do not fill it
        kUdpSenderLimit,     ///< datagram of a sender beyond the session limit
        kCaptureUnreadable,  ///< truncated packets and IP fragments in a capture
        kCount
    };

    static std::string_view name(Reason reason);

    void add(Reason reason, std::uint64_t n) {
        counts_[reason].fetch_add(n, std::memory_order_relaxed);
    }
    void add(const engine::InputSummary& file);
    void add(const engine::CaptureSummary& capture);
    /// Network counters are totals already: they replace, not add.
    void set_network(const engine::ListenerStats& stats);

    std::uint64_t get(Reason reason) const {
        return counts_[reason].load(std::memory_order_relaxed) +
               network_[reason].load(std::memory_order_relaxed);
    }

private:
    std::array<std::atomic<std::uint64_t>, kCount> counts_{};
    std::array<std::atomic<std::uint64_t>, kCount> network_{};
};

/// Turns pipeline counters into the periodic stats line (rates since the last line) and the
/// closing summary (totals).
class StatsReporter {
public:
    StatsReporter(const engine::Pipeline& pipeline, const InputDrops& inputs);

    void report();
    void summary() const;

private:
    std::string drops_text(const engine::PipelineStats& s) const;

    const engine::Pipeline& pipeline_;
    const InputDrops& inputs_;
    engine::PipelineStats last_;
    std::chrono::steady_clock::time_point last_time_;
};

}  // namespace malfix::apps
