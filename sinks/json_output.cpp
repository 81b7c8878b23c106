#include "sinks/json_output.hpp"

#include "sinks/json_text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <utility>

namespace malfix::sinks {

namespace {

void append_number(std::string& out, std::uint64_t v) {
    char text[24];
    const auto result = std::to_chars(text, text + sizeof text, v);
    out.append(text, result.ptr);
}

/// Writes v (0..99) as two digits.
void put_two_digits(char* at, int v) {
    at[0] = static_cast<char>('0' + v / 10);
    at[1] = static_cast<char>('0' + v % 10);
}

/// The date part of a time, kept for the day it was made for: the flows of a batch nearly
/// always share their day, and gmtime_r() and snprintf() were over half of a line's cost.
struct DayText {
    std::int64_t day = -1;
    char text[10] = {};
};

/// append_json_time() with the same output, faster for times from 1970 to 9999; others,
/// and 0 (null), go to append_json_time().
void append_time(std::string& out, std::int64_t ns) {
    constexpr std::int64_t kNanosPerMilli = 1'000'000;
    constexpr std::int64_t kSecondsPerDay = 86'400;
    constexpr std::int64_t kLastMilli = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
    const std::int64_t ms = ns / kNanosPerMilli;
    if (ns <= 0 || ms > kLastMilli) {
        append_json_time(out, ns);
        return;
    }
    const std::int64_t secs = ms / 1000;
    const std::int64_t day = secs / kSecondsPerDay;
    thread_local DayText cached;
    if (cached.day != day) {
        const auto t = static_cast<std::time_t>(day * kSecondsPerDay);
        std::tm tm{};
        // A day that does not start at 00:00:00 means the time zone data counts leap seconds
        // (TZ=right/...), which gmtime_r() then applies: leave such times to it.
        if (gmtime_r(&t, &tm) == nullptr || tm.tm_hour != 0 || tm.tm_min != 0 || tm.tm_sec != 0) {
            append_json_time(out, ns);
            return;
        }
        const int year = tm.tm_year + 1900;
        put_two_digits(cached.text, year / 100);
        put_two_digits(cached.text + 2, year % 100);
        cached.text[4] = '-';
        put_two_digits(cached.text + 5, tm.tm_mon + 1);
        cached.text[7] = '-';
        put_two_digits(cached.text + 8, tm.tm_mday);
        cached.day = day;
    }
    const auto of_day = static_cast<int>(secs - day * kSecondsPerDay);
    const auto millis = static_cast<int>(ms % 1000);
    // "YYYY-MM-DDThh:mm:ss.mmmZ" with its quotes.
    char text[26];
    text[0] = '"';
    std::memcpy(text + 1, cached.text, sizeof cached.text);
    text[11] = 'T';
    put_two_digits(text + 12, of_day / 3600);
    text[14] = ':';
    put_two_digits(text + 15, of_day / 60 % 60);
    text[17] = ':';
    put_two_digits(text + 18, of_day % 60);
    text[20] = '.';
    text[21] = static_cast<char>('0' + millis / 100);
    put_two_digits(text + 22, millis % 100);
    text[24] = 'Z';
    text[25] = '"';
    out.append(text, sizeof text);
}

void append_address(std::string& out, const ipfix::IpAddress& addr) {
    if (addr.empty()) {
        out.append("null");
        return;
    }
    char text[ipfix::IpAddress::kMaxTextLength + 3];
    std::size_t n = 0;
    text[n++] = '"';
    if (addr.is_v4()) {
        // The dotted quad inet_ntop() writes, without its sprintf().
        for (std::size_t i = 0; i < 4; ++i) {
            const unsigned octet = addr.bytes[i];
            if (octet >= 100) {
                text[n++] = static_cast<char>('0' + octet / 100);
            }
            if (octet >= 10) {
                text[n++] = static_cast<char>('0' + octet / 10 % 10);
            }
            text[n++] = static_cast<char>('0' + octet % 10);
            text[n++] = i < 3 ? '.' : '"';
        }
    } else {
        n += addr.format(text + n);
        text[n++] = '"';
    }
    out.append(text, n);
}

/// append_json_string(), with a shortcut for the usual text that needs no escaping and no
/// UTF-8 check (printable ASCII without '"' and '\\'): appended in one piece.
void append_string(std::string& out, std::string_view text) {
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F || c == '"' || c == '\\') {
            append_json_string(out, text);
            return;
        }
    }
    out.push_back('"');
    out.append(text);
    out.push_back('"');
}

