#pragma once

// Test-only helpers around decode_message(): a sink that keeps copies of the flows, and
// reading IPFIX files from tests/data.

#include "ipfix/decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace malfix::ipfix::test {

/// A FlowView made to outlive the callback: record bytes, names and templates copied.
struct CapturedFlow {
    FlowView view;  ///< record, tmpl and nested are cleared: they die with the callback
    std::vector<std::byte> record;
    std::vector<std::string> dns_names;
    std::vector<std::uint16_t> dns_qtypes;
    std::vector<DnsQuery> dns;
    std::shared_ptr<const Template> tmpl;
    std::vector<std::shared_ptr<const Template>> nested;
};

class CollectingSink : public FlowSink {
public:
    void on_flow(const FlowView& flow) override {
        CapturedFlow c;
        c.view = flow;
        c.record.assign(flow.record.begin(), flow.record.end());
        for (std::size_t i = 0; i < flow.dns_count; ++i) {
            c.dns_names.emplace_back(flow.dns_name(i));
            c.dns_qtypes.push_back(flow.dns[i].qtype);
            c.dns.push_back(flow.dns[i]);
        }
        if (flow.tmpl != nullptr) {
            c.tmpl = *flow.tmpl;
        }
        for (std::size_t i = 0; i < flow.nested_count; ++i) {
            c.nested.push_back(*flow.nested[i]);
        }
        c.view.record = {};
        c.view.tmpl = nullptr;
        c.view.nested = {};
        flows.push_back(std::move(c));
    }

    std::vector<CapturedFlow> flows;
};

inline std::vector<std::byte> read_data_file(const std::string& relative) {
    std::ifstream in(std::string(MALFIX_TEST_DATA) + "/" + relative, std::ios::binary);
    const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    for (std::size_t i = 0; i < chars.size(); ++i) {
        bytes[i] = static_cast<std::byte>(chars[i]);
    }
    return bytes;
}

/// What feeding a whole file gave.
struct FileResult {
    std::size_t messages = 0;  ///< Messages framed
    std::size_t refused = 0;   ///< of which decode_message() said ok == false
};

/// Frames a stream of Messages with message_length(), as a file or TCP reader does, and
/// decodes each. A Message running past the end of the file is still handed over whole, so
/// the decoder sees (and counts) the short read.
inline FileResult decode_stream(std::span<const std::byte> bytes, Session& session,
                                DecodeCounters& counters, FlowSink& sink,
                                std::int64_t now = 1'700'000'000) {
    FileResult result;
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        const std::span<const std::byte> rest = bytes.subspan(offset);
        std::size_t length = message_length(rest);
        if (length == 0 || length > rest.size()) {
            length = rest.size();
        }
        ++result.messages;
        if (!decode_message(rest.first(length), session, counters, sink, now).ok) {
            ++result.refused;
        }
        offset += length;
    }
    return result;
}

inline FileResult decode_file(const std::string& relative, Session& session,
                              DecodeCounters& counters, FlowSink& sink,
                              std::int64_t now = 1'700'000'000) {
    const std::vector<std::byte> bytes = read_data_file(relative);
    return decode_stream(bytes, session, counters, sink, now);
}

inline std::uint64_t total_drops(const DecodeCounters& counters) {
    std::uint64_t sum = 0;
    for (const std::uint64_t d : counters.drops) {
        sum += d;
    }
    return sum;
}

}  // namespace malfix::ipfix::test
