#pragma once

// Test-only builder of IPFIX Messages. It fills in every length by default and lets a test
// override any of them, so malformed Messages are as easy to write as good ones.

#include "ipfix/template.hpp"

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace malfix::ipfix::test {

/// Big-endian byte appender; the base of records, lists and whole Messages. Self is the
/// derived type, so calls chain without losing it.
template <typename Self>
class ByteAppender {
public:
    Self& uint(std::uint64_t value, std::size_t width) {
        for (std::size_t i = width; i > 0; --i) {
            bytes_.push_back(static_cast<std::byte>(value >> (8 * (i - 1))));
        }
        return self();
    }
    Self& u8(std::uint64_t value) { return uint(value, 1); }
    Self& u16(std::uint64_t value) { return uint(value, 2); }
    Self& u32(std::uint64_t value) { return uint(value, 4); }
    Self& u64(std::uint64_t value) { return uint(value, 8); }

    Self& raw(std::span<const std::byte> data) {
        bytes_.insert(bytes_.end(), data.begin(), data.end());
        return self();
    }
    template <typename Other>
    Self& raw(const ByteAppender<Other>& other) {
        return raw(std::span<const std::byte>(other.bytes()));
    }
    Self& text(std::string_view s) {
        return raw(std::as_bytes(std::span<const char>(s.data(), s.size())));
    }
    Self& zeros(std::size_t n) {
        bytes_.insert(bytes_.end(), n, std::byte{0});
        return self();
    }
    Self& ipv4(const char* dotted) {
        in_addr a{};
        inet_pton(AF_INET, dotted, &a);
        return raw(std::as_bytes(std::span<const in_addr>(&a, 1)));
    }
    Self& ipv6(const char* text_form) {
        in6_addr a{};
        inet_pton(AF_INET6, text_form, &a);
        return raw(std::as_bytes(std::span<const in6_addr>(&a, 1)));
    }

    /// Variable-length value (RFC 7011 §7): one length byte below 255, else 255 and two bytes.
    /// long_form forces the three-byte prefix even for short values.
    Self& varlen(std::span<const std::byte> data, bool long_form = false) {
        if (long_form || data.size() >= 255) {
            u8(255).u16(data.size());
        } else {
            u8(data.size());
        }
        return raw(data);
    }
    template <typename Other>
    Self& varlen(const ByteAppender<Other>& other, bool long_form = false) {
        return varlen(std::span<const std::byte>(other.bytes()), long_form);
    }
    Self& varlen_text(std::string_view s, bool long_form = false) {
        return varlen(std::as_bytes(std::span<const char>(s.data(), s.size())), long_form);
    }

    /// Field Specifiers (RFC 7011 §3.2), enterprise bit set when enterprise != 0.
    Self& field_specs(std::initializer_list<FieldSpec> fields) {
        for (const FieldSpec& f : fields) {
            if (f.enterprise != 0) {
                u16(f.id | 0x8000U).u16(f.length).u32(f.enterprise);
            } else {
                u16(f.id).u16(f.length);
            }
        }
        return self();
    }

    const std::vector<std::byte>& bytes() const { return bytes_; }
    std::size_t size() const { return bytes_.size(); }

protected:
    Self& self() { return static_cast<Self&>(*this); }
    void put16_at(std::size_t offset, std::uint16_t value) {
        bytes_[offset] = static_cast<std::byte>(value >> 8);
        bytes_[offset + 1] = static_cast<std::byte>(value);
    }
    void put16_at(std::size_t offset, std::size_t value) {
        put16_at(offset, static_cast<std::uint16_t>(value));
    }

    std::vector<std::byte> bytes_;
};

class ByteBuffer : public ByteAppender<ByteBuffer> {};

/// subTemplateList content (RFC 6313 §4.5.2): semantic, Template ID, records.
inline ByteBuffer sub_template_list(std::uint16_t template_id, const ByteBuffer& records,
                                    std::uint8_t semantic = 3) {
    ByteBuffer list;
    list.u8(semantic).u16(template_id).raw(records);
    return list;
}

/// One subTemplateMultiList entry (RFC 6313 §4.5.3): Template ID, Length incl. header, records.
/// length overrides the computed Length.
inline ByteBuffer stml_entry(std::uint16_t template_id, const ByteBuffer& records,
                             std::optional<std::uint16_t> length = {}) {
    ByteBuffer entry;
    entry.u16(template_id).u16(length.value_or(static_cast<std::uint16_t>(records.size() + 4)));
    entry.raw(records);
    return entry;
}

/// A Message: header, then Sets opened with begin_set() and closed with end_set().
class MessageBuilder : public ByteAppender<MessageBuilder> {
public:
    explicit MessageBuilder(std::uint32_t domain = 1, std::uint32_t sequence = 0,
                            std::uint32_t export_time = 1'700'000'000) {
        u16(10).u16(0).u32(export_time).u32(sequence).u32(domain);
    }

    MessageBuilder& version(std::uint16_t v) {
        put16_at(0, v);
        return *this;
    }
    /// Writes this value into the Length field instead of the real length.
    MessageBuilder& message_length(std::uint16_t length) {
        length_override_ = length;
        return *this;
    }

    MessageBuilder& begin_set(std::uint16_t set_id) {
        end_set();
        set_start_ = size();
        u16(set_id).u16(0);
        return *this;
    }
    /// Writes this value into the current Set's Length field instead of the real length.
    MessageBuilder& set_length(std::uint16_t length) {
        set_length_override_ = length;
        return *this;
    }
    MessageBuilder& end_set() {
        if (set_start_) {
            put16_at(*set_start_ + 2, set_length_override_.value_or(
                                          static_cast<std::uint16_t>(size() - *set_start_)));
        }
        set_start_.reset();
        set_length_override_.reset();
        return *this;
    }

    MessageBuilder& template_record(std::uint16_t id, std::initializer_list<FieldSpec> fields) {
        u16(id).u16(fields.size());
        field_specs(fields);
        return *this;
    }
    MessageBuilder& options_template_record(std::uint16_t id, std::uint16_t scope_count,
                                            std::initializer_list<FieldSpec> fields) {
        u16(id).u16(fields.size()).u16(scope_count);
        field_specs(fields);
        return *this;
    }
    /// Template Withdrawal record (RFC 7011 §8.1): the ID and a Field Count of 0.
    MessageBuilder& withdrawal(std::uint16_t id) {
        u16(id).u16(0);
        return *this;
    }

    MessageBuilder& data(const ByteBuffer& record) {
        raw(record);
        return *this;
    }

    std::vector<std::byte> build() {
        end_set();
        put16_at(2, length_override_.value_or(static_cast<std::uint16_t>(size())));
        return bytes_;
    }

private:
    std::optional<std::size_t> set_start_;
    std::optional<std::uint16_t> set_length_override_;
    std::optional<std::uint16_t> length_override_;
};

}  // namespace malfix::ipfix::test
