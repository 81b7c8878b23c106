#include "intel/trail_parser.hpp"

#include <algorithm>
#include <charconv>

namespace malfix::intel {
namespace {

constexpr std::string_view kRegexChars = "()*\\[]^$?|+{}";

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

bool all_of(std::string_view text, bool (*pred)(char)) {
    return !text.empty() && std::all_of(text.begin(), text.end(), pred);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_digit_or_dot(char c) {
    return is_digit(c) || c == '.';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_ipv6_char(char c) {
    return is_hex(c) || c == ':' || c == '.';
}
bool is_scheme_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' ||
           c == '-' || c == '.';
}

template <typename T>
std::optional<T> parse_decimal(std::string_view text, T max) {
    if (!all_of(text, is_digit) || text.size() > 5) {
        return std::nullopt;
    }
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value > max) {
        return std::nullopt;
    }
    return static_cast<T>(value);
}

ParsedTrail skipped(std::string_view reason) {
    ParsedTrail out;
    out.line_class = LineClass::kSkipped;
    out.reason = reason;
    return out;
}

ParsedTrail bad(std::string_view reason) {
    ParsedTrail out;
    out.line_class = LineClass::kBad;
    out.reason = reason;
    return out;
}

ParsedTrail address_trail(IndicatorKind kind, std::string& scratch) {
    ParsedTrail out;
    out.line_class = LineClass::kTrail;
    out.kind = kind;
    out.text = scratch;
    return out;
}

ParsedTrail ipv4_trail(std::uint32_t addr, std::string& scratch) {
    scratch.clear();
    append_ipv4(scratch, addr);
    ParsedTrail out = address_trail(IndicatorKind::kIp, scratch);
    out.v4 = addr;
    return out;
}

ParsedTrail ipv6_trail(const std::array<std::uint8_t, 16>& addr, std::string& scratch) {
    scratch.clear();
    append_ipv6(scratch, addr);
    ParsedTrail out = address_trail(IndicatorKind::kIp, scratch);
    out.v6 = true;
    out.v6_addr = addr;
    return out;
}

ParsedTrail with_port(ParsedTrail trail, std::uint16_t port, std::string& scratch) {
    if (trail.v6) {
        scratch.insert(scratch.begin(), '[');
        scratch.push_back(']');
    }
    scratch.push_back(':');
    scratch.append(std::to_string(port));
    trail.kind = IndicatorKind::kIpPort;
    trail.port = port;
    trail.text = scratch;
    return trail;
}

ParsedTrail domain_trail(std::string_view host, std::string& scratch) {
    scratch.clear();
    std::string_view rest = host;
    while (!rest.empty()) {
        const std::size_t dot = rest.find('.');
        const std::string_view label = rest.substr(0, dot);
        if (!label_to_ascii(label, scratch)) {
            return bad("invalid UTF-8 in name");
        }
        if (dot == std::string_view::npos) {
            break;
        }
        scratch.push_back('.');
        rest.remove_prefix(dot + 1);
    }
    // normalize_domain only shortens, so it can work in place.
    scratch.resize(normalize_domain(scratch, scratch.data(), scratch.size()));
    if (scratch.empty()) {
        return bad("empty name");
    }
    if (scratch.size() > kMaxDomainLength) {
        return bad("name longer than 253 characters");
    }
    std::size_t label_length = 0;
    for (char c : scratch) {
        if (c == '.') {
            if (label_length == 0) {
                return bad("empty label");
            }
            label_length = 0;
            continue;
        }
        // Underscores are not host-name characters but occur in real names (_dmarc, SRV).
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_')) {
            return bad("invalid character in name");
        }
        if (++label_length > 63) {
            return bad("label longer than 63 characters");
        }
    }
    ParsedTrail out;
    out.line_class = LineClass::kTrail;
    out.kind = IndicatorKind::kDomain;
    out.text = scratch;
    return out;
}

// "[v6]:port" or "[v6]"; anything else in brackets is a regex character class.
ParsedTrail bracketed(std::string_view text, std::string& scratch) {
    const std::size_t close = text.find(']');
    const std::string_view inner = text.substr(1, close == std::string_view::npos ? 0 : close - 1);
    if (close == std::string_view::npos || !all_of(inner, is_ipv6_char) ||
        inner.find(':') == std::string_view::npos) {
        return skipped("regex");
    }
    const auto addr = parse_ipv6(inner);
    if (!addr) {
        return bad("bad IPv6 address");
    }
    const std::string_view after = text.substr(close + 1);
    if (after.empty()) {
        return ipv6_trail(*addr, scratch);
    }
    const auto port =
        after[0] == ':' ? parse_decimal<std::uint16_t>(after.substr(1), 65535) : std::nullopt;
    if (!port) {
        return bad("bad port");
    }
    return with_port(ipv6_trail(*addr, scratch), *port, scratch);
}

ParsedTrail cidr(std::string_view host, std::string_view length, std::string& scratch) {
    ParsedTrail out;
    if (const auto v4 = parse_ipv4(host)) {
        const auto prefix = parse_decimal<std::uint8_t>(length, 32);
        if (!prefix) {
            return bad("CIDR prefix length out of range");
        }
        // Host bits are dropped so "10.1.2.3/8" and "10.0.0.0/8" are one network.
        const std::uint32_t mask = *prefix == 0 ? 0 : 0xFFFFFFFFU << (32 - *prefix);
        out = ipv4_trail(*v4 & mask, scratch);
        out.prefix = *prefix;
    } else if (const auto v6 = parse_ipv6(host)) {
        const auto prefix = parse_decimal<std::uint8_t>(length, 128);
        if (!prefix) {
            return bad("CIDR prefix length out of range");
        }
        std::array<std::uint8_t, 16> network = *v6;
        for (unsigned bit = *prefix; bit < 128; ++bit) {
            network[bit / 8] &= static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
        }
        out = ipv6_trail(network, scratch);
        out.prefix = *prefix;
    } else {
        return bad(host.find(':') != std::string_view::npos ? "bad IPv6 address"
                                                            : "bad IPv4 address");
    }
    scratch.push_back('/');
    scratch.append(std::to_string(out.prefix));
    out.kind = IndicatorKind::kCidr;
    out.text = scratch;
    return out;
}

// A host with at most a port: what is left of a trail once scheme and path are gone.
ParsedTrail host_trail(std::string_view host, std::string& scratch) {
    const std::size_t colons = static_cast<std::size_t>(std::count(host.begin(), host.end(), ':'));
    if (colons >= 2) {
        const auto addr = parse_ipv6(host);
        if (addr) {
            return ipv6_trail(*addr, scratch);
        }
        // "1.2.3.4:22:443" style lines: an address with more than one port.
        return bad(parse_ipv4(host.substr(0, host.find(':'))) ? "more than one port"
                                                              : "bad IPv6 address");
    }
    std::string_view port_text;
    if (colons == 1) {
        const std::size_t colon = host.find(':');
        port_text = host.substr(colon + 1);
        host = host.substr(0, colon);
    }
    const auto port = parse_decimal<std::uint16_t>(port_text, 65535);
    if (colons == 1 && !port) {
        return bad("bad port");
    }
    if (all_of(host, is_digit_or_dot)) {
        const auto addr = parse_ipv4(host);
        if (!addr) {
            return bad("bad IPv4 address");
        }
        ParsedTrail out = ipv4_trail(*addr, scratch);
        return port ? with_port(out, *port, scratch) : out;
    }
    // A port on a name does not narrow a DNS match, so the name alone is the trail.
    return domain_trail(host, scratch);
}

std::string_view strip_scheme(std::string_view text, bool& had_scheme) {
    const std::size_t sep = text.find("://");
    if (sep == std::string_view::npos || !all_of(text.substr(0, sep), is_scheme_char)) {
        return text;
    }
    had_scheme = true;
    return text.substr(sep + 3);
}

}  // namespace

