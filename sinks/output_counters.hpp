#pragma once

#include "sinks/output.hpp"

#include <atomic>
#include <cstdint>

namespace malfix::sinks {

/// The counters behind Output::stats(). Only the serializer thread adds; any thread may read.
/// Relaxed atomics: the numbers are statistics, nothing is ordered by them.
struct OutputCounters {
    std::atomic<std::uint64_t> flows{0};
    std::atomic<std::uint64_t> messages{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> dropped{0};

    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n) {
        counter.fetch_add(n, std::memory_order_relaxed);
    }

    OutputStats load() const {
        OutputStats s;
        s.flows = flows.load(std::memory_order_relaxed);
        s.messages = messages.load(std::memory_order_relaxed);
        s.bytes = bytes.load(std::memory_order_relaxed);
        s.errors = errors.load(std::memory_order_relaxed);
        s.dropped = dropped.load(std::memory_order_relaxed);
        return s;
    }
};

}  // namespace malfix::sinks
