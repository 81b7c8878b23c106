#pragma once

#include "engine/flow_batch.hpp"

#include <cstdint>
#include <string>

namespace malfix::sinks {

/// Counters every output keeps; read by the stats line and the metrics endpoint.
struct OutputStats {
    std::uint64_t flows = 0;     ///< flows written
    std::uint64_t messages = 0;  ///< IPFIX Messages, JSON lines, ... handed to the transport
    std::uint64_t bytes = 0;
    std::uint64_t errors = 0;   ///< write failures (connection lost, disk full, ...)
    std::uint64_t dropped = 0;  ///< flows that could not be written
};

/// An output. Only the serializer thread calls write() and flush(); stats() may be called
/// from any thread and returns a consistent-enough copy (relaxed atomics inside).
class Output {
public:
    virtual ~Output() = default;

    /// Writes every flow of the batch whose forward flag is set, with its hits.
    virtual void write(const engine::FlowBatch& batch) = 0;
    /// Pushes buffered data to the transport; called when the input goes idle and at exit.
    virtual void flush() = 0;
    /// Called periodically by the serializer (about once a second) for time-based work such
    /// as resending templates over UDP or reconnecting.
    virtual void tick(std::int64_t now_s) { (void)now_s; }
    virtual OutputStats stats() const = 0;
    virtual const std::string& name() const = 0;
};

}  // namespace malfix::sinks
