#include "engine/file_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace malfix::engine {

namespace {

constexpr std::uint16_t kIpfixVersion = 10;
constexpr std::size_t kMaxMessageLength = 65535;
// Resync looks at a candidate Message and at the header that should follow it.
constexpr std::size_t kResyncWindow = kMaxMessageLength + 4;
constexpr std::size_t kReadBufferSize = std::size_t{1} << 20;

std::uint16_t read_u16(std::span<const std::byte> bytes, std::size_t at) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[at]) << 8) |
                                      std::to_integer<unsigned>(bytes[at + 1]));
}

// A sliding window over the file, so files of any size are read in large chunks while a
// Message (at most 64 KiB) plus the header after it can always be looked at in one piece.
class FileWindow {
public:
    FileWindow(std::ifstream& in, const std::string& path)
        : in_(in), path_(path), buf_(kReadBufferSize) {}

    // Up to want readable bytes from the current position; fewer only at the end of the file.
    std::span<const std::byte> peek(std::size_t want) {
        if (end_ - pos_ < want && !eof_) {
            refill(want);
        }
        const std::size_t n = std::min(want, end_ - pos_);
        return {buf_.data() + pos_, n};
    }

    void advance(std::size_t n) {
        pos_ += n;
        offset_ += n;
    }

    std::uint64_t offset() const { return offset_; }

private:
    void refill(std::size_t want) {
        if (pos_ + want > buf_.size()) {
            std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
            end_ -= pos_;
            pos_ = 0;
        }
        while (end_ - pos_ < want && !eof_) {
            in_.read(reinterpret_cast<char*>(buf_.data() + end_),
                     static_cast<std::streamsize>(buf_.size() - end_));
            const auto got = static_cast<std::size_t>(in_.gcount());
            end_ += got;
            if (in_.bad()) {
                throw std::runtime_error(path_ + ": read error");
            }
            if (in_.eof() || got == 0) {
                eof_ = true;
            }
        }
    }

    std::ifstream& in_;
    const std::string& path_;
    std::vector<std::byte> buf_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    std::uint64_t offset_ = 0;
    bool eof_ = false;
};

// Whether the first Set of a candidate Message looks like one (RFC 7011 §3.3.2): random bytes
// pass the version and length test often enough that one more field pays for itself.
bool plausible_first_set(std::span<const std::byte> message) {
    if (message.size() == kMessageHeaderLength) {
        return true;  // a header-only Message is legal, if odd
    }
    if (message.size() < kMessageHeaderLength + 4) {
        return false;
    }
    const std::uint16_t set_id = read_u16(message, 16);
    const std::uint16_t set_length = read_u16(message, 18);
    const bool id_ok = set_id == 2 || set_id == 3 || set_id >= 256;
    return id_ok && set_length >= 4 && set_length <= message.size() - kMessageHeaderLength;
}

// A complete Message, with a sane first Set, starts at window.
bool message_fits(std::span<const std::byte> window) {
    const FrameResult frame = frame_message(window);
    return frame.status == FrameStatus::kComplete &&
           plausible_first_set(window.first(frame.length));
}

// Also the header after it looks right (or the file ends there): a far stronger sign of a
// real Message than its own header, which random octets match now and then.
bool message_and_next_fit(std::span<const std::byte> window, bool at_eof) {
    if (!message_fits(window)) {
        return false;
    }
    const std::span<const std::byte> rest = window.subspan(frame_message(window).length);
    if (rest.size() >= 4) {
        const FrameResult next = frame_message(rest.first(4));
        return next.version == kIpfixVersion && next.status != FrameStatus::kBadLength;
    }
    if (rest.size() >= 2) {
        return read_u16(rest, 0) == kIpfixVersion;
    }
    return at_eof && rest.empty();
}

// Whether a strongly confirmed Message starts within one maximal Message after the first
// octet of window; window should reach kResyncWindow past that span when the file allows.
bool strong_candidate_ahead(std::span<const std::byte> window, bool at_eof) {
    const std::size_t last = std::min(window.size(), kMaxMessageLength + 1);
    for (std::size_t i = 1; i < last; ++i) {
        const auto candidate = window.subspan(i, std::min(kResyncWindow, window.size() - i));
        const bool candidate_eof = at_eof && candidate.size() == window.size() - i;
        if (message_and_next_fit(candidate, candidate_eof)) {
            return true;
        }
    }
    return false;
}

std::string header_fault(const FrameResult& frame) {
    if (frame.status == FrameStatus::kBadVersion) {
        return "Version " + std::to_string(frame.version) + " is not 10, framing lost";
    }
    return "Length " + std::to_string(frame.length) + " is under 16, framing lost";
}