ParsedTrail parse_trail_line(std::string_view line, std::string& scratch) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) {
        return {};
    }
    bool had_scheme = false;
    std::string_view text = strip_scheme(line, had_scheme);
    if (text.empty()) {
        return bad("URL without host");
    }
    if (text.front() == '[') {
        return bracketed(text, scratch);
    }
    const std::size_t slash = text.find('/');
    // Regex characters in a path are ordinary URL characters ('?' starts a query).
    if (text.substr(0, slash).find_first_of(kRegexChars) != std::string_view::npos) {
        return skipped("regex");
    }
    if (text.substr(0, slash).find_first_of(" \t") != std::string_view::npos) {
        return bad("space inside trail");
    }
    if (slash != std::string_view::npos) {
        const std::string_view host = text.substr(0, slash);
        const std::string_view path = text.substr(slash + 1);
        if (host.empty()) {
            return skipped("URL path");
        }
        const bool address_like = all_of(host, is_digit_or_dot) ||
                                  (all_of(host, is_ipv6_char) && host.find(':') != host.npos);
        if (!had_scheme && all_of(path, is_digit) && address_like) {
            return cidr(host, path, scratch);
        }
        if (!path.empty()) {
            return skipped("URL");
        }
        text = host;
    }
    return host_trail(text, scratch);
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
    std::uint32_t addr = 0;
    for (int part = 0; part < 4; ++part) {
        const std::size_t dot = text.find('.');
        if ((part < 3) == (dot == std::string_view::npos)) {
            return std::nullopt;
        }
        const std::string_view digits = text.substr(0, dot);
        if (digits.size() > 3) {
            return std::nullopt;
        }
        const auto value = parse_decimal<std::uint8_t>(digits, 255);
        if (!value) {
            return std::nullopt;
        }
        addr = (addr << 8) | *value;
        text.remove_prefix(part < 3 ? dot + 1 : text.size());
    }
    return addr;
}

