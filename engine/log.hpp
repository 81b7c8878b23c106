#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace malfix::engine {

/// Levels mean one thing each: debug per-record detail, info lifecycle, warn a misbehaving
/// peer, error a local fault.
enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

/// Parses "debug", "info", "warn", "error"; returns false for anything else.
bool parse_log_level(std::string_view text, LogLevel& level);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

/// logfmt (the default) or JSON: one object per line, {"ts":..,"level":..,"msg":..,fields}.
enum class LogFormat : std::uint8_t { kLogfmt, kJson };

/// Parses "logfmt" or "json"; returns false for anything else.
bool parse_log_format(std::string_view text, LogFormat& format);
/// Set once at start-up, before other threads log.
void set_log_format(LogFormat format);

using LogField = std::pair<std::string_view, std::string>;

/// Writes one line to stderr. logfmt: ts=... level=... msg="..." key=value ..., values with
/// spaces, quotes or '=' quoted. JSON: every value a string. Thread-safe; one write per line.
void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

/// Lets through the 1st, 2nd, 4th, 8th, ... occurrence of something a peer can trigger, so a
/// flood of bad Messages costs a handful of log lines. suppressed() tells how many were held.
class LogThrottle {
public:
    bool allow() {
        const std::uint64_t n = ++count_;
        return (n & (n - 1)) == 0;
    }
    std::uint64_t count() const { return count_.load(); }

private:
    std::atomic<std::uint64_t> count_{0};
};

}  // namespace malfix::engine
