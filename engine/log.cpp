#include "engine/log.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>

namespace malfix::engine {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kLogfmt};

std::string_view level_name(LogLevel level) {
    switch (level) {
        case LogLevel::kDebug:
            return "debug";
        case LogLevel::kInfo:
            return "info";
        case LogLevel::kWarn:
            return "warn";
        case LogLevel::kError:
            return "error";
    }
    return "info";
}

bool needs_quotes(std::string_view value) {
    if (value.empty()) {
        return true;
    }
    for (char c : value) {
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
            return true;
        }
    }
    return false;
}

void append_value(std::string& line, std::string_view value) {
    if (!needs_quotes(value)) {
        line += value;
        return;
    }
    line += '"';
    for (char c : value) {
        if (c == '"' || c == '\\') {
            line += '\\';
            line += c;
        } else if (c == '\n') {
            line += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            line += ' ';
        } else {
            line += c;
        }
    }
    line += '"';
}

void append_timestamp(std::string& line) {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char text[32];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    line.append(text, n);
    char frac[8];
    const int m = std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms.count() % 1000));
    line.append(frac, static_cast<std::size_t>(m));
}

/// A JSON string (RFC 8259 §7): quotes, backslashes and control characters escaped; other
/// bytes pass through, so UTF-8 stays UTF-8.
void append_json_string(std::string& line, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    line += '"';
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            line += '\\';
            line += c;
        } else if (c == '\n') {
            line += "\\n";
        } else if (c == '\t') {
            line += "\\t";
        } else if (u < 0x20) {
            line += "\\u00";
            line += kHex[u >> 4];
            line += kHex[u & 15];
        } else {
            line += c;
        }
    }
    line += '"';
}

void format_logfmt(std::string& line, LogLevel level, std::string_view msg,
                   std::initializer_list<LogField> fields) {
    line += "ts=";
    append_timestamp(line);
    line += " level=";
    line += level_name(level);
    line += " msg=";
    append_value(line, msg);
    for (const auto& [key, value] : fields) {
        line += ' ';
        line += key;
        line += '=';
        append_value(line, value);
    }
}

void format_json(std::string& line, LogLevel level, std::string_view msg,
                 std::initializer_list<LogField> fields) {
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += "\",\"level\":\"";
    line += level_name(level);
    line += "\",\"msg\":";
    append_json_string(line, msg);
    for (const auto& [key, value] : fields) {
        line += ',';
        append_json_string(line, key);
        line += ':';
        append_json_string(line, value);
    }
    line += '}';
}

}  // namespace

bool parse_log_format(std::string_view text, LogFormat& format) {
    if (text == "logfmt") {
        format = LogFormat::kLogfmt;
        return true;
    }
    if (text == "json") {
        format = LogFormat::kJson;
        return true;
    }
    return false;
}

void set_log_format(LogFormat format) {
    g_format.store(format, std::memory_order_relaxed);
}

bool parse_log_level(std::string_view text, LogLevel& level) {
    for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
        if (text == level_name(l)) {
            level = l;
            return true;
        }
    }
    return false;
}

void set_log_level(LogLevel level) {
    g_level.store(level, std::memory_order_relaxed);
}

bool log_enabled(LogLevel level) {
    return level >= g_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
    if (!log_enabled(level)) {
        return;
    }
    std::string line;
    line.reserve(160);
    if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
        format_json(line, level, msg, fields);
    } else {
        format_logfmt(line, level, msg, fields);
    }
    line += '\n';
    // One write(2) per line keeps lines from different threads whole.
    const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

}  // namespace malfix::engine