std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view text) {
    std::array<std::uint16_t, 8> groups{};
    int count = 0;
    int gap = -1;  // index where "::" stands
    if (text.starts_with("::")) {
        gap = 0;
        text.remove_prefix(2);
    }
    while (!text.empty()) {
        const std::size_t colon = text.find(':');
        const std::string_view part = text.substr(0, colon);
        if (colon == std::string_view::npos && part.find('.') != std::string_view::npos) {
            const auto v4 = parse_ipv4(part);
            if (!v4 || count > 6) {
                return std::nullopt;
            }
            groups[count++] = static_cast<std::uint16_t>(*v4 >> 16);
            groups[count++] = static_cast<std::uint16_t>(*v4 & 0xFFFF);
            break;
        }
        if (part.empty() || part.size() > 4 || !all_of(part, is_hex) || count == 8) {
            return std::nullopt;
        }
        unsigned value = 0;
        std::from_chars(part.data(), part.data() + part.size(), value, 16);
        groups[count++] = static_cast<std::uint16_t>(value);
        if (colon == std::string_view::npos) {
            break;
        }
        text.remove_prefix(colon + 1);
        if (!text.empty() && text.front() == ':') {
            if (gap >= 0) {
                return std::nullopt;
            }
            gap = count;
            text.remove_prefix(1);
        } else if (text.empty()) {
            return std::nullopt;  // a single trailing colon
        }
    }
    if ((gap < 0 && count != 8) || (gap >= 0 && count > 7)) {
        return std::nullopt;
    }
    std::array<std::uint8_t, 16> out{};
    const int shift = gap < 0 ? 0 : 8 - count;
    for (int i = 0; i < count; ++i) {
        const int slot = (gap >= 0 && i >= gap) ? i + shift : i;
        out[2 * slot] = static_cast<std::uint8_t>(groups[i] >> 8);
        out[2 * slot + 1] = static_cast<std::uint8_t>(groups[i] & 0xFF);
    }
    return out;
}

void append_ipv4(std::string& out, std::uint32_t host_order) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.append(std::to_string((host_order >> shift) & 0xFF));
        if (shift > 0) {
            out.push_back('.');
        }
    }
}

void append_ipv6(std::string& out, const std::array<std::uint8_t, 16>& addr) {
    std::array<std::uint16_t, 8> groups{};
    for (int i = 0; i < 8; ++i) {
        groups[i] = static_cast<std::uint16_t>(addr[2 * i] << 8 | addr[2 * i + 1]);
    }
    // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
    const bool mapped =
        std::all_of(groups.begin(), groups.begin() + 5, [](std::uint16_t g) { return g == 0; }) &&
        groups[5] == 0xFFFF;
    const int words = mapped ? 6 : 8;
    // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first on a tie.
    int best = -1;
    int best_length = 1;
    for (int i = 0; i < words;) {
        int j = i;
        while (j < words && groups[j] == 0) {
            ++j;
        }
        if (j - i > best_length) {
            best = i;
            best_length = j - i;
        }
        i = j == i ? i + 1 : j;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < words; ++i) {
        if (i == best) {
            out.append(i == 0 ? "::" : ":");
            i += best_length - 1;
            continue;
        }
        char digits[4];
        int n = 0;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const int nibble = (groups[i] >> shift) & 0xF;
            if (n > 0 || nibble != 0 || shift == 0) {
                digits[n++] = kHex[nibble];
            }
        }
        out.append(digits, static_cast<std::size_t>(n));
        if (i + 1 < words) {
            out.push_back(':');
        }
    }
    if (mapped) {
        if (out.back() != ':') {
            out.push_back(':');
        }
        append_ipv4(out, static_cast<std::uint32_t>(groups[6]) << 16 | groups[7]);
    }
}

}  // namespace malfix::intel