class FileRun {
public:
    FileRun(const std::string& path, std::ifstream& in, MessageConsumer& consumer)
        : path_(path),
          window_(in, path),
          consumer_(consumer),
          session_(ipfix::Transport::kFile, "file:" + path) {}

    InputSummary run() {
        while (step()) {
        }
        consumer_.flush();
        consumer_.on_session_closed(session_);
        return std::move(summary_);
    }

private:
    // Handles the Message (or the fault) at the current offset; false at the end of the file.
    bool step() {
        const std::span<const std::byte> head = window_.peek(kMessageHeaderLength);
        if (head.empty()) {
            return false;
        }
        const FrameResult frame = frame_message(head);
        if (frame.status == FrameStatus::kBadVersion || frame.status == FrameStatus::kBadLength) {
            lose_framing(header_fault(frame));
            return true;
        }
        if (head.size() < kMessageHeaderLength) {
            error("truncated Message Header (" + std::to_string(head.size()) + " octets left)");
            summary_.skipped_bytes += head.size();
            window_.advance(head.size());
            return false;
        }

        const std::span<const std::byte> message = window_.peek(frame.length);
        if (message.size() < frame.length) {
            lose_framing("Length " + std::to_string(frame.length) +
                         " runs past the end of the file (" + std::to_string(message.size()) +
                         " octets left)");
            return true;
        }
        deliver(message);
        window_.advance(message.size());
        return true;
    }

    void deliver(std::span<const std::byte> message) {
        ++summary_.messages;
        summary_.bytes += message.size();
        if (consumer_.on_message(session_, message) == Verdict::kRejected) {
            ++summary_.rejected;
            const Rejection why = consumer_.last_rejection();
            summary_.add_error(path_ + ": offset " + std::to_string(window_.offset()) +
                               ": Message skipped: " + std::string(why.reason) + " at octet " +
                               std::to_string(why.offset) + " of the Message");
        }
    }

    // Reports the fault at the current offset, then moves to the next plausible header: one
    // confirmed by the header after it, or failing any such within a Message's reach, the
    // first that frames on its own (a Message followed by more damage).
    void lose_framing(const std::string& reason) {
        error(reason);
        ++summary_.resyncs;
        window_.advance(1);
        ++summary_.skipped_bytes;
        while (true) {
            const std::span<const std::byte> window = window_.peek(kResyncWindow);
            if (window.empty()) {
                return;
            }
            if (message_and_next_fit(window, window.size() < kResyncWindow)) {
                return;
            }
            if (message_fits(window)) {
                const auto ahead = window_.peek(2 * kResyncWindow);
                if (!strong_candidate_ahead(ahead, ahead.size() < 2 * kResyncWindow)) {
                    return;
                }
            }
            window_.advance(1);
            ++summary_.skipped_bytes;
        }
    }

    void error(const std::string& reason) {
        summary_.add_error(path_ + ": offset " + std::to_string(window_.offset()) + ": " + reason);
    }

    const std::string& path_;
    FileWindow window_;
    MessageConsumer& consumer_;
    ipfix::Session session_;
    InputSummary summary_;
};

}  // namespace

FrameResult frame_message(std::span<const std::byte> bytes) {
    FrameResult result;
    if (bytes.size() < 2) {
        return result;
    }
    result.version = read_u16(bytes, 0);
    if (result.version != kIpfixVersion) {
        result.status = FrameStatus::kBadVersion;
        return result;
    }
    if (bytes.size() < 4) {
        return result;
    }
    result.length = read_u16(bytes, 2);
    if (result.length < kMessageHeaderLength) {
        result.status = FrameStatus::kBadLength;
        return result;
    }
    result.status = bytes.size() >= result.length ? FrameStatus::kComplete : FrameStatus::kNeedMore;
    return result;
}

std::string_view frame_status_name(FrameStatus status) {
    switch (status) {
        case FrameStatus::kComplete:
            return "complete";
        case FrameStatus::kNeedMore:
            return "need_more";
        case FrameStatus::kBadVersion:
            return "bad_version";
        case FrameStatus::kBadLength:
            return "bad_length";
    }
    return "unknown";
}

void InputSummary::add_error(std::string text) {
    ++error_count;
    if (errors.size() < kMaxKeptErrors) {
        errors.push_back(std::move(text));
    }
}

FileReader::FileReader(std::string path) : path_(std::move(path)) {}

InputSummary FileReader::run(MessageConsumer& consumer) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
        throw std::runtime_error(path_ + ": can not open: " + std::strerror(errno));
    }
    FileRun file_run(path_, in, consumer);
    return file_run.run();
}

}  // namespace malfix::engine
