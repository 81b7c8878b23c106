#pragma once

#include "ipfix/flow_view.hpp"
#include "ipfix/session.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace malfix::ipfix {

/// Why the decoder refused a Message, a Set or a Data Record. Each reason has a counter, and
/// the names returned by reason_name() are the labels used in logs, stats and metrics.
enum class DropReason : std::uint8_t {
    kShortMessage,        ///< fewer bytes than a Message Header, or than its Length field
    kBadVersion,          ///< Version is not 10 (NetFlow v9 and v5 are not IPFIX)
    kBadMessageLength,    ///< Length field under 16 or over the bytes received
    kBadSetLength,        ///< Set Length under 4 or past the end of the Message
    kBadSetId,            ///< Set ID 0, 1 or 4..255 (RFC 7011 §3.3.2 reserves them)
    kEmptySet,            ///< a Set that holds no record (RFC 7011 §3.3.1)
    kBadTemplate,         ///< Template Record truncated, zero fields, bad scope count, ID < 256
    kMissingTemplate,     ///< Data Set for a Template not (or no longer) known: Set skipped
    kBadRecord,           ///< Data Record overruns its Set, or a variable length overruns it
    kBadSubTemplateList,  ///< RFC 6313 list whose content does not fit its field
    kTemplateRedefined,   ///< TCP: a Template ID redefined without a withdrawal (§8.1)
    kCount
};

std::string_view reason_name(DropReason reason);

/// Counters kept by one decoding thread. Not atomic: each thread owns its own and they are
/// summed when read.
struct DecodeCounters {
    std::uint64_t messages = 0;         ///< Messages accepted (ok == true)
    std::uint64_t data_records = 0;     ///< flows yielded to the FlowSink
    std::uint64_t options_records = 0;  ///< Options Template records: counted, not yielded
    std::uint64_t template_records = 0;
    std::uint64_t withdrawals = 0;          ///< Template Withdrawal records, known or not
    std::uint64_t unknown_withdrawals = 0;  ///< withdrawals of a Template that was not live
    std::uint64_t sequence_gaps = 0;        ///< Messages whose Sequence Number was not expected
    std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount)> drops{};

    std::uint64_t& drop(DropReason r) { return drops[static_cast<std::size_t>(r)]; }
};

/// Receives the flows of a Message, one call per Data Record, while the Message is decoded.
class FlowSink {
public:
    virtual ~FlowSink() = default;
    virtual void on_flow(const FlowView& flow) = 0;
};

/// Outcome of decode_message(). ok is false only for faults that condemn the whole Message;
/// Set- and record-level faults are counted and decoding continues after them.
struct DecodeResult {
    bool ok = true;
    DropReason reason = DropReason::kCount;
    std::size_t offset = 0;  ///< byte offset in the Message where the fault was found
};

/// Length of the Message that starts at bytes, from its header; 0 if fewer than 16 bytes
/// are available. Stream readers (TCP, files) use it to frame Messages.
/// A Length field under 16 is reported as 16, so a reader never waits forever on a corrupt
/// stream: it hands those 16 bytes to decode_message(), which refuses them with
/// kBadMessageLength, and the session is closed.
std::size_t message_length(std::span<const std::byte> bytes);

/// Decodes one IPFIX Message received on session. Template Sets update the session's
/// templates; each Data Record of a non-options Template is handed to sink as a FlowView.
/// now is the local time in seconds, used for template expiry on UDP sessions.
///
/// The Message is validated (header, every Set header) before any record is yielded, so a
/// Message refused with ok == false has produced no flow. Never throws, never allocates in the
/// steady state (templates allocate when they are defined).
DecodeResult decode_message(std::span<const std::byte> message, Session& session,
                            DecodeCounters& counters, FlowSink& sink, std::int64_t now);

}  // namespace malfix::ipfix