void append_hits(std::string& out, std::span<const engine::Hit> hits) {
    out.push_back('[');
    for (std::size_t i = 0; i < hits.size(); ++i) {
        const engine::Hit& hit = hits[i];
        out.append(i == 0 ? "{\"type\":" : ",{\"type\":");
        append_string(out, engine::hit_type_name(hit.type));
        out.append(",\"trail\":");
        append_string(out, hit.trail);
        out.append(",\"info\":");
        append_string(out, hit.info);
        out.append(",\"reference\":");
        append_string(out, hit.reference);
        out.append(",\"field\":");
        append_string(out, engine::hit_field_name(hit.field));
        out.push_back('}');
    }
    out.push_back(']');
}

}  // namespace

JsonOutput::JsonOutput(std::string name, const std::string& path, const OutputOptions& options)
    : name_(std::move(name)), buffer_(std::max<std::size_t>(options.buffer_bytes, 4096)) {
    if (path == "-") {
        // stdout keeps the C library's buffering: setvbuf() is only allowed before its first use.
        file_ = stdout;
    } else {
        file_ = std::fopen(path.c_str(), "w");
        if (file_ == nullptr) {
            throw std::runtime_error("cannot open JSON output file '" + path +
                                     "': " + std::strerror(errno));
        }
        owns_file_ = true;
        std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
    }
    line_.reserve(4096);
}

JsonOutput::~JsonOutput() {
    flush();
    if (owns_file_) {
        std::fclose(file_);
    }
}

void JsonOutput::format_flow(std::string& out, const engine::FlowBatch& batch,
                             const engine::FlowRecord& flow) {
    // Each key is appended together with the punctuation around it.
    const ipfix::FlowView& v = flow.view;
    out.append("{\"time_start\":");
    append_time(out, v.start_ns);
    out.append(",\"time_end\":");
    append_time(out, v.end_ns);
    out.append(",\"src_addr\":");
    append_address(out, v.src_addr);
    out.append(",\"dst_addr\":");
    append_address(out, v.dst_addr);
    out.append(",\"src_port\":");
    append_number(out, v.src_port);
    out.append(",\"dst_port\":");
    append_number(out, v.dst_port);
    out.append(",\"proto\":");
    append_number(out, v.protocol);
    out.append(",\"bytes\":");
    append_number(out, v.octets);
    out.append(",\"packets\":");
    append_number(out, v.packets);
    if (v.dns_count > 0) {
        out.append(",\"dns_qnames\":[");
        for (std::size_t i = 0; i < v.dns_count; ++i) {
            std::string_view qname = v.dns_name(i);
            if (!qname.empty() && qname.back() == '.') {
                qname.remove_suffix(1);
            }
            if (i != 0) {
                out.push_back(',');
            }
            append_string(out, qname);
        }
        out.push_back(']');
    }
    out.append(",\"hits\":");
    append_hits(out, batch.hits_of(flow));
    out.append(",\"exporter\":");
    if (flow.exporter < batch.exporters.size() && batch.exporters[flow.exporter]) {
        append_string(out, *batch.exporters[flow.exporter]);
    } else {
        out.append("null");
    }
    out.append(",\"observation_domain\":");
    append_number(out, v.observation_domain);
    out.append("}\n");
}

void JsonOutput::write(const engine::FlowBatch& batch) {
    for (const engine::FlowRecord& flow : batch.flows) {
        if (!flow.forward) {
            continue;
        }
        line_.clear();
        format_flow(line_, batch, flow);
        if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
            OutputCounters::add(counters_.errors, 1);
            OutputCounters::add(counters_.dropped, 1);
            continue;
        }
        OutputCounters::add(counters_.flows, 1);
        OutputCounters::add(counters_.messages, 1);
        OutputCounters::add(counters_.bytes, line_.size());
    }
}

void JsonOutput::flush() {
    if (std::fflush(file_) != 0) {
        OutputCounters::add(counters_.errors, 1);
    }
}

}  // namespace malfix::sinks
