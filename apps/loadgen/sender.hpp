#pragma once

#include "apps/loadgen/message_pool.hpp"
#include "apps/loadgen/net.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace malfix::loadgen {

struct SendConfig {
    Url target;
    std::size_t connections = 1;   ///< one thread and one Transport Session each
    double rate = 0;               ///< flows/s over all connections; 0: as fast as accepted
    std::uint64_t flows = 0;       ///< stop after this many flows; 0: no limit
    double duration = 0;           ///< stop after this many seconds; 0: no limit
    double template_interval = 5;  ///< UDP: seconds between Template Message resends
};

struct SendStats {
    std::uint64_t flows = 0;
    std::uint64_t messages = 0;  ///< Template Messages included
    std::uint64_t bytes = 0;
    double seconds = 0;  ///< from every connection being up to the last byte written
    std::string error;   ///< empty when every connection did its share
};

/// Sends the pool's stream over config.connections TCP connections or UDP sockets, each from
/// its own thread, until the flow quota, the duration or stop. TCP sessions start with the
/// Template Message; UDP ones resend it every template_interval seconds (RFC 7011 §8.4).
SendStats send_stream(const MessagePool& pool, const SendConfig& config,
                      const std::atomic<bool>& stop);

/// Writes the same stream as one Transport Session into an IPFIX file (RFC 5655). Every Export
/// Time is export_time, so a given seed always gives the same bytes.
SendStats write_stream(const MessagePool& pool, std::uint64_t flows, std::uint32_t export_time,
                       const std::filesystem::path& path);

}  // namespace malfix::loadgen
