#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace malfix::ipfix {

/// Loads a big-endian (network order, RFC 7011 §6.1) integer. The caller guarantees the bytes.
inline std::uint16_t load_be16(const std::byte* p) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                      std::to_integer<unsigned>(p[1]));
}

inline std::uint32_t load_be32(const std::byte* p) {
    return (std::uint32_t{load_be16(p)} << 16) | load_be16(p + 2);
}

inline std::uint64_t load_be64(const std::byte* p) {
    return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

/// Decodes an unsigned integer of 1 to 8 bytes. Reduced-size encoding (RFC 7011 §6.2) lets an
/// Exporter send an unsigned64 in fewer bytes, so the width comes from the Template, not from
/// the Information Element's type. Returns false for any other width.
inline bool load_be_uint(std::span<const std::byte> value, std::uint64_t& out) {
    if (value.empty() || value.size() > 8) {
        return false;
    }
    std::uint64_t v = 0;
    for (const std::byte b : value) {
        v = (v << 8) | std::to_integer<std::uint64_t>(b);
    }
    out = v;
    return true;
}

/// Bounds-checked forward reader over a byte span. Every read either succeeds completely or
/// fails without moving, so a failed read leaves offset() at the start of the faulty item.
class ByteReader {
public:
    explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}

    std::size_t offset() const { return offset_; }
    std::size_t remaining() const { return bytes_.size() - offset_; }
    bool empty() const { return offset_ == bytes_.size(); }
    /// The bytes not read yet.
    std::span<const std::byte> rest() const { return bytes_.subspan(offset_); }

    bool read_u8(std::uint8_t& out) {
        if (remaining() < 1) {
            return false;
        }
        out = std::to_integer<std::uint8_t>(bytes_[offset_]);
        offset_ += 1;
        return true;
    }

    bool read_u16(std::uint16_t& out) {
        if (remaining() < 2) {
            return false;
        }
        out = load_be16(bytes_.data() + offset_);
        offset_ += 2;
        return true;
    }

    bool read_u32(std::uint32_t& out) {
        if (remaining() < 4) {
            return false;
        }
        out = load_be32(bytes_.data() + offset_);
        offset_ += 4;
        return true;
    }

    bool read_bytes(std::size_t n, std::span<const std::byte>& out) {
        if (remaining() < n) {
            return false;
        }
        out = bytes_.subspan(offset_, n);
        offset_ += n;
        return true;
    }

    bool skip(std::size_t n) {
        if (remaining() < n) {
            return false;
        }
        offset_ += n;
        return true;
    }

    /// Reads a variable-length value (RFC 7011 §7): one length byte, or 255 followed by a
    /// two-byte length, then the value.
    bool read_varlen(std::span<const std::byte>& out) {
        const std::size_t start = offset_;
        std::uint8_t short_length = 0;
        if (!read_u8(short_length)) {
            return false;
        }
        std::size_t length = short_length;
        if (short_length == 255) {
            std::uint16_t long_length = 0;
            if (!read_u16(long_length)) {
                offset_ = start;
                return false;
            }
            length = long_length;
        }
        if (!read_bytes(length, out)) {
            offset_ = start;
            return false;
        }
        return true;
    }

private:
    std::span<const std::byte> bytes_;
    std::size_t offset_ = 0;
};

}  // namespace malfix::ipfix
