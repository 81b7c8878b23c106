#pragma once

#include "ipfix/session.hpp"

#include <cstddef>
#include <span>
#include <string_view>

namespace malfix::engine {

/// What an input does with a Message after handing it on.
enum class Verdict : unsigned char {
    kAccepted,  ///< decoded (possibly with counted Set/record drops)
    kRejected,  ///< malformed Message: UDP and files skip it; TCP closes the session
};

/// Why the last Message was rejected, for the input's own report ("file F: offset N: ...").
struct Rejection {
    std::string_view reason;  ///< a stable snake_case label, empty when nothing was rejected
    std::size_t offset = 0;   ///< byte offset inside the Message where the fault was found
};

/// Where inputs (listeners, file and capture readers) deliver Messages. One MessageConsumer
/// belongs to one input thread: every call for it comes from that thread, so it keeps its
/// partial batches and counters without locks.
///
/// on_message() may block when the matcher queues are full. That is the back-pressure
/// path: a TCP listener blocked here stops reading its socket, so the exporter slows down.
/// UDP inputs call it too; the consumer itself counts the flows it had to drop.
class MessageConsumer {
public:
    virtual ~MessageConsumer() = default;

    virtual Verdict on_message(ipfix::Session& session, std::span<const std::byte> message) = 0;
    /// Ships partial batches. Inputs call it when they go idle (a short timer) and at the end
    /// of a file, so flows never wait for a batch to fill.
    virtual void flush() = 0;
    /// Why the last on_message() call returned kRejected.
    virtual Rejection last_rejection() const { return {}; }
    /// A Transport Session ended (connection closed, file done); its templates die with it.
    virtual void on_session_closed(ipfix::Session& session) { (void)session; }
};

}  // namespace malfix::engine
