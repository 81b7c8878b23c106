#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace malfix::sinks {

/// Appends text as a JSON string (RFC 8259 §7) with its quotes: '"' and '\' escaped, control
/// characters as \u00XX, and every byte that is not part of well-formed UTF-8 replaced by
/// U+FFFD, so any name an Exporter sends yields valid JSON.
void append_json_string(std::string& out, std::string_view text);

/// Appends nanoseconds since the Unix epoch as a quoted RFC 3339 UTC time with milliseconds
/// ("2016-04-07T17:11:32.478Z"), or null when ns is 0.
void append_json_time(std::string& out, std::int64_t ns);

}  // namespace malfix::sinks
