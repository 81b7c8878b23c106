#pragma once

#include "engine/input.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::engine {

/// Outcome of looking for one Message at the start of a byte stream (TCP, file, datagram).
enum class FrameStatus : std::uint8_t {
    kComplete,    ///< a whole Message of FrameResult::length bytes is available
    kNeedMore,    ///< the header or the Message is not complete yet
    kBadVersion,  ///< Version is not 10: framing is lost (or the peer speaks NetFlow)
    kBadLength,   ///< Length under 16: the stream can not advance by it
};

struct FrameResult {
    FrameStatus status = FrameStatus::kNeedMore;
    std::size_t length = 0;     ///< the header's Length once it could be read, else 0
    std::uint16_t version = 0;  ///< the header's Version once it could be read, else 0
};

/// Smallest IPFIX Message: the 16-octet Message Header (RFC 7011 §3.1).
inline constexpr std::size_t kMessageHeaderLength = 16;

/// Frames the Message that starts at bytes by its header alone (RFC 7011 §3.1, §10.4.2: a
/// stream carries Messages back to back, each announcing its own Length). Shared by every
/// input so all of them agree on what a broken header is. Never reads past bytes.
FrameResult frame_message(std::span<const std::byte> bytes);

std::string_view frame_status_name(FrameStatus status);

/// What a file or capture reader did. messages counts every Message handed to the consumer,
/// rejected the subset it refused; bytes are the octets of the handed-on Messages.
struct InputSummary {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t rejected = 0;
    std::uint64_t resyncs = 0;        ///< times framing was lost and searched for again
    std::uint64_t skipped_bytes = 0;  ///< octets thrown away while framing was lost
    std::uint64_t error_count = 0;    ///< every error, including those not kept below
    /// The first kMaxKeptErrors errors as "PATH: offset N: reason", for the app to print.
    std::vector<std::string> errors;

    static constexpr std::size_t kMaxKeptErrors = 16;

    void add_error(std::string text);
};

/// Reads an IPFIX file (RFC 5655: Messages back to back, no other framing) and hands each
/// Message to a consumer on one Transport::kFile Session named "file:PATH".
///
/// A Message the consumer rejects is skipped; the stream is still framed. A broken header
/// (Version not 10, Length under 16 or past the end of the file) means framing is lost: the
/// error is reported and the reader scans forward for the next plausible Message Header.
/// At the end it calls consumer.flush() and then consumer.on_session_closed().
class FileReader {
public:
    /// Opens nothing yet; run() does. path is used as given in the Session and error texts.
    explicit FileReader(std::string path);

    /// Reads the whole file. Throws std::runtime_error only if the file can not be opened or
    /// read; anything wrong inside the file is reported in the summary instead.
    InputSummary run(MessageConsumer& consumer);

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace malfix::engine
