#pragma once

// A deliberately small IPFIX reader for checking what the encoder writes. It trusts its input
// (the tests produce it) apart from framing checks, so it is not a model for the real decoder.

#include "ipfix/template.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace malfix::test {

inline std::uint32_t get16(const std::byte* p) {
    return (std::uint32_t(p[0]) << 8) | std::uint32_t(p[1]);
}

inline std::uint32_t get32(const std::byte* p) {
    return (get16(p) << 16) | get16(p + 2);
}

struct ParsedSet {
    std::uint16_t id = 0;
    std::vector<std::byte> body;  ///< without the Set Header
};

struct ParsedMessage {
    std::uint16_t version = 0;
    std::uint16_t length = 0;
    std::uint32_t export_time = 0;
    std::uint32_t sequence = 0;
    std::uint32_t odid = 0;
    std::vector<ParsedSet> sets;
};

struct ParsedTemplate {
    std::uint16_t id = 0;
    std::uint16_t scope = 0;
    std::vector<ipfix::FieldSpec> fields;
    bool withdrawal() const { return fields.empty(); }
};

inline ParsedMessage parse_message(std::span<const std::byte> bytes) {
    if (bytes.size() < 16) {
        throw std::runtime_error("short message");
    }
    ParsedMessage m;
    m.version = static_cast<std::uint16_t>(get16(bytes.data()));
    m.length = static_cast<std::uint16_t>(get16(bytes.data() + 2));
    m.export_time = get32(bytes.data() + 4);
    m.sequence = get32(bytes.data() + 8);
    m.odid = get32(bytes.data() + 12);
    if (m.length != bytes.size()) {
        throw std::runtime_error("message length mismatch");
    }
    std::size_t at = 16;
    while (at < bytes.size()) {
        if (at + 4 > bytes.size()) {
            throw std::runtime_error("short set header");
        }
        ParsedSet set;
        set.id = static_cast<std::uint16_t>(get16(bytes.data() + at));
        const std::size_t len = get16(bytes.data() + at + 2);
        if (len <= 4 || at + len > bytes.size()) {
            throw std::runtime_error("bad set length");
        }
        set.body.assign(bytes.begin() + at + 4, bytes.begin() + at + len);
        m.sets.push_back(std::move(set));
        at += len;
    }
    return m;
}

/// Splits a stream (file or TCP bytes) into Messages by their Length fields.
inline std::vector<ParsedMessage> parse_stream(std::span<const std::byte> bytes) {
    std::vector<ParsedMessage> out;
    std::size_t at = 0;
    while (at + 16 <= bytes.size()) {
        const std::size_t len = get16(bytes.data() + at + 2);
        if (len < 16 || at + len > bytes.size()) {
            throw std::runtime_error("bad message length in stream");
        }
        out.push_back(parse_message(bytes.subspan(at, len)));
        at += len;
    }
    if (at != bytes.size()) {
        throw std::runtime_error("trailing bytes in stream");
    }
    return out;
}

inline std::vector<ParsedTemplate> parse_templates(const ParsedSet& set) {
    std::vector<ParsedTemplate> out;
    const std::byte* p = set.body.data();
    const std::byte* end = p + set.body.size();
    while (p + 4 <= end) {
        ParsedTemplate t;
        t.id = static_cast<std::uint16_t>(get16(p));
        const std::size_t count = get16(p + 2);
        p += 4;
        if (set.id == 3 && count != 0) {
            t.scope = static_cast<std::uint16_t>(get16(p));
            p += 2;
        }
        for (std::size_t i = 0; i < count; ++i) {
            ipfix::FieldSpec f;
            const std::uint32_t raw = get16(p);
            f.id = static_cast<std::uint16_t>(raw & 0x7FFF);
            f.length = static_cast<std::uint16_t>(get16(p + 2));
            p += 4;
            if ((raw & 0x8000) != 0) {
                f.enterprise = get32(p);
                p += 4;
            }
            t.fields.push_back(f);
        }
        out.push_back(std::move(t));
    }
    return out;
}

/// The field values of each Data Record of set, decoded with fields.
inline std::vector<std::vector<std::string>> parse_records(
    const ParsedSet& set, const std::vector<ipfix::FieldSpec>& fields) {
    std::vector<std::vector<std::string>> out;
    const std::byte* p = set.body.data();
    const std::byte* end = p + set.body.size();
    while (p < end) {
        std::vector<std::string> values;
        for (const ipfix::FieldSpec& f : fields) {
            std::size_t len = f.length;
            if (f.is_variable()) {
                len = std::size_t(p[0]);
                p += 1;
                if (len == 255) {
                    len = get16(p);
                    p += 2;
                }
            }
            if (p + len > end) {
                throw std::runtime_error("record overruns set");
            }
            values.emplace_back(reinterpret_cast<const char*>(p), len);
            p += len;
        }
        out.push_back(std::move(values));
    }
    return out;
}

/// Replays a stream of Messages the way a Collector would: templates by (odid, id), and every
/// Data Record with its Template. Withdrawals remove, redefinitions replace.
struct Replay {
    struct Record {
        std::uint32_t odid = 0;
        std::uint16_t template_id = 0;
        std::vector<ipfix::FieldSpec> fields;
        std::vector<std::string> values;
    };
    std::map<std::pair<std::uint32_t, std::uint16_t>, ParsedTemplate> templates;
    std::vector<Record> records;
    std::vector<ParsedTemplate> template_log;  ///< every Template and withdrawal, in order
    std::size_t missing_template = 0;

    void feed(const ParsedMessage& m) {
        for (const ParsedSet& set : m.sets) {
            if (set.id == 2 || set.id == 3) {
                for (ParsedTemplate& t : parse_templates(set)) {
                    template_log.push_back(t);
                    if (t.withdrawal()) {
                        templates.erase({m.odid, t.id});
                    } else {
                        templates[{m.odid, t.id}] = t;
                    }
                }
                continue;
            }
            auto it = templates.find({m.odid, set.id});
            if (it == templates.end()) {
                ++missing_template;
                continue;
            }
            for (auto& values : parse_records(set, it->second.fields)) {
                records.push_back({m.odid, set.id, it->second.fields, std::move(values)});
            }
        }
    }
};

}  // namespace malfix::test
